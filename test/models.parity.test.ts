// The SE-ResNet family against the same models built in Python from the seed definitions
// (scripts/reference/seresnet.py): identical initialisation from the same seed, Python's weights loaded
// into the TypeScript model, and logits (eval and train), BN running stats and gradients compared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { PyTorch, loadRaw, relError } from './helpers/pytorch';

const { models } = torch;
let py: PyTorch;
let dir: string;
beforeAll(async () => {
  py = await PyTorch.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-models-'));
}, 60_000);
afterAll(() => {
  py?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Config {
  name: string;
  build: () => torch.models.SEResNet;
  python: string;
  input: number[];
  classes: number;
}

const configs: Config[] = [
  { name: 'seResNet18', build: () => models.seResNet18(), python: 'R.se_resnet18()', input: [2, 3, 64, 64], classes: 1000 },
  { name: 'seResNet50', build: () => models.seResNet50(), python: 'R.se_resnet50()', input: [2, 3, 64, 64], classes: 1000 },
  {
    name: "seResNet18 stem 'cifar', gate 'hardsigmoid', impl 'conv', 10 classes",
    build: () => models.seResNet18({ stem: 'cifar', numClasses: 10, se: { gate: 'hardsigmoid', impl: 'conv' } }),
    python: "R.se_resnet18(stem='cifar', num_classes=10, se={'gate': 'hardsigmoid', 'impl': 'conv'})",
    input: [2, 3, 32, 32],
    classes: 10,
  },
  {
    name: 'seResNet18 width 16 (the dispatch-bound training benchmark)',
    build: () => models.seResNet18({ stem: 'cifar', numClasses: 10, width: 16 }),
    python: "R.se_resnet18(stem='cifar', num_classes=10, width=16)",
    input: [2, 3, 16, 16],
    classes: 10,
  },
];

describe.each(configs)('$name matches PyTorch', (cfg) => {
  const ref = () => path.join(dir, cfg.name.replace(/\W+/g, '_'));

  it('same seed, same initial weights; then logits, BN stats and gradients with Python’s weights', async () => {
    torch.manualSeed(0);
    const model = cfg.build();
    await py.run(
      `import seresnet as R
torch.set_num_threads(${torch.getNumThreads()})  # the same CPU parallelism, so the same accumulation order
torch.manual_seed(0)
m = ${cfg.python}
save_raw(m.state_dict(), '${ref()}_init')
torch.manual_seed(1)
# Python's weights differ from the seed-0 ones: perturb them so loading is really tested.
with torch.no_grad():
    for p in m.parameters(): p.add_(torch.randn_like(p) * 0.01)
    for n, b in m.named_buffers():
        if 'running_var' in n: b.uniform_(0.5, 1.5)
        if 'running_mean' in n: b.normal_(0, 0.1)
x = torch.randn(${cfg.input.join(', ')})
target = torch.randint(0, ${cfg.classes}, (${cfg.input[0]},))
save_raw(m.state_dict(), '${ref()}_weights')
m.eval()
eval_logits = m(x)
m.train()
train_logits = m(x)
F.cross_entropy(train_logits, target).backward()
save_raw({'x': x, 'target': target, 'eval': eval_logits, 'train': train_logits}, '${ref()}_io')
save_raw(m.state_dict(), '${ref()}_after')
save_raw({n: p.grad for n, p in m.named_parameters()}, '${ref()}_grads')
out = None`,
    );

    // Initialisation: the same generator calls in the same order as PyTorch.
    const init = loadRaw(`${ref()}_init`);
    const ours = model.stateDict();
    expect(Object.keys(ours)).toEqual(Object.keys(init));
    for (const [k, v] of Object.entries(init)) expect(ours[k].equal(v), `initial ${k}`).toBe(true);

    // Python's weights load with strict key checking, then the same outputs.
    const result = model.loadStateDict(loadRaw(`${ref()}_weights`));
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const io = loadRaw(`${ref()}_io`);
    model.eval();
    const evalLogits = torch.noGrad(() => model(io.x));
    expect(relError(evalLogits, io.eval)).toBeLessThanOrEqual(1e-5);

    model.train();
    const trainLogits = model(io.x);
    expect(relError(trainLogits.detach(), io.train)).toBeLessThanOrEqual(1e-5);
    torch.nn.functional.crossEntropy(trainLogits, io.target).backward();

    const after = loadRaw(`${ref()}_after`);
    const state = model.stateDict();
    for (const [k, v] of Object.entries(after)) {
      if (k.endsWith('num_batches_tracked')) expect(state[k].item(), k).toBe(v.item());
      else expect(relError(state[k], v), k).toBeLessThanOrEqual(1e-5);
    }
    const grads = loadRaw(`${ref()}_grads`);
    const named = new Map(model.namedParameters());
    expect([...named.keys()]).toEqual(Object.keys(grads));
    let worst = 0;
    for (const [k, g] of Object.entries(grads)) {
      const e = relError(named.get(k)!.grad!, g);
      worst = Math.max(worst, e);
      expect(e, `grad of ${k}`).toBeLessThanOrEqual(1e-5);
    }
    console.log(`${cfg.name}: worst gradient relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  }, 240_000);
});

describe('parameter counts are the seeds’ (and torchvision’s)', () => {
  const count = (m: torch.nn.Module) => m.parameters().reduce((s, p) => s + p.numel(), 0);
  it.each([
    ['seResNet18', () => models.seResNet18(), 11_778_592],
    ['seResNet34', () => models.seResNet34(), 21_958_868],
    ['seResNet50', () => models.seResNet50(), 28_088_024],
    ['seResNet101', () => models.seResNet101(), 49_326_872],
    ['seResNet152', () => models.seResNet152(), 66_821_848],
    ['resNet50', () => models.resNet50(), 25_557_032],
    ['resNet18', () => models.resNet18(), 11_689_512],
    ['seResNet18 (10 classes)', () => models.seResNet18({ numClasses: 10 }), 11_270_722],
    ['seResNet50 (10 classes)', () => models.seResNet50({ numClasses: 10 }), 26_059_514],
  ] as const)('%s', async (_name, build, expected) => {
    expect(count(build())).toBe(expected);
  });

  it('match the Python reference for the same options', async () => {
    const n = await py.run<number>(`import seresnet as R
m = R.se_resnet50(num_classes=10, stride_on='1x1', se={'bias': False})
out = sum(p.numel() for p in m.parameters())`);
    expect(count(models.seResNet50({ numClasses: 10, strideOn: '1x1', se: { bias: false } }))).toBe(n);
  });
});
