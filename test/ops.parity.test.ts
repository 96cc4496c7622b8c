// Parity with Python's PyTorch: the same inputs through torchnode and through torch, compared within
// dtype tolerance. Each case is [name, torchnode(inputs), Python code computing `out` from the same inputs].
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const py = usePyTorch();

torch.manualSeed(1234);
const x = torch.randn([3, 4]); // float32
const y = torch.randn([3, 4]);
const row = torch.randn([4]); // broadcasts against x
const pos = torch.rand([3, 4]).add(0.1); // positive, for log/sqrt
const unit = torch.rand([3, 4]).mul(1.8).sub(0.9); // in (-0.9, 0.9), for asin/acos
const xd = torch.randn([2, 5], { dtype: 'float64' });
const ints = torch.tensor([
  [3, -7, 2],
  [0, 5, -1],
]); // int64
const bools = torch.tensor([
  [true, false, true],
  [false, false, true],
]);
const b3 = torch.randn([2, 3, 4]);
const m34 = torch.randn([3, 4]);
const m45 = torch.randn([4, 5]);
const inputs = { x, y, row, pos, unit, xd, ints, bools, b3, m34, m45 };

type Case = [string, () => torch.Tensor, string];

const unary = (name: keyof torch.Tensor & string, py_: string, on: 'x' | 'pos' | 'unit' = 'x'): Case => [
  `${name}(${on})`,
  () => (inputs[on][name] as () => torch.Tensor)(),
  `out = ${py_.replace('$', on)}`,
];

