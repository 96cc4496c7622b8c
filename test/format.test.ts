// Compares lib/core/format.ts against real PyTorch: one python3 process evaluates every
// case's tensor expression and returns repr(t) plus the tensor's stored data; the
// test then builds the FormatInput from that data itself and compares strings exactly.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { referencePython } from './helpers/python';
import { formatTensor, printOptions, summaryIndices, summaryNeeded, type FormatInput } from '../lib/core/format';

type Opts = Partial<typeof printOptions>;
interface Case {
  name: string;
  expr: string;
  device?: string;
  opts?: Opts;
}
interface PyResult {
  repr: string;
  shape: number[];
  dtype: string;
  requires_grad: boolean;
  grad_fn: string | null;
  values: (number | string | boolean)[]; // ints of int64 and nan/inf come as strings
}

const c = (name: string, expr: string, extra: Partial<Case> = {}): Case => ({ name, expr, ...extra });
const CASES: Case[] = [
  // 0-d
  c('0-d float', 'torch.tensor(3.5)'),
  c('0-d int', 'torch.tensor(3)'),
  c('0-d -0.0', 'torch.tensor(-0.0)'),
  c('0-d nan', "torch.tensor(float('nan'))"),
  c('0-d bool', 'torch.tensor(True)'),
  c('0-d small', 'torch.tensor(1e-5)'),
  c('0-d float64', 'torch.tensor(2.0, dtype=torch.float64)'),
  // 1-D floats
  c('int-valued floats', 'torch.tensor([1., 2.])'),
  c('zeros', 'torch.zeros(4)'),
  c('int-valued wide', 'torch.tensor([-1., 100., 7.])'),
  c('decimals', 'torch.tensor([1.5, 2.25, -3.125])'),
  c('tenths', 'torch.tensor([0.1, 0.2, 0.3])'),
  c('negatives', 'torch.tensor([-1.5, 2.0, -300.25])'),
  c('half-even ties', 'torch.tensor([0.03125, 0.15625, 1.5])'),
  c('sci tie', 'torch.tensor([10.0625, 1e-5], dtype=torch.float64)'),
  c('sci carry', 'torch.tensor([9.99996, 1e-6], dtype=torch.float64)'),
  c('1e8 not sci', 'torch.tensor([1e8, 1.])'),
  c('1e9 sci', 'torch.tensor([1e9, 1.])'),
  c('1e-4 not sci', 'torch.tensor([1e-4, 1.])'),
  c('1e-5 sci', 'torch.tensor([1e-5, 1.])'),
  c('ratio 1000', 'torch.tensor([1000., 1.])'),
  c('ratio 1001 ints', 'torch.tensor([1001., 1.])'),
  c('ratio sci decimals', 'torch.tensor([1234.5, 0.5])'),
  c('huge', 'torch.tensor([3e38, -1e-38])'),
  c('subnormal', 'torch.tensor([1e-300, 5e-324], dtype=torch.float64)'),
  c('nan inf', "torch.tensor([float('nan'), float('inf'), float('-inf')])"),
  c('nan int-valued', "torch.tensor([float('nan'), 1.])"),
  c('inf decimal', "torch.tensor([float('inf'), 1.5])"),
  c('nan sci', "torch.tensor([float('nan'), 1e10, 1.])"),
  c('neg zero int', 'torch.tensor([-0.0, 1.0])'),
  c('neg zero dec', 'torch.tensor([-0.0, 1.5])'),
  c('neg zero only', 'torch.tensor([-0.0, 0.0])'),
  c('neg zero sci', 'torch.tensor([-0.0, 1e-7, 2.5])'),
  // complex: real and imaginary parts formatted apart, as real+imagj
  c('complex64', 'torch.complex(torch.tensor([1.5, -2.]), torch.tensor([0.5, 3.]))'),
  c('complex fft ints', 'torch.fft.fft(torch.tensor([1., 2., 3., 4.]))'),
  c('complex 0-d', 'torch.complex(torch.tensor(1.5), torch.tensor(-0.25))'),
  c('complex128 summarised sci', 'torch.fft.fft(torch.arange(2000, dtype=torch.float64))'),
  c('complex 2-D', 'torch.complex(torch.randn(2, 3), torch.randn(2, 3))'),
  // 2-D / 3-D / 4-D
  c('2-D randn', 'torch.randn(3, 4)'),
  c('2-D int', 'torch.arange(12).reshape(3, 4)'),
  c('3-D arange', 'torch.arange(24.).reshape(2, 3, 4)'),
  c('3-D randn', 'torch.randn(2, 3, 4) * 100'),
  c('4-D', 'torch.arange(16).reshape(2, 2, 2, 2) - 5'),
  c('column', 'torch.randn(4, 1)'),
  // rows that wrap at linewidth
  c('wrap linspace', 'torch.linspace(0, 1, 30)'),
  c('wrap arange', 'torch.arange(50)'),
  c('wrap randn', 'torch.randn(40)'),
  c('wrap float64', 'torch.randn(20, dtype=torch.float64)'),
  c('wrap 2-D', 'torch.randn(2, 30)'),
  c('wrap sci', 'torch.randn(25) * 1e6'),
  // summarised (numel > threshold)
  c('sum 1-D arange', 'torch.arange(2000)'),
  c('sum 1-D randn', 'torch.randn(2000)'),
  c('sum 1001', 'torch.arange(1001.)'),
  c('sum 2-D randn', 'torch.randn(100, 100)'),
  c('sum 2-D int', 'torch.arange(10000).reshape(100, 100)'),
  c('sum 3-D', 'torch.randn(20, 30, 40)'),
  c('sum short dim', 'torch.randn(2, 1000)'),
  c('sum 3-D short', 'torch.arange(5000.).reshape(5, 10, 100)'),
  c('sum outliers hidden', 'torch.cat([torch.ones(3), torch.full((1000,), 1e-9), torch.ones(3)])'),
  // empty
  c('empty 0', 'torch.tensor([])'),
  c('empty 0x3', 'torch.zeros(0, 3)'),
  c('empty int64', 'torch.zeros(0, dtype=torch.int64)'),
  c('empty f64', 'torch.zeros(2, 0, dtype=torch.float64)'),
  c('empty bool', 'torch.zeros(0, dtype=torch.bool)'),
  // integer and bool dtypes
  c('bool', 'torch.tensor([True, False, True])'),
  c('bool 2-D', 'torch.tensor([[True], [False]])'),
  c('int64', 'torch.tensor([1, -20, 300])'),
  c('int64 big', 'torch.tensor([2**62 + 1, -5])'),
  c('int32', 'torch.tensor([1, 2, 3], dtype=torch.int32)'),
  c('int16', 'torch.tensor([-7, 8], dtype=torch.int16)'),
  c('int8', 'torch.tensor([-128, 127], dtype=torch.int8)'),
  c('uint8', 'torch.tensor([0, 255, 7], dtype=torch.uint8)'),
  c('int32 summarised', 'torch.arange(3000, dtype=torch.int32)'),
  // float dtypes
  c('float64', 'torch.randn(5, dtype=torch.float64)'),
  c('float64 ints', 'torch.tensor([1., 2.], dtype=torch.float64)'),
  c('float16', 'torch.randn(5).half()'),
  c('float16 sci', 'torch.tensor([1000., 0.001], dtype=torch.float16)'),
  c('bfloat16', 'torch.randn(2, 3).bfloat16()'),
  c('bfloat16 big', 'torch.tensor([3e38, 1.], dtype=torch.bfloat16)'),
  // the float8 kinds (Python prints them through float16; float8_e8m0fnu directly, with its own quirks)
  c('float8_e4m3fn', 'torch.tensor([1.5, -2, 448], dtype=torch.float8_e4m3fn)'),
  c('float8_e5m2 sci', 'torch.tensor([57344., 0.0001, -3.5], dtype=torch.float8_e5m2)'),
  c('float8_e4m3fnuz nan', "torch.tensor([float('nan'), 1., 2.], dtype=torch.float8_e4m3fnuz)"),
  c('float8_e5m2fnuz', 'torch.tensor([0.1, -0.25, 3.], dtype=torch.float8_e5m2fnuz)'),
  c('float8_e8m0fnu', "torch.tensor([0.0, 1.0, 2.0**127, float('nan'), 2.0**-126], dtype=torch.float8_e8m0fnu)"),
  c('float8_e8m0fnu sci', 'torch.tensor([4., 1., 1024.], dtype=torch.float8_e8m0fnu)'),
  c('float8_e8m0fnu nan', "torch.tensor([float('nan'), 2.], dtype=torch.float8_e8m0fnu)"),
  c('float8 summarised', 'torch.randn(2000).to(torch.float8_e4m3fn)'),
  c('float8 requires_grad', 'torch.ones(2, dtype=torch.float8_e5m2, requires_grad=True)'),
  c('empty float8', 'torch.zeros(0, dtype=torch.float8_e4m3fn)'),
  // uint16/32/64
  c('uint16', 'torch.tensor([1, 2, 65535], dtype=torch.uint16)'),
  c('uint32', 'torch.tensor([1, 2, 2**32 - 1], dtype=torch.uint32)'),
  c('uint64 big', 'torch.tensor([1, 2**64 - 1], dtype=torch.uint64)'),
  c('empty uint64', 'torch.zeros(2, 0, dtype=torch.uint64)'),
  // autograd suffixes
  c('requires_grad', 'torch.tensor([1., 2.], requires_grad=True)'),
  c('grad_fn add', 'torch.tensor([1., 2.], requires_grad=True) + 1'),
  c('grad_fn 0-d', 'torch.tensor([1., 2.], requires_grad=True).sum()'),
  c('grad_fn f64', 'torch.randn(2, 3, dtype=torch.float64, requires_grad=True) * 2'),
  c('suffix wraps', 'torch.randn(20, dtype=torch.float64, requires_grad=True)'),
  // _add_suffixes boundary: last line + suffix totals 81 (wraps) and 80 (stays)
  c('suffix at 81', 'torch.tensor([-1e-5, 1., 2., 3.], requires_grad=True)'),
  c('suffix at 80', 'torch.arange(13, dtype=torch.int32)'),
  c('requires_grad summarised', 'torch.randn(50, 50, requires_grad=True)'),
  // device suffix
  c('cuda 1-D', 'torch.tensor([1., 2.])', { device: 'cuda:0' }),
  c('cuda f64 grad', 'torch.randn(3, 4, dtype=torch.float64, requires_grad=True)', { device: 'cuda:0' }),
  c('cuda wraps', 'torch.arange(30.)', { device: 'cuda:0' }),
  c('cuda empty', 'torch.zeros(0, 3)', { device: 'cuda:0' }),
  c('cuda int32', 'torch.arange(2000, dtype=torch.int32)', { device: 'cuda:0' }),
  // non-default print options
  c('precision 2', 'torch.tensor([1.12345, 2.5])', { opts: { precision: 2 } }),
  c('precision 0', 'torch.tensor([1.5, 2.5, 1e-6])', { opts: { precision: 0 } }),
  c('sci forced on', 'torch.tensor([1., 2.5])', { opts: { sciMode: true } }),
  c('sci forced off', 'torch.tensor([1e30, 1e-3])', { opts: { sciMode: false } }),
  c('sci off ints', 'torch.tensor([1e25, 3.])', { opts: { sciMode: false } }),
  c('linewidth 40', 'torch.randn(3, 10)', { opts: { linewidth: 40 } }),
  c('threshold 5', 'torch.arange(10)', { opts: { threshold: 5, edgeitems: 2 } }),
  c('edgeitems 0', 'torch.arange(20).reshape(4, 5)', { opts: { threshold: 5, edgeitems: 0 } }),
  c('edgeitems 0 small', 'torch.arange(4)', { opts: { edgeitems: 0 } }),
];

