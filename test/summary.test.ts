// torch.summary: each module's first output shape and parameter count equal what forward hooks and
// parameters() give for the same model in Python.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch } from './helpers/pytorch';

const py = usePyTorch();

describe('torch.summary', () => {
  it.each([
    ['seResNet18', () => torch.models.seResNet18(), 'R.se_resnet18()', [1, 3, 64, 64]],
    [
      'seResNet50 cifar stem, 1 channel',
      () => torch.models.seResNet50({ stem: 'cifar', inChannels: 1, numClasses: 10 }),
      "R.se_resnet50(stem='cifar', in_channels=1, num_classes=10)",
      [2, 1, 32, 32],
    ],
  ] as const)(
    '%s: shapes and counts per module equal PyTorch’s',
    async (_name, build, python, shape) => {
      const s = torch.summary(build(), [...shape]);
      const ref = await py.run<Record<string, [number[] | null, number]>>(`import seresnet as R
m = ${python}.eval()
shapes = {}
def hook(name):
    def f(mod, inp, out):
        shapes.setdefault(name, list(out.shape))
    return f
for n, mod in m.named_modules(): mod.register_forward_hook(hook(n))
with torch.no_grad(): m(torch.zeros(${shape.join(', ')}))
out = {n: [shapes.get(n), sum(p.numel() for p in mod.parameters())] for n, mod in m.named_modules()}`);
      expect(s.rows.map((r) => r.name)).toEqual(Object.keys(ref));
      for (const r of s.rows) {
        expect(r.outputShape, r.name).toEqual(ref[r.name][0]);
        expect(r.params, r.name).toBe(ref[r.name][1]);
      }
      expect(s.totalParams).toBe(ref[''][1]);
      expect(s.text).toContain(`Total params: ${ref[''][1].toLocaleString('en-US')}`);
    },
    60_000,
  );

  it('counts frozen parameters as non-trainable and leaves the model as it was', () => {
    const m = torch.models.seResNet18({ numClasses: 10 });
    m.requiresGrad_(false);
    m.fc.requiresGrad_(true);
    m.train();
    const s = torch.summary(m, [1, 3, 32, 32]);
    expect(s.trainableParams).toBe(512 * 10 + 10);
    expect(s.nonTrainableParams).toBe(11_270_722 - 5130);
    expect(m.training).toBe(true);
    expect(String(s)).toMatch(/Non-trainable params: 11,265,592/);
  });

  it('bad input is a clear error', () => {
    expect(() => torch.summary({} as torch.nn.Module, [1])).toThrow(/must be an nn.Module/);
    expect(() => torch.summary(torch.models.seResNet18(), [1, 4, 32, 32])).toThrow(/conv1 \(Conv2d\)/);
  });
});
