// torch.nn.utils against Python's: gradient clipping by norm (orders 2, 1, inf; foreach and per tensor;
// groups of dtypes), by value, the total norm and its non-finite error, and parameters as one vector.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch } from './helpers/pytorch';

const py = usePyTorch();
const { utils } = torch.nn;

torch.manualSeed(3);
const values = [torch.randn(4, 3), torch.randn(3), torch.randn(2, 3, { dtype: 'float64' }), torch.randn(5)];
const grads = values.map((v) => torch.randn(v.shape, { dtype: v.dtype }).mul(3));

/** Fresh parameters with those gradients (the last one without a gradient, as a frozen parameter). */
function params(): torch.Tensor[] {
  return values.map((v, i) => {
    const p = v.clone().requiresGrad_(true);
    if (i < 3) p.grad = grads[i].clone();
    return p;
  });
}

const PY_PARAMS = `
def params():
    out = []
    for i, v in enumerate(values):
        p = v.clone().requires_grad_(True)
        if i < 3:
            p.grad = grads[i].clone()
        out.append(p)
    return out
`;

describe("torch.nn.utils: Python's gradient clipping and parameter vectors", () => {
  it('clipGradNorm_ returns the total norm and scales the gradients as Python does', async () => {
    const cases: [number, torch.nn.utils.NormType, boolean][] = [
      [0.5, 2, true],
      [0.5, 1, true],
      [0.5, 'inf', true],
      [0.5, 2, false],
      [100, 2, true],
    ];
    const ref = await py.run<[torch.Tensor, torch.Tensor[]][]>(
      `${PY_PARAMS}
out = []
for max_norm, norm_type, foreach in ${JSON.stringify(cases).replace(/"inf"/g, "'inf'").replace(/true/g, 'True').replace(/false/g, 'False')}:
    ps = params()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type, foreach=foreach)
    out.append([total, [p.grad for p in ps[:3]]])
`,
      { values, grads },
    );
    cases.forEach(([maxNorm, normType, foreach], k) => {
      const ps = params();
      const total = utils.clipGradNorm_(ps, maxNorm, normType, { foreach });
      const [refTotal, refGrads] = ref[k];
      expect([total.dtype, total.shape, total.data()], `case ${k}`).toEqual([refTotal.dtype, refTotal.shape, refTotal.data()]);
      ps.slice(0, 3).forEach((p, i) => expect(p.grad!.data(), `case ${k} grad ${i}`).toEqual(refGrads[i].data()));
      expect(ps[3].grad).toBeNull();
    });
  });

  it('getTotalNorm, clipGradValue_, and the non-finite error', async () => {
    const ref = await py.run<Record<string, unknown>>(
      `${PY_PARAMS}
ps = params()
torch.nn.utils.clip_grad_value_(ps, 1.5)
bad = params()
bad[0].grad[0, 0] = float('nan')
try:
    torch.nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    message = None
except RuntimeError as e:
    message = str(e)
out = {'value': [p.grad for p in ps[:3]], 'total': torch.nn.utils.get_total_norm(grads, 3.0), 'empty': torch.nn.utils.get_total_norm([]),
       'message': message, 'nan_total': torch.nn.utils.clip_grad_norm_(params()[:1] + [bad[0]], 1.0)}
`,
      { values, grads },
    );
    const ps = params();
    utils.clipGradValue_(ps, 1.5);
    ps.slice(0, 3).forEach((p, i) => expect(p.grad!.data()).toEqual((ref.value as torch.Tensor[])[i].data()));
    expect(utils.getTotalNorm(grads, 3).data()).toEqual((ref.total as torch.Tensor).data());
    const empty = utils.getTotalNorm([]);
    expect([empty.dtype, empty.shape, empty.item()]).toEqual(['float32', [], 0]);
    const bad = params();
    bad[0].grad!.index(0, 0).fill_(NaN);
    expect(() => utils.clipGradNorm_(bad, 1.0, 2, { errorIfNonfinite: true })).toThrow(ref.message as string);
    expect(Number.isNaN(utils.clipGradNorm_([params()[0], bad[0]], 1.0).item())).toBe(Number.isNaN((ref.nan_total as torch.Tensor).item() as number));
    expect(() => utils.clipGradNorm_(bad, 1.0, 2, { error_if_nonfinite: true } as never)).toThrow(/unknown option 'error_if_nonfinite'/);
    expect(() => utils.clipGradNorm_(3 as never, 1.0)).toThrow(/parameters must be a Tensor or an iterable of Tensors/);
  });

  it('parametersToVector and vectorToParameters: one vector, and back (sharing its memory)', async () => {
    const model = new torch.nn.Linear(3, 2);
    const vec = utils.parametersToVector(model.parameters());
    expect(vec.shape).toEqual([8]);
    expect(vec.narrow(0, 0, 6).tolist()).toEqual(model.weight.view(-1).tolist());
    const next = torch.arange(8, { dtype: 'float32' });
    utils.vectorToParameters(next, model.parameters());
    expect(model.weight.tolist()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(model.bias!.tolist()).toEqual([6, 7]);
    next.fill_(1);
    expect(model.bias!.tolist()).toEqual([1, 1]); // Python's param.data = vec[…]: the same memory
    expect(() => utils.vectorToParameters(torch.zeros(7), model.parameters())).toThrow(/vec must be 1-D with 8 elements/);
    const ref = await py.run<torch.Tensor>('out = torch.nn.utils.parameters_to_vector([a, b])', { a: model.weight, b: model.bias });
    expect(utils.parametersToVector([model.weight, model.bias!]).data()).toEqual(ref.data());
  });
});
