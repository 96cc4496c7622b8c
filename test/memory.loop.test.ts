// A loop written as in PyTorch — no torch.scope, no dispose(), no await — stays flat: a tensor nothing
// references any more is released when the garbage collector takes it, during the collection itself
// (native/collector.cc), not when the event loop next turns. Each loop runs in a fresh child process,
// so its RSS is its own. The step time against a scoped loop is a benchmark's business
// (scripts/bench/memory.js); these tests assert memory only.
import { describe, expect, it } from 'vitest';
import { childPool, type ChildResult } from './helpers/child';

// Bodies run inside an async function with torch in scope; `sample(i)` records RSS after the
// 20-step warm-up; `settled()` is torch.memory() after a full collection (the handles still alive; the
// await lets the last tensors made join the collector first). The loops themselves never await; each
// runs in a function of its own, so that once it returns nothing of it is referenced (V8 may keep a
// block's last values in its frame while the frame lives).
const { bodies, run } = childPool(
  (body) => `
const F = torch.nn.functional;
const rss = () => process.memoryUsage().rss;
let base = 0, peak = 0;
const sample = (i) => { if (i === 20) base = peak = rss(); else if (i > 20) peak = Math.max(peak, rss()); };
const settled = async () => { await null; global.gc(); global.gc(); return torch.memory().handles; };
(async () => {
${body}
console.log(JSON.stringify({ growthMB: (peak - base) / 2 ** 20, ...result }));
})().catch((e) => { console.error(e); process.exitCode = 1; });
`,
  { nodeArgs: ['--expose-gc'], timeoutMs: 300_000 },
);

interface LoopResult {
  growthMB: number;
  kept: number;
  before: number;
  after: number;
}

function result(r: ChildResult): LoopResult {
  expect(r.signal, `child killed by ${r.signal}: ${r.stderr.slice(-2000)}`).toBeNull();
  expect(r.status, `child exited ${r.status}: ${r.stderr.slice(-2000)}`).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LoopResult;
}

// seResNet18 (cifar stem, width 16), batch 8 of 32×32: the measurement (+2.36 GB over 200
// steps before, 108 handles more per step).
const MODEL = `
torch.manualSeed(0);
const model = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: 16 });
const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
`;

bodies.set(
  'train',
  `${MODEL}
const x = torch.randn(8, 3, 32, 32), y = torch.randint(0, 10, [8]);
const step = () => { opt.zeroGrad(); const loss = F.crossEntropy(model(x), y); loss.backward(); opt.step(); };
step();
const before = await settled();
(() => {
  for (let i = 0; i < 300; i++) {
    opt.zeroGrad(); const loss = F.crossEntropy(model(x), y); loss.backward(); opt.step();
    sample(i);
  }
})();
// what must stay: parameters, buffers, a momentum buffer per parameter, x and y
const kept = model.parameters().length + model.buffers().length + model.parameters().length + 2;
const result = { kept, before, after: await settled() };
`,
);

bodies.set(
  'loader',
  `${MODEL}
const data = new torch.data.TensorDataset(torch.randn(320, 3, 32, 32), torch.randint(0, 10, [320]));
const loader = new torch.data.DataLoader(data, { batchSize: 8, shuffle: true });
(() => {
  let i = 0;
  for (let epoch = 0; epoch < 8; epoch++) {
    for (const [x, y] of loader) {
      opt.zeroGrad(); const loss = F.crossEntropy(model(x), y); loss.backward(); opt.step();
      sample(i++);
    }
  }
})();
// the dataset's two tensors stay
const kept = 2 * model.parameters().length + model.buffers().length + 2;
const result = { kept, before: kept, after: await settled() };
`,
);

bodies.set(
  'inference',
  `${MODEL}
model.eval();
const x = torch.randn(32, 3, 32, 32);
let right = 0;
torch.noGrad(() => {
  for (let i = 0; i < 300; i++) {
    const probs = model(x).softmax(1);
    right += probs.argmax(1).eq(0).sum().item();
    sample(i);
  }
});
const kept = model.parameters().length + model.buffers().length + 1;
const result = { kept, before: kept, after: await settled(), right };
`,
);

describe('a loop written as in Python stays flat without scope, dispose or await', () => {
  it('training: 300 steps of seResNet18, zeroGrad / forward / loss / backward / step', async () => {
    const r = result(await run('train'));
    expect(r.growthMB, 'RSS growth after a 20-step warm-up').toBeLessThan(200);
    // After a collection only the model's and the optimizer's tensors (and x, y) are alive.
    expect(r.after).toBe(r.kept);
    expect(r.before).toBe(r.kept);
  }, 300_000);

  it('a for…of over a DataLoader (320 batches)', async () => {
    const r = result(await run('loader'));
    expect(r.growthMB).toBeLessThan(200);
    expect(r.after).toBe(r.kept);
  }, 300_000);

  it('inference under torch.noGrad: 300 forwards of a batch of 32', async () => {
    const r = result(await run('inference'));
    expect(r.growthMB).toBeLessThan(200);
    expect(r.after).toBe(r.kept);
  }, 300_000);
});
