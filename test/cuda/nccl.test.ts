// NCCL on the GPU machine (issue 8): a process group of one over LibTorch's ProcessGroupNCCL. Apart from
// test/distributed.test.ts (Gloo, CPU) so that the GPU run reaches it in seconds. Skipped elsewhere,
// saying why.
import { describe, expect, it } from 'vitest';
import * as torch from '../../lib/index';
import { freePort } from '../helpers/child';

const dist = torch.distributed;
const ncclReason = !torch.cuda.isAvailable()
  ? 'CUDA is not available on this machine'
  : !dist.isNcclAvailable()
    ? 'this build has no NCCL (nccl.h was not found)'
    : null;
if (ncclReason) console.log(`test/cuda/nccl: skipped: ${ncclReason} (it runs on the GPU machine)`);

describe.skipIf(ncclReason !== null)('NCCL', () => {
  it('a group of one on CUDA: allReduce, broadcast, and a DDP step', async () => {
    await dist.initProcessGroup({ backend: 'nccl', initMethod: `tcp://127.0.0.1:${await freePort()}`, rank: 0, worldSize: 1 });
    try {
      expect(dist.getBackend()).toBe('nccl');
      const x = torch.tensor([1.5, -2], { device: 'cuda' });
      expect(dist.allReduce(x).cpu().toArray()).toEqual([1.5, -2]);
      expect(dist.broadcast(x).cpu().toArray()).toEqual([1.5, -2]);
      const model = new torch.nn.Linear(4, 2).to('cuda');
      const ddp = new torch.nn.parallel.DistributedDataParallel(model);
      torch.scope(() =>
        ddp(torch.ones([3, 4], { device: 'cuda' }))
          .sum()
          .backward(),
      );
      expect(model.weight.grad!.cpu().toArray()).toEqual(torch.full([2, 4], 3).toArray());
      ddp.dispose();
    } finally {
      dist.destroyProcessGroup();
    }
  });
});
