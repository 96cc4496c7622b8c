// One native error path (native/errors.h, native/async.h): a C++ exception reaches JS as the same
// TorchError class with the same message whether the call was synchronous or a promise settled off the
// JS thread; and the type-tagged handles (native/tagged_external.h) refuse a handle of another kind with
// the argument named, as before.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { thrown, rejected } from './helpers/errors';

const { nn, jit, data } = torch;

// Same class (not just a TorchError) and same message.
function expectSameError(sync: Error, async: Error, cls: new (...args: never[]) => Error, message: RegExp): void {
  expect(sync).toBeInstanceOf(cls);
  expect(sync.message).toMatch(message);
  expect(async.constructor).toBe(sync.constructor);
  expect(async.message).toBe(sync.message);
}

describe('async rejections keep the error class of the synchronous form', () => {
  it('a TorchScript run that raises NotImplementedError (jitRunAsync, on the compute thread)', async () => {
    class MatMul extends nn.Module {
      forward(x: torch.Tensor): torch.Tensor {
        return x.matmul(x);
      }
    }
    const m = jit.trace(new MatMul(), [torch.ones([2, 2])]);
    const b = torch.ones([2, 2]).bool(); // addmm has no Bool kernel on CPU
    const sync = thrown(() => m.forward(b));
    const async = await rejected(m.forwardAsync(b));
    expectSameError(sync, async, torch.TorchNotImplementedError, /not implemented for 'Bool'/);
    m.dispose();
    b.dispose();
  });

  it('a gather of a batch with an index out of range (DataLoader: dataGather, the prefetch job, dataGatherAsync)', async () => {
    const ds = new data.TensorDataset(torch.arange(10).reshape(5, 2).float(), torch.arange(5));
    // A sampler that names a sample the dataset does not have: LibTorch's index_select raises IndexError.
    const sampler = {
      length: 2,
      *[Symbol.iterator]() {
        yield 0;
        yield 9;
      },
    };
    const first = (loader: torch.data.DataLoader) =>
      thrown(() => {
        for (const batch of loader) batch.forEach((t) => t.dispose());
      });
    const onJsThread = first(new data.DataLoader(ds, { batchSize: 2, sampler, prefetch: false }));
    const prefetched = first(new data.DataLoader(ds, { batchSize: 2, sampler }));
    const async = await rejected(
      (async () => {
        for await (const batch of new data.DataLoader(ds, { batchSize: 2, sampler })) batch.forEach((t) => t.dispose());
      })(),
    );
    expectSameError(onJsThread, prefetched, torch.TorchIndexError, /index out of range/);
    expectSameError(onJsThread, async, torch.TorchIndexError, /index out of range/);
    ds.data.dispose();
    ds.targets.dispose();
  });

  it('an allocation that fails inside a TorchScript run', async () => {
    // repeat_interleave's output size comes from the repeats' values: 2^50 int64 indices are 8 PiB, which
    // the allocator refuses at once. On CPU LibTorch's DefaultCPUAllocator throws a plain c10::Error
    // (so a TorchError, not a TorchOutOfMemoryError); whichever it is, both forms must agree.
    class Repeat extends nn.Module {
      forward(x: torch.Tensor, r: torch.Tensor): torch.Tensor {
        return x.repeatInterleave(r);
      }
    }
    const m = jit.trace(new Repeat(), [torch.tensor([1.0]), torch.tensor([2])]);
    const [x, r] = [torch.tensor([1.0]), torch.tensor([2 ** 50])];
    const sync = thrown(() => m.forward(x, r));
    const async = await rejected(m.forwardAsync(x, r));
    expectSameError(sync, async, torch.TorchError, /allocate/);
    m.dispose();
    x.dispose();
    r.dispose();
  });
});

describe('type-tagged handles', () => {
  // The addon itself (the module lib/ loaded: same path, so require's cache gives the same exports).
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => Record<string, (...args: unknown[]) => unknown>;
  const addon = nodeGypBuild(path.resolve(__dirname, '..'));

  it("each kind accepts its own handles and refuses another kind's, naming the argument", () => {
    const generator = addon.dataGenerator(7);
    const perm = addon.dataRandperm(4, generator); // the generator's own tag passes
    expect(typeof perm).toBe('bigint');
    addon.dispose(perm);

    const x = torch.arange(3).float().requiresGrad_();
    const y = x.mul(2);
    const node = addon.gradFnNode(y.handle);
    expect((addon.nodeInfo(node) as { name: string }).name).toMatch(/Mul/);

    const cases: [() => unknown, string][] = [
      [() => addon.dataGatherWait(generator), 'argument 0 must be a gather job'],
      [() => addon.dataGatherReady({}), 'argument 0 must be a gather job'],
      [() => addon.dataRandperm(4, node), 'argument 1 must be a generator'],
      [() => addon.dataGeneratorState(42), 'argument 0 must be a generator'],
      [() => addon.nodeInfo(generator), 'argument 0 must be a grad_fn node handle'],
      [() => addon.jitMethodNames(node), 'argument 0 must be a ScriptModule handle'],
      [() => addon.serRelease(generator), 'argument 0 must be an archive from serRead'],
      [() => addon.aotiDispose(generator), 'argument 0 must be an AOTInductor package handle'],
      [() => addon.cudaEventQuery(generator), 'argument 0 must be a torch.cuda.Event handle'],
      [() => addon.distDestroy(generator), 'argument 0 must be a process group handle'],
      [() => addon.ddpDispose(generator), 'argument 0 must be a DDP reducer handle'],
    ];
    for (const [call, message] of cases) {
      const e = thrown(call);
      expect(e, message).toBeInstanceOf(TypeError);
      expect(e.message).toBe(message);
    }
    x.dispose();
    y.dispose();
  });
});