const toPyOpts = (o: Opts = {}): Record<string, unknown> => ({
  ...(o.precision !== undefined && { precision: o.precision }),
  ...(o.threshold !== undefined && { threshold: o.threshold }),
  ...(o.edgeitems !== undefined && { edgeitems: o.edgeitems }),
  ...(o.linewidth !== undefined && { linewidth: o.linewidth }),
  ...(o.sciMode !== undefined && { sci_mode: o.sciMode }),
});

// Device cases: there is no GPU here, so we run PyTorch's own _str_intern with only
// Tensor.device patched to report the given device (and cuda.current_device() -> 0, so
// 'cuda:0' counts as the current device). _str_intern reads self.device only to decide
// and spell the device suffix, so the result is what a real cuda:0 tensor prints.
const PY_SCRIPT = String.raw`
import json, math, sys
try:
    import torch
    from torch._tensor_str import printoptions
except Exception as e:
    sys.stderr.write('cannot import torch: %r\n' % (e,)); sys.exit(3)

def on_device(t, dev):
    saved = torch.cuda.current_device
    torch.Tensor.device = property(lambda self: torch.device(dev))
    torch.cuda.current_device = lambda: 0
    try:
        return repr(t)
    finally:
        del torch.Tensor.device
        torch.cuda.current_device = saved

def enc(v, dtype):
    if isinstance(v, bool): return v
    if isinstance(v, int): return str(v) if dtype in (torch.int64, torch.uint64) else v
    if math.isnan(v): return 'nan'
    if math.isinf(v): return 'inf' if v > 0 else '-inf'
    return v

torch.manual_seed(0)
out = []
for case in json.load(sys.stdin):
    with printoptions(**case['opts']):
        t = eval(case['expr'], {'torch': torch})
        text = on_device(t, case['device']) if case.get('device') else repr(t)
    out.append(dict(repr=text, shape=list(t.shape), dtype=str(t.dtype).replace('torch.', ''),
                    values=[enc(v, t.dtype) for v in (torch.view_as_real(t.detach()) if t.is_complex() else t.detach()).reshape(-1).tolist()],
                    requires_grad=t.requires_grad,
                    grad_fn=type(t.grad_fn).__name__ if t.grad_fn is not None else None))
print(json.dumps(out))
`;