const cases: Case[] = [
  // pointwise unary
  unary('neg', '$.neg()'),
  unary('abs', '$.abs()'),
  unary('exp', '$.exp()'),
  unary('log', '$.log()', 'pos'),
  unary('log2', '$.log2()', 'pos'),
  unary('log10', '$.log10()', 'pos'),
  unary('log1p', '$.log1p()', 'pos'),
  unary('expm1', '$.expm1()'),
  unary('sqrt', '$.sqrt()', 'pos'),
  unary('rsqrt', '$.rsqrt()', 'pos'),
  unary('sin', '$.sin()'),
  unary('cos', '$.cos()'),
  unary('tan', '$.tan()', 'unit'),
  unary('asin', '$.asin()', 'unit'),
  unary('acos', '$.acos()', 'unit'),
  unary('atan', '$.atan()'),
  unary('sinh', '$.sinh()'),
  unary('cosh', '$.cosh()'),
  unary('tanh', '$.tanh()'),
  unary('sigmoid', '$.sigmoid()'),
  unary('relu', '$.relu()'),
  unary('floor', '$.floor()'),
  unary('ceil', '$.ceil()'),
  unary('round', '$.round()'),
  unary('trunc', '$.trunc()'),
  unary('frac', '$.frac()'),
  unary('sign', '$.sign()'),
  unary('reciprocal', '$.reciprocal()', 'pos'),
  unary('square', '$.square()'),
  unary('erf', '$.erf()'),
  ['logicalNot(bools)', () => bools.logicalNot(), 'out = bools.logical_not()'],
  ['isnan', () => torch.tensor([1, NaN, Infinity]).isnan(), "out = torch.tensor([1, float('nan'), float('inf')]).isnan()"],
  ['isinf', () => torch.tensor([1, NaN, Infinity]).isinf(), "out = torch.tensor([1, float('nan'), float('inf')]).isinf()"],
  ['isfinite', () => torch.tensor([1, NaN, -Infinity]).isfinite(), "out = torch.tensor([1, float('nan'), float('-inf')]).isfinite()"],
  // binary, broadcasting, number operands and type promotion
  ['add', () => x.add(y), 'out = x + y'],
  ['add broadcast', () => x.add(row), 'out = x + row'],
  ['add alpha', () => x.add(y, { alpha: 2.5 }), 'out = torch.add(x, y, alpha=2.5)'],
  ['sub alpha', () => x.sub(row, { alpha: -3 }), 'out = torch.sub(x, row, alpha=-3)'],
  ['mul number', () => x.mul(2.5), 'out = x * 2.5'],
  ['div', () => x.div(pos), 'out = x / pos'],
  ['div floor', () => x.mul(10).div(3, { roundingMode: 'floor' }), "out = torch.div(x * 10, 3, rounding_mode='floor')"],
  ['div trunc', () => x.mul(10).div(3, { roundingMode: 'trunc' }), "out = torch.div(x * 10, 3, rounding_mode='trunc')"],
  ['pow number', () => pos.pow(1.5), 'out = pos ** 1.5'],
  ['pow tensor', () => pos.pow(y), 'out = pos ** y'],
  ['int + int number stays int64', () => ints.add(2), 'out = ints + 2'],
  ['int * float number becomes float32', () => ints.mul(2.5), 'out = ints * 2.5'],
  ['int / int is true division', () => ints.div(2), 'out = ints / 2'],
  ['int + float64 tensor', () => ints.add(xd.narrow(1, 0, 3)), 'out = ints + xd[:, :3]'],
  ['float32 + float64 tensor promotes', () => x.narrow(0, 0, 2).narrow(1, 0, 3).add(ints.double()), 'out = x[:2, :3] + ints.double()'],
  ['bool + number', () => bools.add(1), 'out = bools + 1'],
  ['remainder', () => ints.remainder(3), 'out = ints.remainder(3)'],
  ['fmod', () => ints.fmod(3), 'out = ints.fmod(3)'],
  ['atan2', () => x.atan2(y), 'out = torch.atan2(x, y)'],
  ['maximum', () => x.maximum(y), 'out = torch.maximum(x, y)'],
  ['minimum', () => x.minimum(row), 'out = torch.minimum(x, row)'],
  ['eq', () => ints.eq(2), 'out = ints == 2'],
  ['ne', () => x.ne(y), 'out = x != y'],
  ['lt', () => x.lt(0), 'out = x < 0'],
  ['le', () => x.le(row), 'out = x <= row'],
  ['gt', () => x.gt(y), 'out = x > y'],
  ['ge', () => ints.ge(0), 'out = ints >= 0'],
  ['logicalAnd', () => bools.logicalAnd(ints.gt(0)), 'out = bools.logical_and(ints > 0)'],
  ['logicalOr', () => bools.logicalOr(ints.lt(0)), 'out = bools.logical_or(ints < 0)'],
  ['logicalXor', () => bools.logicalXor(ints.lt(0)), 'out = bools.logical_xor(ints < 0)'],
  ['clamp numbers', () => x.clamp(-0.5, 0.5), 'out = x.clamp(-0.5, 0.5)'],
  ['clamp min only', () => x.clamp(0), 'out = x.clamp(min=0)'],
  ['clamp max only', () => x.clamp(null, 0.1), 'out = x.clamp(max=0.1)'],
  ['clamp tensors', () => x.clamp(row.neg().abs().neg(), row.abs()), 'out = x.clamp(-row.abs(), row.abs())'],
  ['matmul', () => m34.matmul(m45), 'out = m34 @ m45'],
  ['matmul batched broadcast', () => b3.matmul(m45), 'out = b3 @ m45'],
  ['mm', () => m34.mm(m45), 'out = m34.mm(m45)'],
  ['bmm', () => b3.bmm(b3.transpose(1, 2)), 'out = b3.bmm(b3.transpose(1, 2))'],
  ['dot', () => row.dot(row), 'out = row.dot(row)'],
  ['outer', () => row.outer(row), 'out = torch.outer(row, row)'],
  // reductions
  ['sum', () => x.sum(), 'out = x.sum()'],
  ['sum dim', () => x.sum(1), 'out = x.sum(1)'],
  ['sum dims keepdim', () => b3.sum([0, 2], { keepdim: true }), 'out = b3.sum((0, 2), keepdim=True)'],
  ['sum int64', () => ints.sum(), 'out = ints.sum()'],
  ['sum bool', () => bools.sum(0), 'out = bools.sum(0)'],
  ['sum dtype', () => x.sum({ dtype: 'float64' }), 'out = x.sum(dtype=torch.float64)'],
  ['mean', () => x.mean(), 'out = x.mean()'],
  ['mean dim', () => b3.mean(-1, { keepdim: true }), 'out = b3.mean(-1, keepdim=True)'],
  ['prod', () => x.prod(), 'out = x.prod()'],
  ['prod dim', () => x.prod(0), 'out = x.prod(0)'],
  ['var', () => x.var(), 'out = x.var()'],
  ['var dim correction 0', () => x.var(1, { correction: 0 }), 'out = x.var(1, correction=0)'],
  ['std', () => x.std(), 'out = x.std()'],
  ['std unbiased false keepdim', () => b3.std([1, 2], { unbiased: false, keepdim: true }), 'out = b3.std((1, 2), unbiased=False, keepdim=True)'],
  ['max', () => x.max(), 'out = x.max()'],
  ['max dim values', () => x.max(1).values, 'out = x.max(1).values'],
  ['max dim indices', () => x.max(1).indices, 'out = x.max(1).indices'],
  ['max other', () => x.max(y), 'out = torch.max(x, y)'],
  ['min dim keepdim', () => b3.min(0, { keepdim: true }).values, 'out = b3.min(0, keepdim=True).values'],
  ['argmax', () => x.argmax(), 'out = x.argmax()'],
  ['argmax dim', () => x.argmax(1), 'out = x.argmax(1)'],
  ['argmin dim keepdim', () => x.argmin(0, { keepdim: true }), 'out = x.argmin(0, keepdim=True)'],
  ['all', () => bools.all(), 'out = bools.all()'],
  ['any dim', () => bools.any(1), 'out = bools.any(1)'],
  ['norm', () => x.norm(), 'out = x.norm()'],
  ['norm p=1 dim', () => x.norm(1, 1), 'out = x.norm(p=1, dim=1)'],
  ['logsumexp', () => x.logsumexp(1), 'out = x.logsumexp(1)'],
  ['softmax', () => x.softmax(1), 'out = x.softmax(1)'],
  ['softmax dim 0', () => b3.softmax(0), 'out = b3.softmax(0)'],
  ['logSoftmax', () => x.logSoftmax(-1), 'out = x.log_softmax(-1)'],
  ['sort values', () => x.sort(1).values, 'out = x.sort(1).values'],
  ['sort descending indices', () => x.sort(0, { descending: true }).indices, 'out = x.sort(0, descending=True).indices'],
  ['argsort', () => row.argsort(), 'out = row.argsort()'],
  ['topk values', () => x.topk(2).values, 'out = x.topk(2).values'],
  ['topk smallest dim 0', () => x.topk(2, { dim: 0, largest: false }).indices, 'out = x.topk(2, dim=0, largest=False).indices'],
  ['torch.sum functional', () => torch.sum(x, 0), 'out = torch.sum(x, 0)'],
  ['torch.var functional', () => torch.var(x, 1), 'out = torch.var(x, 1)'],
  // shape and joining
  ['view', () => x.view(4, 3), 'out = x.view(4, 3)'],
  ['view -1', () => b3.view([-1, 4]), 'out = b3.view(-1, 4)'],
  ['reshape', () => b3.transpose(0, 2).reshape(6, 4), 'out = b3.transpose(0, 2).reshape(6, 4)'],
  ['permute', () => b3.permute(2, 0, 1), 'out = b3.permute(2, 0, 1)'],
  ['transpose', () => b3.transpose(0, 1), 'out = b3.transpose(0, 1)'],
  ['t', () => x.t(), 'out = x.t()'],
  ['squeeze', () => x.view(1, 3, 1, 4).squeeze(), 'out = x.view(1, 3, 1, 4).squeeze()'],
  ['squeeze dim', () => x.view(1, 3, 1, 4).squeeze(2), 'out = x.view(1, 3, 1, 4).squeeze(2)'],
  ['unsqueeze', () => x.unsqueeze(-1), 'out = x.unsqueeze(-1)'],
  ['flatten', () => b3.flatten(), 'out = b3.flatten()'],
  ['flatten from 1', () => b3.flatten(1), 'out = b3.flatten(1)'],
  ['expand', () => row.expand(3, 4), 'out = row.expand(3, 4)'],
  ['expand -1', () => row.unsqueeze(0).expand([2, -1]), 'out = row.unsqueeze(0).expand(2, -1)'],
  ['expandAs', () => row.expandAs(x), 'out = row.expand_as(x)'],
  ['contiguous', () => x.t().contiguous(), 'out = x.t().contiguous()'],
  ['narrow', () => x.narrow(1, 1, 2), 'out = x.narrow(1, 1, 2)'],
  ['select', () => b3.select(1, -1), 'out = b3.select(1, -1)'],
  ['cat', () => torch.cat([x, y], 1), 'out = torch.cat([x, y], 1)'],
  ['stack', () => torch.stack([x, y]), 'out = torch.stack([x, y])'],
  ['split size', () => torch.cat(b3.split(3, 2).map((t) => t.flatten())), 'out = torch.cat([t.flatten() for t in b3.split(3, 2)])'],
  ['split sizes', () => x.split([1, 3], 1)[1], 'out = x.split([1, 3], 1)[1]'],
  ['chunk', () => x.chunk(2, 1)[1], 'out = x.chunk(2, 1)[1]'],
  [
    'gather',
    () =>
      x.gather(
        1,
        torch.tensor([
          [0, 0],
          [1, 3],
          [2, 1],
        ]),
      ),
    'out = x.gather(1, torch.tensor([[0, 0], [1, 3], [2, 1]]))',
  ],
  [
    'scatter src',
    () => torch.zeros(3, 4).scatter(1, torch.tensor([[0], [3], [1]]), y),
    'out = torch.zeros(3, 4).scatter(1, torch.tensor([[0], [3], [1]]), y)',
  ],
  [
    'scatter value',
    () => torch.zeros(3, 4).scatter(0, torch.tensor([[2, 1, 0, 2]]), 7.5),
    'out = torch.zeros(3, 4).scatter(0, torch.tensor([[2, 1, 0, 2]]), 7.5)',
  ],
  ['where', () => torch.where(x.gt(0), x, y), 'out = torch.where(x > 0, x, y)'],
  ['where numbers', () => torch.where(x.gt(0), 1, 0), 'out = torch.where(x > 0, 1, 0)'],
  ['maskedFill', () => x.maskedFill(x.lt(0), -1), 'out = x.masked_fill(x < 0, -1)'],
  ['repeat', () => row.repeat(2, 2), 'out = row.repeat(2, 2)'],
  ['flip', () => x.flip(0, 1), 'out = x.flip(0, 1)'],
  // indexing: PyTorch semantics through LibTorch's TensorIndex
  ['index int', () => b3.index(1), 'out = b3[1]'],
  ['index negative int', () => b3.index(-1, 2), 'out = b3[-1, 2]'],
  ['index slices', () => b3.index(':', '1:3', '::2'), 'out = b3[:, 1:3, ::2]'],
  ['index torch.slice', () => b3.index(torch.slice(null, null, 2), torch.slice(-2)), 'out = b3[::2, -2:]'],
  ['index ellipsis and None', () => b3.index('...', null, 0), 'out = b3[..., None, 0]'],
  ['index mask', () => x.index(x.gt(0)), 'out = x[x > 0]'],
  ['index bool array rows', () => x.index([true, false, true]), 'out = x[torch.tensor([True, False, True])]'],
  ['index int array', () => x.index([2, 0, 2]), 'out = x[[2, 0, 2]]'],
  ['index tensor pair', () => x.index(torch.tensor([0, 2]), torch.tensor([1, 3])), 'out = x[torch.tensor([0, 2]), torch.tensor([1, 3])]'],
  ['index slice then tensor', () => b3.index(':', torch.tensor([2, 0])), 'out = b3[:, torch.tensor([2, 0])]'],
  ['indexPut_ slice number', () => x.clone().indexPut_([':', 0], 5), 'out = x.clone(); out[:, 0] = 5'],
  ['indexPut_ mask', () => x.clone().indexPut_(x.lt(0), 0), 'out = x.clone(); out[x < 0] = 0'],
  ['indexPut_ tensor value', () => x.clone().indexPut_([1], row), 'out = x.clone(); out[1] = row'],
  [
    'indexPut_ index tensors',
    () => x.clone().indexPut_([torch.tensor([0, 2]), torch.tensor([1, 3])], torch.tensor([9, 8], { dtype: 'float32' })),
    'out = x.clone(); out[torch.tensor([0, 2]), torch.tensor([1, 3])] = torch.tensor([9., 8.])',
  ],
  // in place
  ['add_', () => x.clone().add_(row, { alpha: 2 }), 'out = x.clone().add_(row, alpha=2)'],
  ['sub_', () => x.clone().sub_(1), 'out = x.clone().sub_(1)'],
  ['mul_', () => x.clone().mul_(y), 'out = x.clone().mul_(y)'],
  ['div_', () => x.clone().div_(2), 'out = x.clone().div_(2)'],
  ['pow_', () => pos.clone().pow_(2), 'out = pos.clone().pow_(2)'],
  ['clamp_', () => x.clone().clamp_(-0.2, 0.3), 'out = x.clone().clamp_(-0.2, 0.3)'],
  ['zero_', () => x.clone().zero_(), 'out = x.clone().zero_()'],
  ['fill_', () => x.clone().fill_(3.25), 'out = x.clone().fill_(3.25)'],
  ['copy_ broadcast', () => x.clone().copy_(row), 'out = x.clone().copy_(row)'],
  ['relu_', () => x.clone().relu_(), 'out = x.clone().relu_()'],
  ['exp_', () => x.clone().exp_(), 'out = x.clone().exp_()'],
  // dtype conversion
  ['to float64', () => x.to('float64'), 'out = x.to(torch.float64)'],
  ['to int32 truncates', () => x.mul(10).to('int32'), 'out = (x * 10).to(torch.int32)'],
  ['to bool', () => ints.to('bool'), 'out = ints.to(torch.bool)'],
  ['to uint8', () => ints.abs().to('uint8'), 'out = ints.abs().to(torch.uint8)'],
  ['to int8 / int16', () => ints.to('int8').to('int16'), 'out = ints.to(torch.int8).to(torch.int16)'],
  ['half round trip', () => x.half().float(), 'out = x.half().float()'],
  ['bfloat16 round trip', () => x.bfloat16().float(), 'out = x.bfloat16().float()'],
  ['float64 ops', () => xd.exp().sum(1), 'out = xd.exp().sum(1)'],
];

