// CUDA allocator statistics and flat GPU memory (issue 6), on the GPU machine. Alone in this file so
// that the counts are exact: vitest runs each file in its own process, so no tensor from another test
// can be finalized (and its memory freed) between two readings. Skipped elsewhere, saying why.
import { describe, expect, it } from 'vitest';
import * as torch from '../../lib/index';

const { cuda, nn, optim, models } = torch;
const F = nn.functional;
const hasCuda = cuda.isAvailable();
if (!hasCuda) console.log('test/cuda/memory: skipped: CUDA is not available on this machine (these tests run on the GPU machine)');

/** An SE-ResNet-18 (cifar stem) of `width` on CUDA, SGD with momentum, and one batch of `batch` 32×32 images. */
function training(width: number, batch: number) {
  torch.manualSeed(0);
  const model = models.seResNet18({ numClasses: 10, width, stem: 'cifar' }).to('cuda');
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.randn([batch, 3, 32, 32], { device: 'cuda' });
  const y = torch.randint(0, 10, [batch], { device: 'cuda' });
  return { model, opt, x, y };
}

describe.skipIf(!hasCuda)('CUDA memory', () => {
  it('allocator statistics follow allocations; emptyCache returns cached blocks', () => {
    cuda.synchronize();
    cuda.emptyCache(); // no cached block bigger than asked for can serve the allocation below
    const before = cuda.memoryAllocated();
    cuda.resetPeakMemoryStats();
    const t = torch.empty([1024, 1024], { device: 'cuda' }); // 4 MiB
    expect(cuda.memoryAllocated() - before).toBe(4 * 1024 * 1024);
    expect(cuda.maxMemoryAllocated()).toBeGreaterThanOrEqual(before + 4 * 1024 * 1024);
    expect(cuda.memoryReserved()).toBeGreaterThanOrEqual(cuda.memoryAllocated());
    t.dispose();
    expect(cuda.memoryAllocated()).toBe(before);
    const reserved = cuda.memoryReserved();
    cuda.emptyCache();
    expect(cuda.memoryReserved()).toBeLessThan(reserved);
    const [free, total] = cuda.memGetInfo();
    expect(free).toBeGreaterThan(0);
    expect(total).toBeGreaterThan(free);
  });

  it('GPU memory is flat: memoryAllocated after step 2000 equals that after step 100', () => {
    const { model, opt, x, y } = training(8, 16);
    let at100 = -1;
    for (let step = 1; step <= 2000; step++) {
      opt.zeroGrad();
      torch.scope(() => F.crossEntropy(model(x), y).backward());
      opt.step();
      if (step === 100) at100 = cuda.memoryAllocated();
    }
    cuda.synchronize();
    expect(at100).toBeGreaterThan(0);
    expect(cuda.memoryAllocated()).toBe(at100);
  }, 300_000);

  it('the loop written without scope or dispose keeps GPU memory bounded too (V8 is told the GPU bytes)', () => {
    const { model, opt, x, y } = training(16, 64);
    let at20 = -1;
    let peak = 0;
    (() => {
      for (let step = 1; step <= 1000; step++) {
        opt.zeroGrad();
        const loss = F.crossEntropy(model(x), y);
        loss.backward();
        opt.step();
        if (step === 20) at20 = cuda.memoryAllocated();
        if (step > 20) peak = Math.max(peak, cuda.memoryAllocated());
      }
    })();
    cuda.synchronize();
    expect(at20).toBeGreaterThan(0);
    // one step's activations at this size are tens of MB; without the collector acting on GPU bytes the
    // growth is that per step, gigabytes over 1000 steps
    expect(peak - at20).toBeLessThan(512 * 2 ** 20);
  }, 300_000);
});