function decode(v: number | string | boolean, dtype: string): number | bigint | boolean {
  if (typeof v !== 'string') return v;
  if (dtype === 'int64' || dtype === 'uint64') return BigInt(v);
  return v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity;
}

/** Row-major gather of the summarised values, the way the addon caller would do it. */
function summarise<T>(flat: T[], shape: number[]): T[] {
  const out: T[] = [];
  const walk = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      out.push(flat[offset]);
      return;
    }
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx = summaryIndices(shape[dim]) ?? Array.from({ length: shape[dim] }, (_, i) => i);
    for (const i of idx) walk(dim + 1, offset + i * stride);
  };
  walk(0, 0);
  return out;
}

function withOptions<T>(opts: Opts | undefined, fn: () => T): T {
  const saved = { ...printOptions };
  Object.assign(printOptions, opts ?? {});
  try {
    return fn();
  } finally {
    Object.assign(printOptions, saved);
  }
}

function inputFor(k: Case, r: PyResult): FormatInput {
  const flat = r.values.map((v) => decode(v, r.dtype));
  const numel = r.shape.reduce((a, b) => a * b, 1);
  const summarized = summaryNeeded(numel);
  return {
    shape: r.shape,
    dtype: r.dtype,
    device: k.device ?? 'cpu',
    // a complex tensor's values are (real, imaginary) pairs: a last dim of 2 to summarise over
    values: summarized ? summarise(flat, r.dtype.startsWith('complex') ? [...r.shape, 2] : r.shape) : flat,
    summarized,
    requiresGrad: r.requires_grad,
    gradFn: r.grad_fn,
  };
}