describe('ops match PyTorch', () => {
  it.each(cases)('%s', async (_name, js, code) => {
    const expected = await py.run(code, inputs);
    expectClose(js(), expected);
  });
});

describe("Python's overloads: a number operand, a whole-tensor reduction", () => {
  it('pow, remainder and fmod with a number exponent or divisor give Python’s values to the bit', async () => {
    torch.manualSeed(7);
    const v = torch.randn([20000]);
    const p = v.abs().add(0.1);
    const ours = {
      sq: v.pow(2),
      cube: v.pow(3),
      inv: p.pow(-1),
      inv2: p.pow(-2),
      root: p.pow(0.5),
      iroot: p.pow(-0.5),
      rem: v.mul(10).remainder(3),
      fmod: v.mul(10).fmod(3),
      sq_: v.clone().pow_(2),
      rem_: v.mul(10).remainder_(3),
    };
    const ref = await py.run<Record<string, unknown>>(
      `out = {'sq': v.pow(2), 'cube': v.pow(3), 'inv': p.pow(-1), 'inv2': p.pow(-2),
  'root': p.pow(0.5), 'iroot': p.pow(-0.5), 'rem': (v * 10).remainder(3), 'fmod': (v * 10).fmod(3),
  'sq_': v.clone().pow_(2), 'rem_': (v * 10).remainder_(3)}`,
      { v, p },
    );
    for (const [k, t] of Object.entries(ours)) expectClose(t, ref[k] as torch.Tensor, { rtol: 0, atol: 0 });
  });

  it('grad_fn names are Python’s (the same ATen overloads)', async () => {
    const a = torch.tensor([1.5, -2, 3], { requiresGrad: true });
    const mask = torch.tensor([true, false, true]);
    const ours = {
      sum: a.sum(),
      mean: a.mean(),
      sumDim: a.sum(0),
      div: a.div(2),
      divTensor: a.div(a),
      pow: a.pow(2),
      powTensor: a.pow(a.detach()),
      norm: a.norm(),
      sort: a.sort().values,
      stableSort: a.sort({ stable: true }).values,
      maskedFill: a.maskedFill(mask, 0),
      remainder: a.remainder(1),
      fmod: a.fmod(1),
    };
    const names = Object.fromEntries(Object.entries(ours).map(([k, t]) => [k, t.gradFn?.name]));
    const ref = await py.run<Record<string, string>>(`
a = torch.tensor([1.5, -2, 3], requires_grad=True)
mask = torch.tensor([True, False, True])
outs = {'sum': a.sum(), 'mean': a.mean(), 'sumDim': a.sum(0), 'div': a.div(2), 'divTensor': a.div(a), 'pow': a.pow(2),
  'powTensor': a.pow(a.detach()), 'norm': a.norm(), 'sort': a.sort().values, 'stableSort': a.sort(stable=True).values,
  'maskedFill': a.masked_fill(mask, 0), 'remainder': a.remainder(1), 'fmod': a.fmod(1)}
out = {k: type(t.grad_fn).__name__ for k, t in outs.items()}`);
    expect(names).toEqual(ref);
    expect(String(a.norm())).toBe('tensor(3.9051, grad_fn=<LinalgVectorNormBackward0>)');
  });

  it('errors Python raises for a number operand: negative integer powers, fill_ and maskedFill out of range', () => {
    expect(() => torch.tensor([1, 2]).pow(-1)).toThrow(/Integers to negative integer powers are not allowed/);
    expect(() => torch.tensor([1, 2]).pow_(-1)).toThrow(/Integers to negative integer powers are not allowed/);
    expect(() => torch.zeros(2, { dtype: 'int8' }).fill_(1000)).toThrow(/cannot be converted to type int8_t without overflow/);
    expect(() => torch.zeros(2, { dtype: 'uint8' }).maskedFill(torch.tensor([true, false]), 300)).toThrow(/without overflow/);
    expect(torch.zeros(2, { dtype: 'int8' }).fill_(torch.tensor(5)).toArray()).toEqual([5, 5]); // a 0-d tensor value still works
  });

  it("div(…, {roundingMode: 'trunc'}) of integers: Python's results where nothing overflows", async () => {
    const ours = {
      int32: torch.tensor([0, 6, -7], { dtype: 'int32' }).div(torch.tensor([-1, -1, 2]), { roundingMode: 'trunc' }),
      uint8: torch.tensor([0, 5], { dtype: 'uint8' }).div(-1, { roundingMode: 'trunc' }),
      int8: torch.tensor([-128, 5], { dtype: 'int8' }).div(-1, { roundingMode: 'trunc' }),
      int16: torch.tensor([-32768, 9], { dtype: 'int16' }).div(torch.tensor([-1, 2], { dtype: 'int16' }), { roundingMode: 'trunc' }),
    };
    const ref = await py.run<Record<string, unknown>>(`out = {
  'int32': torch.div(torch.tensor([0, 6, -7], dtype=torch.int32), torch.tensor([-1, -1, 2]), rounding_mode='trunc'),
  'uint8': torch.div(torch.tensor([0, 5], dtype=torch.uint8), -1, rounding_mode='trunc'),
  'int8': torch.div(torch.tensor([-128, 5], dtype=torch.int8), -1, rounding_mode='trunc'),
  'int16': torch.div(torch.tensor([-32768, 9], dtype=torch.int16), torch.tensor([-1, 2], dtype=torch.int16), rounding_mode='trunc')}`);
    for (const [k, t] of Object.entries(ours)) expectClose(t, ref[k] as torch.Tensor, { rtol: 0, atol: 0 });
  });

  it('integral numbers past 2^53 are ints, as in torch.tensor() and Python', async () => {
    torch.manualSeed(0);
    const ours = [
      torch.tensor([1]).add(2 ** 60),
      torch.full([2], 2 ** 60),
      torch.arange(2 ** 60, 2 ** 60 + 4096, 1024),
      torch.tensor([5]).clamp(2 ** 60),
      torch.randint(0, 2n ** 60n, [2]),
      torch.tensor([3]).bitwiseAnd(2 ** 60 + 2 ** 40),
    ];
    const ref = await py.run<torch.Tensor[]>(`torch.manual_seed(0)
out = [torch.tensor([1]).add(2**60), torch.full([2], 2**60), torch.arange(2**60, 2**60 + 4096, 1024),
  torch.tensor([5]).clamp(2**60), torch.randint(0, 2**60, [2]), torch.tensor([3]).bitwise_and(2**60 + 2**40)]`);
    ours.forEach((t, i) => expect([t.dtype, t.data()], String(i)).toEqual([ref[i].dtype, ref[i].data()]));
    expect(() => torch.tensor([1]).narrow(0, 0, 2 ** 64)).toThrow(
      /narrow\(\) received an invalid combination of arguments - got \(int, int, an int past 2\^53/,
    );
    expect(() => torch.tensor([1]).narrow(0, 0, 2n ** 64n)).toThrow(/length must be an integer within int64/);
    // A BigInt operand is an exact int64, as a Python int of any size that fits.
    const big = [
      torch.tensor([1, 2]).add(2n ** 62n + 1n),
      torch.tensor([5]).mul(-3n),
      torch.tensor([1.5]).add(2n),
      torch.tensor([3]).pow(2n),
      torch.tensor([1, 9]).clamp(0n, 4n),
      torch.where(torch.tensor([true, false]), 2n ** 60n + 3n, 0n),
    ];
    const bigRef = await py.run<torch.Tensor[]>(`out = [torch.tensor([1, 2]).add(2**62 + 1), torch.tensor([5]) * -3, torch.tensor([1.5]) + 2,
  torch.tensor([3]).pow(2), torch.tensor([1, 9]).clamp(0, 4), torch.where(torch.tensor([True, False]), 2**60 + 3, 0)]`);
    big.forEach((t, i) => expect([t.dtype, t.data()], `bigint ${i}`).toEqual([bigRef[i].dtype, bigRef[i].data()]));
    expect(() => torch.tensor([1]).add(2n ** 63n)).toThrow(/other does not fit in int64/);
  });

  it('x.index() is x[()] and x.index([]) is x[[]], as in Python', async () => {
    const t = torch.arange(24).reshape(2, 3, 4);
    const ours = { all: t.index(), none: t.index([]), set: t.clone().indexPut_([], 5) };
    const ref = await py.run<Record<string, torch.Tensor>>(`t = torch.arange(24).reshape(2, 3, 4)
s = t.clone(); s[()] = 5
out = {'all': t[()], 'none': t[[]], 'set': s}`);
    for (const [k, v] of Object.entries(ours)) expect([v.shape, v.toArray()], k).toEqual([ref[k].shape, ref[k].toArray()]);
  });

  it('all/any over several dims, and with keepdim over all, as Python', async () => {
    const m = torch.tensor([
      [
        [true, false],
        [true, true],
      ],
      [
        [true, true],
        [true, true],
      ],
    ]);
    const ours = [m.all(), m.all(1), m.all([0, 2]), m.any([1, 2], { keepdim: true }), m.all(null, { keepdim: true }), m.any(-1)];
    const ref = await py.run<torch.Tensor[]>(
      'out = [m.all(), m.all(1), m.all((0, 2)), m.any((1, 2), keepdim=True), m.all(keepdim=True), m.any(-1)]',
      { m },
    );
    ours.forEach((t, i) => expectClose(t, ref[i]));
  });

  it('x.T reverses the dims beyond 2-D (as Python, deprecated there too); x.mT swaps the last two', async () => {
    const t = torch.arange(24).reshape(2, 3, 4);
    const ours = [t.T, t.mT, torch.arange(3).T, torch.arange(6).reshape(2, 3).T];
    const ref = await py.run<torch.Tensor[]>(
      'import warnings\nwarnings.simplefilter("ignore")\nout = [t.T, t.mT, torch.arange(3).T, torch.arange(6).reshape(2, 3).T]',
      { t },
    );
    ours.forEach((o, i) => expect([o.shape, o.toArray()], String(i)).toEqual([ref[i].shape, ref[i].toArray()]));
    expect(() => torch.arange(3).mT).toThrow(/only supported on matrices/);
  });

  it("argument combinations Python's binding refuses", () => {
    expect(() => x.clamp(torch.tensor([0.5]), 2 as never)).toThrow(/invalid combination of arguments - got \(Tensor, int\)/);
    expect(() => x.var({ correction: 0, unbiased: true } as never)).toThrow(
      /invalid combination of arguments - got \(correction=int, unbiased=boolean\)/,
    );
    expect(() => x.prod({ keepdim: true })).toThrow(/invalid combination of arguments - got \(keepdim=boolean\)/);
    // Python's sort takes stable only with dim and descending as keywords
    expect(() => x.sort(0, { stable: true } as never)).toThrow(/invalid combination of arguments/);
    expect(x.prod(1, { keepdim: true }).shape).toEqual([3, 1]);
  });

  it('slice bounds past int64 mean "to the end", as sys.maxsize does in Python', () => {
    const r = torch.arange(5);
    expect(r.index('1:9223372036854775807').toArray()).toEqual([1, 2, 3, 4]);
    expect(r.index(torch.slice(-(2 ** 70), 2 ** 70)).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(() => r.index(2 ** 63)).toThrow(RangeError);
  });
});

describe('creation matches PyTorch', () => {
  const creation: Case[] = [
    [
      'tensor ints → int64',
      () =>
        torch.tensor([
          [1, 2],
          [3, 4],
        ]),
      'out = torch.tensor([[1, 2], [3, 4]])',
    ],
    ['tensor floats → float32', () => torch.tensor([1.5, 2, 3]), 'out = torch.tensor([1.5, 2, 3])'],
    ['tensor bools → bool', () => torch.tensor([true, false]), 'out = torch.tensor([True, False])'],
    ['tensor scalar', () => torch.tensor(3.5), 'out = torch.tensor(3.5)'],
    ['tensor empty', () => torch.tensor([]), 'out = torch.tensor([])'],
    ['tensor Float64Array → float64', () => torch.tensor(new Float64Array([1, 2.5])), 'out = torch.tensor([1, 2.5], dtype=torch.float64)'],
    ['tensor dtype', () => torch.tensor([1, 2, 3], { dtype: 'float16' }).float(), 'out = torch.tensor([1, 2, 3], dtype=torch.float16).float()'],
    ['zeros', () => torch.zeros(2, 3), 'out = torch.zeros(2, 3)'],
    ['ones int32', () => torch.ones([2, 3], { dtype: 'int32' }), 'out = torch.ones(2, 3, dtype=torch.int32)'],
    ['full', () => torch.full([2, 2], 7), 'out = torch.full((2, 2), 7)'],
    ['full float', () => torch.full([2, 2], 0.5), 'out = torch.full((2, 2), 0.5)'],
    ['full bool', () => torch.full([2], true), 'out = torch.full((2,), True)'],
    ['arange end', () => torch.arange(5), 'out = torch.arange(5)'],
    ['arange float step', () => torch.arange(0, 1, 0.25), 'out = torch.arange(0, 1, 0.25)'],
    ['arange negative step', () => torch.arange(5, 0, -2), 'out = torch.arange(5, 0, -2)'],
    ['arange dtype', () => torch.arange(3, { dtype: 'float64' }), 'out = torch.arange(3, dtype=torch.float64)'],
    ['linspace', () => torch.linspace(-1, 1, 7), 'out = torch.linspace(-1, 1, 7)'],
    ['eye', () => torch.eye(3), 'out = torch.eye(3)'],
    ['eye rect', () => torch.eye(2, 4), 'out = torch.eye(2, 4)'],
    ['zerosLike', () => torch.zerosLike(ints), 'out = torch.zeros_like(ints)'],
    ['onesLike dtype', () => torch.onesLike(ints, { dtype: 'float32' }), 'out = torch.ones_like(ints, dtype=torch.float32)'],
    ['fullLike', () => torch.fullLike(x, 2), 'out = torch.full_like(x, 2)'],
  ];
  it.each(creation)('%s', async (_name, js, code) => {
    expectClose(js(), await py.run(code, inputs));
  });

  it('tensor(): rows that are TypedArrays keep their type; BigInts stay exact', async () => {
    const rows = torch.tensor([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect([rows.dtype, rows.shape, rows.toArray()]).toEqual([
      'float32',
      [2, 2],
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    expect(torch.tensor([[new Int16Array([1])], [new Int16Array([2])]]).dtype).toBe('int16');
    // Mixed rows promote together, as a list of NumPy arrays and lists does in Python (torch.promote_types;
    // a JS integer is a Python int, another number a Python float of the default dtype).
    const mixed: [torch.TensorData, string[]][] = [
      [
        [new Float32Array([1]), [2]],
        ['float32', 'int64'],
      ],
      [
        [new Int16Array([1]), new Int32Array([2])],
        ['int16', 'int32'],
      ],
      [
        [new Float32Array([1]), new Int32Array([2])],
        ['float32', 'int32'],
      ],
      [
        [new Float64Array([1 / 3]), [2.5]],
        ['float64', 'float32'],
      ],
      [
        [new Uint8Array([1]), new Int8Array([2])],
        ['uint8', 'int8'],
      ],
      [
        [[true], new Uint8Array([2])],
        ['bool', 'uint8'],
      ],
    ];
    const promoted = await py.run<string[]>(`import functools
out = [str(functools.reduce(torch.promote_types, [getattr(torch, d) for d in ds])).replace('torch.', '') for ds in ${JSON.stringify(mixed.map(([, d]) => d))}]`);
    expect(mixed.map(([data]) => torch.tensor(data).dtype)).toEqual(promoted);
    expect(torch.tensor([new Float64Array([1 / 3]), [2.5]]).toArray()).toEqual([[1 / 3], [2.5]]); // not rounded through float32
    expect(torch.tensor([2n ** 62n + 1n, 3]).data()).toEqual(new BigInt64Array([2n ** 62n + 1n, 3n]));
    expect(torch.tensor([1n, 1.5, -2.7], { dtype: 'int64' }).data()).toEqual(new BigInt64Array([1n, 1n, -2n])); // floats truncate, as in Python
    expect(() => torch.tensor([1n, NaN], { dtype: 'int64' })).toThrow(torch.TorchValueError);
  });

  it("tensor(): ragged data is an error; integer dtypes take values as Python's torch.tensor does (this LibTorch's range rule)", async () => {
    expect(() => torch.tensor([1, [2]])).toThrow(TypeError);
    expect(() => torch.tensor([1, [2, 3]])).toThrow(/expected a number at dim 1/);
    // [data, dtype]: JS integers are Python ints, other numbers Python floats (2.14 truncates a float
    // before its range check, 2.13 does not: the LibTorch in use decides, on both sides).
    const cases: [number[], torch.Dtype | undefined][] = [
      [[300], 'uint8'],
      [[-1, -255], 'uint8'],
      [[-256], 'uint8'],
      [[255.5], 'uint8'],
      [[-0.5], 'uint8'],
      [[-1.5], 'uint8'],
      [[127.9], 'int8'],
      [[128], 'int8'],
      [[-129], 'int8'],
      [[-128.5], 'int8'],
      [[32767.5], 'int16'],
      [[1e10], 'int32'],
      [[2147483647.5], 'int32'],
      [[1.5, -2.7], 'int64'],
      [[2 ** 63], undefined],
      [[-(2 ** 63)], undefined],
      [[NaN], 'int64'],
      [[Infinity], 'int32'],
      [[1e6], 'float16'],
      [[1e40], 'float32'],
    ];
    const ours = cases.map(([data, dtype]) => {
      try {
        return torch.tensor(data, { dtype }).double().toArray();
      } catch (e) {
        expect(e, String(data)).toBeInstanceOf(torch.TorchError);
        return 'error';
      }
    });
    const ref = await py.run<unknown[]>(`
out = []
import json
for data, dtype in json.loads(${JSON.stringify(JSON.stringify(cases.map(([d, t]) => [d.map((v) => (Number.isInteger(v) ? BigInt(v).toString() : String(v))), t ?? null])))}):
    vals = [int(v) if v.lstrip('-').isdigit() else float(v) for v in data]
    try:
        out.append(torch.tensor(vals, dtype=getattr(torch, dtype) if dtype else None).double().tolist())
    except (RuntimeError, ValueError, OverflowError):
        out.append('error')`);
    expect(ours).toEqual(ref);
    expect(() => torch.tensor([2n ** 63n])).toThrow(torch.TorchValueError);
  });

  // The same seed gives PyTorch's own random numbers (the same CPU generator).
  const seeded: [string, () => torch.Tensor, string][] = [
    ['randn', () => torch.randn(3, 4), 'torch.randn(3, 4)'],
    ['rand', () => torch.rand([5]), 'torch.rand(5)'],
    ['randint', () => torch.randint(0, 10, [6]), 'torch.randint(0, 10, (6,))'],
    ['randint high only', () => torch.randint(7, [2, 3]), 'torch.randint(7, (2, 3))'],
    ['normal', () => torch.normal(2, 3, [4]), 'torch.normal(2, 3, (4,))'],
    ['randnLike', () => torch.randnLike(x), 'torch.randn_like(x)'],
    ['normal_', () => torch.empty(5).normal_(1, 0.5), 'torch.empty(5).normal_(1, 0.5)'],
    ['uniform_', () => torch.empty(5).uniform_(-2, 2), 'torch.empty(5).uniform_(-2, 2)'],
    ['randn float64', () => torch.randn([3], { dtype: 'float64' }), 'torch.randn(3, dtype=torch.float64)'],
  ];
  it.each(seeded)('manualSeed + %s', async (_name, js, code) => {
    torch.manualSeed(42);
    const ours = js();
    expectClose(ours, await py.run(`torch.manual_seed(42); out = ${code}`, inputs), { rtol: 0, atol: 0 });
  });
});

describe('autograd matches PyTorch', () => {
  const w = torch.randn([4, 3]);
  const b = torch.randn([3]);

  it('gradients of a small network', async () => {
    const xs = x.clone().requiresGrad_();
    const ws = w.clone().requiresGrad_();
    const bs = b.clone().requiresGrad_();
    const out = xs.matmul(ws).add(bs).tanh().pow(2).mean();
    out.backward();
    const ref = await py.run<torch.Tensor[]>(
      `xs = x.clone().requires_grad_(); ws = w.clone().requires_grad_(); bs = b.clone().requires_grad_()
o = (xs @ ws + bs).tanh().pow(2).mean(); o.backward()
out = [o, xs.grad, ws.grad, bs.grad]`,
      { x, w, b },
    );
    expectClose(out.detach(), ref[0]);
    expectClose(xs.grad!, ref[1]);
    expectClose(ws.grad!, ref[2]);
    expectClose(bs.grad!, ref[3]);
  });

  it('gradients through softmax, indexing, reductions and where', async () => {
    const xs = x.clone().requiresGrad_();
    const out = torch.where(xs.gt(0), xs.softmax(1), xs.mul(xs)).index(':', '1:').logsumexp(1).sum();
    out.backward();
    const ref = await py.run(
      `xs = x.clone().requires_grad_()
torch.where(xs > 0, xs.softmax(1), xs * xs)[:, 1:].logsumexp(1).sum().backward()
out = xs.grad`,
      { x },
    );
    expectClose(xs.grad!, ref);
  });

  it('backward with a gradient, retainGraph, and accumulation', async () => {
    const xs = x.clone().requiresGrad_();
    const y2 = xs.mul(3).sin();
    y2.backward(y, { retainGraph: true });
    y2.backward(y);
    const ref = await py.run(
      `xs = x.clone().requires_grad_(); y2 = (xs * 3).sin()
y2.backward(y, retain_graph=True); y2.backward(y); out = xs.grad`,
      { x, y },
    );
    expectClose(xs.grad!, ref);
  });

  it('autograd.grad with createGraph gives second derivatives', async () => {
    const xs = x.clone().requiresGrad_();
    const f = xs.pow(3).sum();
    const [g] = torch.autograd.grad(f, xs, { createGraph: true });
    const [gg] = torch.autograd.grad(g!.sum(), xs);
    const ref = await py.run<torch.Tensor[]>(
      `xs = x.clone().requires_grad_()
g, = torch.autograd.grad(xs.pow(3).sum(), xs, create_graph=True)
gg, = torch.autograd.grad(g.sum(), xs)
out = [g, gg]`,
      { x },
    );
    expectClose(g!.detach(), ref[0]);
    expectClose(gg!, ref[1]);
  });

  it('autograd.grad allowUnused returns null; without it, PyTorch’s error', () => {
    const a = torch.randn([2], { requiresGrad: true });
    const unused = torch.randn([2], { requiresGrad: true });
    const [ga, gu] = torch.autograd.grad(a.mul(2).sum(), [a, unused], { allowUnused: true });
    expect(ga!.toArray()).toEqual([2, 2]);
    expect(gu).toBeNull();
    expect(() => torch.autograd.grad(a.mul(2).sum(), [a, unused])).toThrow(/not have been used in the graph/);
  });

  it('requiresGrad, gradFn, isLeaf, retainGrad, detach, noGrad, enableGrad', () => {
    const a = torch.ones([2], { requiresGrad: true });
    expect(a.requiresGrad).toBe(true);
    expect(a.isLeaf).toBe(true);
    expect(a.gradFn).toBeNull();
    const h = a.mul(2);
    expect(h.isLeaf).toBe(false);
    expect(h.gradFn?.name).toBe('MulBackward0');
    h.retainGrad();
    h.sum().backward();
    expect(h.grad!.toArray()).toEqual([1, 1]);
    expect(a.grad!.toArray()).toEqual([2, 2]);
    expect(a.detach().requiresGrad).toBe(false);
    const inNoGrad = torch.noGrad(() => a.mul(2));
    expect(inNoGrad.requiresGrad).toBe(false);
    expect(torch.isGradEnabled()).toBe(true);
    const inner = torch.noGrad(() => torch.enableGrad(() => a.mul(2)));
    expect(inner.requiresGrad).toBe(true);
    a.grad = null;
    expect(a.grad).toBeNull();
    const frozen = torch.ones([2]).requiresGrad_(true);
    frozen.requiresGrad_(false);
    expect(frozen.requiresGrad).toBe(false);
    expect(() => torch.noGrad((async () => a) as unknown as () => torch.Tensor)).toThrow(/synchronous/);
  });

  it('in-place on a leaf that requires grad is PyTorch’s error', () => {
    const a = torch.ones([2], { requiresGrad: true });
    expect(() => a.add_(1)).toThrow(torch.TorchError);
    expect(() => a.add_(1)).toThrow(/leaf Variable that requires grad/);
    torch.noGrad(() => a.add_(1));
    expect(a.toArray()).toEqual([2, 2]);
  });
});

describe('what Python binds by hand: torch.numel, fill, range, asarray, frombuffer…; x.real, imag, mH, outputNr', () => {
  it('the same values, dtypes and errors as Python', async () => {
    const m = torch.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    const c = torch.viewAsComplex(
      torch.tensor(
        [
          [1, 2],
          [3, -4],
        ],
        { dtype: 'float32' },
      ),
    );
    const bytes = new Float32Array([1.5, -2, 3.25, 8]);
    const ref = await py.run<Record<string, unknown>>(`
import warnings
warnings.simplefilter('ignore')
m = torch.tensor([[1, 2], [3, 4]], dtype=torch.float32)
c = torch.view_as_complex(torch.tensor([[1, 2], [3, -4]], dtype=torch.float32))
import struct
buf = bytearray(struct.pack('<4f', 1.5, -2.0, 3.25, 8.0))
def err(f):
    try:
        f()
    except Exception as e:
        return [type(e).__name__, str(e)]
a = torch.ones(2, requires_grad=True)
p, q = a.mul(2).unbind()
r = a.mul(3)
r.retain_grad()
s = torch.zeros(0)
s.set_(m)
w = torch.zeros(0)
w.set_(m, 1, [3], [1])
out = {
  'numel': torch.numel(m), 'get_device': torch.get_device(m), 'same': [torch.is_same_size(m, m), m.is_same_size(torch.zeros(4))],
  'fill': torch.fill(m, 7), 'fill_t': torch.fill(m, torch.tensor(2.5)), 'range': torch.range(1, 4), 'range_step': torch.range(0, 1, 0.25),
  'range_int': torch.range(1, 3, dtype=torch.int64),
  'as_tensor': torch.as_tensor([1, 2]), 'as_tensor_d': torch.as_tensor(m, dtype=torch.float64), 'asarray': torch.asarray([[1.5, 2]]),
  'asarray_same': torch.asarray(m) is m, 'asarray_copy': torch.asarray(m, copy=True) is m,
  'asarray_nocopy': err(lambda: torch.asarray(m, dtype=torch.float64, copy=False)),
  'frombuffer': torch.frombuffer(buf, dtype=torch.float32), 'frombuffer_off': torch.frombuffer(buf, dtype=torch.float32, offset=4, count=2),
  'frombuffer_i16': torch.frombuffer(buf, dtype=torch.int16, count=3),
  'fb_len': err(lambda: torch.frombuffer(buf, dtype=torch.float32, offset=2)),
  'fb_off': err(lambda: torch.frombuffer(buf, dtype=torch.float32, offset=16)),
  'fb_count': err(lambda: torch.frombuffer(buf, dtype=torch.float32, count=5)),
  'fb_zero': err(lambda: torch.frombuffer(buf, dtype=torch.float32, count=0)),
  'real': c.real, 'imag': c.imag, 'real_of_real': m.real, 'imag_of_real': err(lambda: m.imag), 'mH': torch.view_as_real(c.reshape(1, 2).mH.resolve_conj()), 'H': m.H,
  'mH_1d': err(lambda: c.mH),
  'output_nr': [p.output_nr, q.output_nr, a.output_nr], 'retains_grad': [r.retains_grad, a.retains_grad],
  'set': s, 'set_view': w,
  'asarray_grad': [torch.asarray(p).requires_grad, torch.asarray(p, requires_grad=True).grad_fn is not None, torch.asarray(a).requires_grad],
}`);
    const got: Record<string, unknown> = {};
    const err = (f: () => unknown): [string, string] | undefined => {
      try {
        f();
      } catch (e) {
        return [(e as Error).constructor.name, (e as Error).message];
      }
      return undefined;
    };
    const a = torch.ones(2, { requiresGrad: true });
    const [p, q] = a.mul(2).unbind();
    const r = a.mul(3);
    r.retainGrad();
    const s = torch.zeros(0);
    s.set_(m);
    const w = torch.zeros(0);
    w.set_(m, 1, [3], [1]);
    Object.assign(got, {
      numel: torch.numel(m),
      get_device: torch.getDevice(m),
      same: [torch.isSameSize(m, m), m.isSameSize(torch.zeros(4))],
      fill: torch.fill(m, 7),
      fill_t: torch.fill(m, torch.tensor(2.5)),
      range: torch.range(1, 4),
      range_step: torch.range(0, 1, 0.25),
      range_int: torch.range(1, 3, { dtype: 'int64' }),
      as_tensor: torch.asTensor([1, 2]),
      as_tensor_d: torch.asTensor(m, { dtype: 'float64' }),
      asarray: torch.asarray([[1.5, 2]]),
      frombuffer: torch.frombuffer(bytes, { dtype: 'float32' }),
      frombuffer_off: torch.frombuffer(bytes.buffer, { dtype: 'float32', offset: 4, count: 2 }),
      frombuffer_i16: torch.frombuffer(Buffer.from(bytes.buffer), { dtype: 'int16', count: 3 }),
      real: c.real,
      imag: c.imag,
      real_of_real: m.real,
      mH: torch.viewAsReal(c.reshape(1, 2).mH.resolveConj()),
      H: m.H,
      output_nr: [p.outputNr, q.outputNr, a.outputNr],
      retains_grad: [r.retainsGrad, a.retainsGrad],
      set: s,
      set_view: w,
      asarray_grad: [torch.asarray(p).requiresGrad, torch.asarray(p, { requiresGrad: true }).gradFn !== null, torch.asarray(a).requiresGrad],
    });
    // dtype aliases, as everywhere
    expect(torch.frombuffer(bytes, { dtype: 'float' as never }).tolist()).toEqual([1.5, -2, 3.25, 8]);
    expect(torch.asarray(m, { dtype: 'float' as never, copy: false })).toBe(m);
    for (const [k, v] of Object.entries(got)) {
      if (v instanceof torch.Tensor) {
        const e = ref[k] as torch.Tensor;
        expect([v.dtype, v.shape, v.data()], k).toEqual([e.dtype, e.shape, e.data()]);
      } else {
        expect(v, k).toEqual(ref[k]);
      }
    }
    expect(torch.asarray(m)).toBe(m);
    expect(torch.asarray(m, { copy: true })).not.toBe(m);
    expect(ref.asarray_same).toBe(true);
    // the errors: Python's messages (ValueError → TorchValueError, RuntimeError → TorchError)
    const messageOf = (name: string) => (ref[name] as [string, string])[1];
    expect(err(() => torch.frombuffer(bytes, { dtype: 'float32', offset: 2 }))).toEqual(['TorchValueError', messageOf('fb_len')]);
    expect(err(() => torch.frombuffer(bytes, { dtype: 'float32', offset: 16 }))).toEqual(['TorchValueError', messageOf('fb_off')]);
    expect(err(() => torch.frombuffer(bytes, { dtype: 'float32', count: 5 }))).toEqual(['TorchValueError', messageOf('fb_count')]);
    expect(err(() => torch.frombuffer(bytes, { dtype: 'float32', count: 0 }))).toEqual(['TorchValueError', messageOf('fb_zero')]);
    expect(err(() => m.imag)).toEqual(['TorchError', messageOf('imag_of_real')]);
    expect((ref.asarray_nocopy as string[])[0]).toBe('ValueError');
    expect(err(() => torch.asarray(m, { dtype: 'float64', copy: false }))?.[0]).toBe('TorchValueError');
    expect((ref.mH_1d as string[])[0]).toBe('RuntimeError');
    expect(() => c.mH).toThrow(/tensor.mH is only supported on matrices or batches of matrices. Got 1-D tensor/);
    expect(() => torch.frombuffer(bytes, {} as never)).toThrow(/missing required keyword argument 'dtype'/);
    // assigning to x.real / x.imag writes into the complex tensor, as Python's setters
    const d = c.clone();
    d.imag = 0;
    d.real = torch.tensor([9, 8], { dtype: 'float32' });
    expect(torch.viewAsReal(d).tolist()).toEqual([
      [9, 0],
      [8, 0],
    ]);
  });
});