let results: PyResult[] = [];

beforeAll(() => {
  const python = referencePython();
  const payload = CASES.map((k) => ({ expr: k.expr, device: k.device ?? null, opts: toPyOpts(k.opts) }));
  const p = spawnSync(python.command, ['-c', PY_SCRIPT], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 1 << 28, env: python.env });
  if (p.error || p.status !== 0) {
    throw new Error(`format.test: ${python.source} failed: ${p.error?.message ?? `exit ${p.status}`}\n${p.stderr ?? ''}`);
  }
  results = JSON.parse(p.stdout) as PyResult[];
  if (results.length !== CASES.length) throw new Error('python returned the wrong number of cases');
}, 60_000);

describe('formatTensor matches torch repr', () => {
  CASES.forEach((k, i) => {
    it(k.name, () => {
      const r = results[i];
      const got = withOptions(k.opts, () => formatTensor(inputFor(k, r)));
      expect(got).toBe(r.repr);
    });
  });
});

describe('helpers', () => {
  it('summaryIndices / summaryNeeded', () => {
    expect(summaryIndices(6)).toBeNull();
    expect(summaryIndices(7)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(summaryNeeded(1000)).toBe(false);
    expect(summaryNeeded(1001)).toBe(true);
  });
  it('summarises full values itself when the caller did not', () => {
    const r = results[CASES.findIndex((k) => k.name === 'sum 2-D int')];
    const full: FormatInput = { shape: r.shape, dtype: r.dtype, device: 'cpu', summarized: false, values: r.values.map((v) => decode(v, r.dtype)) };
    expect(formatTensor(full)).toBe(r.repr);
  });
  it('rejects a value count that does not match the shape', () => {
    expect(() => formatTensor({ shape: [2, 2], dtype: 'float32', device: 'cpu', values: [1, 2, 3], summarized: false })).toThrow(/expected 4 values/);
  });
});
