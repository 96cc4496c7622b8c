// The dtypes LibTorch and safetensors have beyond the common ones: uint16/32/64 and the five float8 kinds,
// against Python's PyTorch (and its `safetensors` package, installed into .reference/ when missing): names
// and kinds, creation from JS values and TypedArrays, conversions bit for bit, repr, which ops work and which
// fail with Python's error, torch.save/load and safetensors files both ways (the files torchnode writes
// byte for byte Python's).
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch } from './helpers/pytorch';
import { useTempDir } from './helpers/tmp';

type Dtype = torch.Dtype;
const UINT: Dtype[] = ['uint16', 'uint32', 'uint64'];
const FLOAT8: Dtype[] = ['float8_e5m2', 'float8_e4m3fn', 'float8_e5m2fnuz', 'float8_e4m3fnuz', 'float8_e8m0fnu'];
const NEW: Dtype[] = [...UINT, ...FLOAT8];

const py = usePyTorch({ packages: ['safetensors', 'numpy'] }); // safetensors.torch imports numpy
const file = useTempDir('torchnode-dtypes-');
const q = (s: string) => JSON.stringify(s); // a Python string literal

/** The raw bytes of a tensor's elements, in row-major order: equal bytes are equal values, bit for bit. */
function bytesOf(t: torch.Tensor): number[] {
  return torch.scope(() => Array.from(t.detach().reshape(-1).contiguous().view('uint8').data() as Uint8Array));
}
const PY_BYTES = `
def raw(t):
    return t.detach().reshape(-1).contiguous().view(torch.uint8).tolist()
`;

/** What a tensor is, to compare with Python's: dtype, shape and bytes. */
function described(t: torch.Tensor): [string, number[], number[]] {
  return [t.dtype, t.shape, bytesOf(t)];
}
const PY_DESCRIBED = `${PY_BYTES}
def described(t):
    return [str(t.dtype).replace('torch.', ''), list(t.shape), raw(t)]
`;

// Values that probe the float8 kinds: exact ones, ties, the edges of each range, subnormals, specials,
// and doubles near a float32 midpoint (double rounding would show).
const F8_VALUES = [
  0,
  -0,
  1,
  -1,
  1.5,
  -2,
  0.1,
  1 / 3,
  0.75,
  15.5,
  17,
  240,
  241,
  248,
  448,
  449,
  464,
  480,
  500,
  1000,
  57344,
  61440,
  1e6,
  -1e6,
  Infinity,
  -Infinity,
  NaN,
  2 ** -6,
  2 ** -7,
  2 ** -9,
  2 ** -10,
  2 ** -14,
  2 ** -16,
  2 ** -17,
  2 ** -18,
  3e-5,
  1e-40,
  2 ** -127,
  2 ** -126,
  2 ** 127,
  3e38,
  1.0625,
  1.0625 + 2 ** -40,
  1.0625 - 2 ** -40,
  1.1875,
  1.0625 + 2 ** -30,
];

describe('names and kinds', () => {
  it("each dtype's name, itemsize and isFloatingPoint are Python's", async () => {
    const expected = await py.run<Record<string, [boolean, number]>>(
      `out = {d: [getattr(torch, d).is_floating_point, getattr(torch, d).itemsize] for d in ${JSON.stringify(NEW)}}`,
    );
    for (const d of NEW) {
      const t = torch.zeros([3], { dtype: d });
      expect(t.dtype).toBe(d); // the code crossed to LibTorch and its name came back
      expect([t.isFloatingPoint(), t.view('uint8').numel() / 3], d).toEqual(expected[d]);
      expect(torch.DTYPES).toContain(d);
    }
  });

  it('a dtype torchnode lacks is a TypeError listing the new ones too', () => {
    const bad = () => torch.zeros([2], { dtype: 'float8' as Dtype });
    expect(bad).toThrow(TypeError);
    for (const d of NEW) expect(bad).toThrow(`'${d}'`);
  });
});

describe('creation', () => {
  it("zeros, ones, full, empty and the *Like factories give Python's tensors", async () => {
    const expected = await py.run<Record<string, [string, number[], number[]][]>>(`${PY_DESCRIBED}
out = {}
for d in ${JSON.stringify(NEW)}:
    dt = getattr(torch, d)
    out[d] = [described(torch.zeros(2, 3, dtype=dt)), described(torch.ones(4, dtype=dt)), described(torch.full((2,), 3, dtype=dt)),
              described(torch.ones_like(torch.zeros(2, dtype=dt))), described(torch.full_like(torch.zeros(3, dtype=dt), 2)),
              described(torch.zeros((), dtype=dt)), described(torch.empty(0, 2, dtype=dt))]`);
    for (const d of NEW) {
      const got = [
        torch.zeros([2, 3], { dtype: d }),
        torch.ones([4], { dtype: d }),
        torch.full([2], 3, { dtype: d }),
        torch.onesLike(torch.zeros([2], { dtype: d })),
        torch.fullLike(torch.zeros([3], { dtype: d }), 2),
        torch.zeros([], { dtype: d }),
        torch.empty([0, 2], { dtype: d }),
      ].map(described);
      expect(got, d).toEqual(expected[d]);
      expect(torch.empty([2, 2], { dtype: d }).dtype).toBe(d);
    }
  });

  it("torch.tensor(numbers, {dtype}) stores what Python's torch.tensor stores, float8 bit for bit", async () => {
    const src = torch.tensor(F8_VALUES, { dtype: 'float64' });
    const expected = await py.run<Record<string, number[]>>(
      `${PY_BYTES}
vals = src.tolist()
out = {d: raw(torch.tensor(vals, dtype=getattr(torch, d))) for d in ${JSON.stringify(FLOAT8)}}`,
      { src },
    );
    for (const d of FLOAT8) expect(bytesOf(torch.tensor(F8_VALUES, { dtype: d })), d).toEqual(expected[d]);
  });

  it('torch.tensor(numbers) into uint16/uint32: in range, wrapping negatives and truncating floats as Python does', async () => {
    const cases: [Dtype, number[]][] = [
      ['uint16', [0, 1, 255, 256, 65535, -1, -65535, 1.5, 2.9, 0.5]],
      ['uint32', [0, 1, 2 ** 32 - 1, -1, 2 ** 31, 1.5, 4e9]],
    ];
    for (const [d, values] of cases) {
      const expected = await py.run<number[]>(`${PY_BYTES}\nout = raw(torch.tensor(${pyList(values)}, dtype=torch.${d}))`);
      expect(bytesOf(torch.tensor(values, { dtype: d })), d).toEqual(expected);
    }
  });

  it('torch.tensor(numbers and bigints) into uint64: exact up to 2^64 - 1', async () => {
    const values = [0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
    const expected = await py.run<number[]>(`${PY_BYTES}\nout = raw(torch.tensor([${values.join(', ')}], dtype=torch.uint64))`);
    expect(bytesOf(torch.tensor(values, { dtype: 'uint64' }))).toEqual(expected);
    const numbers = [0, 7, 2 ** 53, 2 ** 60, 2 ** 64 - 2 ** 11];
    const fromNumbers = await py.run<number[]>(`${PY_BYTES}\nout = raw(torch.tensor(${pyList(numbers)}, dtype=torch.uint64))`);
    expect(bytesOf(torch.tensor(numbers, { dtype: 'uint64' }))).toEqual(fromNumbers);
    expect(bytesOf(torch.tensor([true, 3], { dtype: 'uint64' }))).toEqual(bytesOf(torch.tensor([1n, 3n], { dtype: 'uint64' })));
    // read back: a BigUint64Array exactly, a number (rounded past 2^53, as int64's) from item() and toArray()
    const big = torch.tensor([2n ** 64n - 1n, 5n], { dtype: 'uint64' });
    expect(big.data()).toEqual(new BigUint64Array([2n ** 64n - 1n, 5n]));
    expect(big.index(0).item()).toBe(2 ** 64);
    expect(big.toArray()).toEqual([2 ** 64, 5]);
  });

  it("out-of-range values are Python's errors", async () => {
    // (an integral JS number is a Python int, as everywhere in torch.tensor: 1e30 is Python's 10**30)
    const cases: [Dtype, string, () => unknown][] = [
      ['uint16', '[65536]', () => torch.tensor([65536], { dtype: 'uint16' })],
      ['uint16', '[-65536]', () => torch.tensor([-65536], { dtype: 'uint16' })],
      ['uint16', '[-0.5]', () => torch.tensor([-0.5], { dtype: 'uint16' })],
      ['uint32', '[2**32]', () => torch.tensor([2 ** 32], { dtype: 'uint32' })],
      ['uint32', '[2**32 + 0.5]', () => torch.tensor([2 ** 32 + 0.5], { dtype: 'uint32' })],
      ['uint32', '[10**30]', () => torch.tensor([1e30], { dtype: 'uint32' })],
      ['uint64', '[-1]', () => torch.tensor([-1], { dtype: 'uint64' })],
      ['uint64', '[2**64]', () => torch.tensor([2n ** 64n], { dtype: 'uint64' })],
      ['uint64', '[1.5]', () => torch.tensor([1.5], { dtype: 'uint64' })],
    ];
    const expected = await py.run<[string, string][]>(`
out = []
for d, v in ${JSON.stringify(cases.map(([d, v]) => [d, v]))}:
    try:
        torch.tensor(eval(v), dtype=getattr(torch, d)); out.append(['ok', ''])
    except Exception as e:
        out.append([type(e).__name__, str(e)])`);
    cases.forEach(([d, v, make], i) => {
      const [kind, message] = expected[i];
      expect(kind, `${d} ${v}`).not.toBe('ok');
      expect(make, `${d} ${v}`).toThrow(message);
      // Python's classes: RuntimeError is a TorchError; ValueError and OverflowError a TorchValueError, TypeError a TorchTypeError
      const cls = {
        RuntimeError: torch.TorchError,
        ValueError: torch.TorchValueError,
        OverflowError: torch.TorchValueError,
        TypeError: torch.TorchTypeError,
      }[kind];
      expect(make, `${d} ${v} ${kind}`).toThrow(cls);
    });
  });

  it('Uint16Array, Uint32Array and BigUint64Array keep their types, as NumPy arrays do in Python', async () => {
    const arrays: [ArrayBufferView, Dtype][] = [
      [new Uint16Array([0, 1, 65535]), 'uint16'],
      [new Uint32Array([0, 1, 2 ** 32 - 1]), 'uint32'],
      [new BigUint64Array([0n, 1n, 2n ** 64n - 1n]), 'uint64'],
    ];
    for (const [arr, d] of arrays) {
      const bytes = Array.from(new Uint8Array(arr.buffer));
      const expected = await py.run<[string, number[], number[]]>(
        `${PY_DESCRIBED}\nout = described(torch.asarray(__import__('numpy').frombuffer(bytes(${JSON.stringify(bytes)}), dtype=__import__('numpy').${d})))`,
      );
      for (const t of [
        torch.tensor(arr as torch.TypedArray),
        torch.asarray(arr as torch.TypedArray),
        torch.asTensor(arr as torch.TypedArray),
        torch.frombuffer(arr.buffer as ArrayBuffer, { dtype: d }),
      ])
        expect(described(t), d).toEqual(expected);
      // a row of them among JS numbers promotes as torch.promote_types does: refused unless with a float
      expect(torch.tensor([arr as torch.TypedArray, new Float32Array(3)]).dtype).toBe('float32');
      expect(() => torch.tensor([arr as torch.TypedArray, [1, 2, 3]])).toThrow(
        `Promotion for uint16, uint32, uint64 types is not supported, attempted to promote ${{ uint16: 'UInt16', uint32: 'UInt32', uint64: 'UInt64' }[d as string]} and Long`,
      );
    }
    const promoted = await py.run<string>(`try:
    torch.promote_types(torch.uint16, torch.int64)
except RuntimeError as e:
    out = str(e)`);
    expect(promoted).toBe('Promotion for uint16, uint32, uint64 types is not supported, attempted to promote UInt16 and Long');
  });
});

/**
 * A Python list literal of JS numbers, each the value Python gets from torchnode: an integral number is a
 * Python int (written exactly: past 2^53 JS's shortest form is not the double's value), any other the same
 * double (the shortest repr both languages read back alike).
 */
function pyList(values: number[]): string {
  const lit = (x: number) =>
    Number.isNaN(x)
      ? "float('nan')"
      : x === Infinity
        ? "float('inf')"
        : x === -Infinity
          ? "float('-inf')"
          : Object.is(x, -0)
            ? '-0.0'
            : Number.isInteger(x)
              ? BigInt(x).toString()
              : String(x);
  return `[${values.map(lit).join(', ')}]`;
}

describe('conversions', () => {
  it("float32/float64/float16/bfloat16/int64 → float8 → float32 and between float8 kinds are Python's, bit for bit", async () => {
    const f64 = torch.tensor(F8_VALUES, { dtype: 'float64' });
    const sources: Record<string, torch.Tensor> = {
      float64: f64,
      float32: f64.float(),
      float16: f64.half(),
      bfloat16: f64.bfloat16(),
      int64: torch.tensor([0, 1, -3, 17, 300, 100000, -100000]),
    };
    const expected = await py.run<Record<string, Record<string, number[]>>>(
      `${PY_BYTES}
srcs = {'float64': f64, 'float32': f64.float(), 'float16': f64.half(), 'bfloat16': f64.bfloat16(), 'int64': i64}
out = {}
for d in ${JSON.stringify(FLOAT8)}:
    dt = getattr(torch, d)
    r = {k: raw(v.to(dt)) for k, v in srcs.items()}
    y = f64.to(dt)
    r['back float32'] = raw(y.float())
    r['back float64'] = raw(y.double())
    r['back float16'] = raw(y.half())
    r['back int64'] = raw(y[y.float().isfinite()].long())
    for e in ${JSON.stringify(FLOAT8)}:
        r['to ' + e] = raw(y.to(getattr(torch, e)))
    out[d] = r`,
      { f64, i64: sources.int64 },
    );
    for (const d of FLOAT8) {
      const got: Record<string, number[]> = {};
      for (const [k, v] of Object.entries(sources)) got[k] = bytesOf(v.to(d));
      const y = f64.to(d);
      got['back float32'] = bytesOf(y.float());
      got['back float64'] = bytesOf(y.double());
      got['back float16'] = bytesOf(y.half());
      got['back int64'] = bytesOf(y.index(y.float().isfinite()).long());
      for (const e of FLOAT8) got[`to ${e}`] = bytesOf(y.to(e));
      expect(got, d).toEqual(expected[d]);
      // data() widens to float32 exactly: the values Python's y.float() holds
      expect(y.data()).toEqual(y.float().data());
    }
  });

  it("uint16/uint32/uint64 ↔ float32, float64, int64 and uint8 are Python's", async () => {
    const ints = torch.tensor([0, 1, 200, 255, 256, 65535, 65536, 2 ** 31, -1, -300]);
    const floats = torch.tensor([0, 0.5, 1.9, 255.5, 65535, 1e5], { dtype: 'float64' });
    const expected = await py.run<Record<string, Record<string, number[]>>>(
      `${PY_BYTES}
out = {}
for d in ${JSON.stringify(UINT)}:
    dt = getattr(torch, d)
    y = ints.to(dt)
    f = floats[:5].to(dt) if d == 'uint16' else floats.to(dt)
    out[d] = {'from int64': raw(y), 'from float64': raw(f), 'from float32': raw(floats.float()[:5].to(dt) if d == 'uint16' else floats.float().to(dt)),
              'to int64': raw(y.long()), 'to float32': raw(y.float()), 'to float64': raw(y.double()), 'to uint8': raw(y.to(torch.uint8)),
              'to bool': raw(y.bool()), 'to float8_e5m2': raw(f.to(torch.float8_e5m2)),
              'to others': [raw(y.to(getattr(torch, e))) for e in ${JSON.stringify(UINT)}]}`,
      { ints, floats },
    );
    for (const d of UINT) {
      const y = ints.to(d);
      const n = d === 'uint16' ? '0:5' : ':';
      const f = floats.index(n).to(d);
      const got = {
        'from int64': bytesOf(y),
        'from float64': bytesOf(f),
        'from float32': bytesOf(floats.float().index(n).to(d)),
        'to int64': bytesOf(y.long()),
        'to float32': bytesOf(y.float()),
        'to float64': bytesOf(y.double()),
        'to uint8': bytesOf(y.to('uint8')),
        'to bool': bytesOf(y.bool()),
        'to float8_e5m2': bytesOf(f.to('float8_e5m2')),
        'to others': UINT.map((e) => bytesOf(y.to(e))),
      };
      expect(got, d).toEqual(expected[d]);
    }
  });
});

describe('repr', () => {
  const cases = (d: Dtype): [string, () => torch.Tensor][] => {
    const dt = `torch.${d}`;
    const common: [string, () => torch.Tensor][] = [
      [`torch.zeros(0, dtype=${dt})`, () => torch.zeros([0], { dtype: d })],
      [`torch.zeros(2, 0, dtype=${dt})`, () => torch.zeros([2, 0], { dtype: d })],
      [`torch.tensor(5, dtype=${dt})`, () => torch.tensor(5, { dtype: d })],
      [
        `torch.tensor([[1, 2], [3, 4]], dtype=${dt})`,
        () =>
          torch.tensor(
            [
              [1, 2],
              [3, 4],
            ],
            { dtype: d },
          ),
      ],
      [`torch.arange(2000).to(${dt})`, () => torch.arange(2000).to(d)],
      [`torch.arange(60).reshape(3, 20).to(${dt})`, () => torch.arange(60).reshape(3, 20).to(d)],
    ];
    if (d === 'uint64')
      return [
        ...common,
        [`torch.tensor([1, 2, 2**64 - 1], dtype=${dt})`, () => torch.tensor([1n, 2n, 2n ** 64n - 1n], { dtype: d })],
        [`torch.tensor([0, 2**63], dtype=${dt})`, () => torch.tensor([0n, 2n ** 63n], { dtype: d })],
      ];
    if (d === 'uint16' || d === 'uint32')
      return [...common, [`torch.tensor([1, 2, 65535, 7], dtype=${dt})`, () => torch.tensor([1, 2, 65535, 7], { dtype: d })]];
    return [
      ...common,
      [`torch.tensor([1.5, -2, 448], dtype=${dt})`, () => torch.tensor([1.5, -2, 448], { dtype: d })],
      [`torch.tensor(${pyList(F8_VALUES)}, dtype=${dt})`, () => torch.tensor(F8_VALUES, { dtype: d })],
      [
        `torch.tensor([0.0, 1.0, 2.0**127, float('nan'), 2.0**-126], dtype=${dt})`,
        () => torch.tensor([0, 1, 2 ** 127, NaN, 2 ** -126], { dtype: d }),
      ],
      [`torch.tensor([float('nan'), 1.0, 4.0], dtype=${dt})`, () => torch.tensor([NaN, 1, 4], { dtype: d })],
      [`torch.tensor([4.0, 1.0, 1024.0], dtype=${dt})`, () => torch.tensor([4, 1, 1024], { dtype: d })],
      [`torch.tensor([0.0, 0.5], dtype=${dt})`, () => torch.tensor([0, 0.5], { dtype: d })],
      [`torch.tensor([2.0**-10, 0.25], dtype=${dt})`, () => torch.tensor([2 ** -10, 0.25], { dtype: d })],
      [`torch.ones(2, dtype=${dt}, requires_grad=True)`, () => torch.ones([2], { dtype: d, requiresGrad: true })],
      [`torch.randn(3, 30).to(${dt})`, () => torch.randn([3, 30]).to(d)],
    ];
  };

  it.each(NEW)("%s prints Python's repr", async (d) => {
    const list = cases(d);
    const expected = await py.run<string[]>(`torch.manual_seed(0)\nout = [repr(eval(e)) for e in ${JSON.stringify(list.map(([e]) => e))}]`);
    torch.manualSeed(0);
    list.forEach(([expr, make], i) => expect(String(make()), expr).toBe(expected[i]));
  });
});

// Each op on tensors of the dtype, by Python's expression and torchnode's call: Python's result (dtype,
// shape, bytes) or Python's error class and message.
type Op = [name: string, py: string, js: (x: torch.Tensor, y: torch.Tensor, m: torch.Tensor) => torch.Tensor];
const OPS: Op[] = [
  ['add', 'x + y', (x, y) => x.add(y)],
  ['add scalar', 'x + 1', (x) => x.add(1)],
  ['sub', 'x - y', (x, y) => x.sub(y)],
  ['mul', 'x * y', (x, y) => x.mul(y)],
  ['mul scalar', 'x * 2', (x) => x.mul(2)],
  ['div', 'x / y', (x, y) => x.div(y)],
  ['remainder', 'x % y', (x, y) => x.remainder(y)],
  ['floor_divide', 'x // y', (x, y) => x.floorDivide(y)],
  ['pow', 'x ** 2', (x) => x.pow(2)],
  ['neg', '-x', (x) => x.neg()],
  ['abs', 'x.abs()', (x) => x.abs()],
  ['sqrt', 'x.sqrt()', (x) => x.sqrt()],
  ['sum', 'x.sum()', (x) => x.sum()],
  ['mean', 'x.mean()', (x) => x.mean()],
  ['max', 'x.max()', (x) => x.max()],
  ['min dim', 'x.reshape(2, 2).min(1).values', (x) => x.reshape(2, 2).min(1)[0]],
  ['argmax', 'x.argmax()', (x) => x.argmax()],
  ['eq', 'x == y', (x, y) => x.eq(y)],
  ['eq scalar', 'x == 2', (x) => x.eq(2)],
  ['lt', 'x < y', (x, y) => x.lt(y)],
  ['isnan', 'x.isnan()', (x) => x.isnan()],
  ['isfinite', 'x.isfinite()', (x) => x.isfinite()],
  ['bitwise_and', 'x & y', (x, y) => x.bitwiseAnd(y)],
  ['left shift', 'x << 1', (x) => x.bitwiseLeftShift(1)],
  ['clone', 'x.clone()', (x) => x.clone()],
  ['cat', 'torch.cat([x, y])', (x, y) => torch.cat([x, y])],
  ['stack', 'torch.stack([x, y])', (x, y) => torch.stack([x, y])],
  ['where', 'torch.where(m, x, y)', (x, y, m) => torch.where(m, x, y)],
  ['masked_fill', 'x.masked_fill(m, 3)', (x, y, m) => x.maskedFill(m, 3)],
  ['index', 'x[torch.tensor([0, 2])]', (x) => x.index(torch.tensor([0, 2]))],
  ['slice', 'x[1:]', (x) => x.index('1:')],
  ['gather', 'x.gather(0, torch.tensor([3, 0]))', (x) => x.gather(0, torch.tensor([3, 0]))],
  ['flip', 'x.flip(0)', (x) => x.flip(0)],
  ['t contiguous', 'x.reshape(2, 2).t().contiguous()', (x) => x.reshape(2, 2).t().contiguous()],
  ['view uint8', 'x.view(torch.uint8)', (x) => x.view('uint8')],
  ['matmul', 'x.reshape(2, 2) @ y.reshape(2, 2)', (x, y) => x.reshape(2, 2).matmul(y.reshape(2, 2))],
  ['sort', 'x.sort().values', (x) => x.sort()[0]],
  ['fill_', 'x.clone().fill_(1)', (x) => x.clone().fill_(1)],
  ['copy_', 'torch.empty_like(x).copy_(y)', (x, y) => torch.emptyLike(x).copy_(y)],
  ['zeros_like', 'torch.zeros_like(x)', (x) => torch.zerosLike(x)],
  ['+ float32', 'x + torch.ones(4)', (x) => x.add(torch.ones([4]))],
  ['+ int64', 'x + torch.ones(4, dtype=torch.int64)', (x) => x.add(torch.ones([4], { dtype: 'int64' }))],
  ['arange', 'torch.arange(3, dtype=x.dtype)', (x) => torch.arange(3, { dtype: x.dtype })],
  ['randn', 'torch.randn(2, dtype=x.dtype)', (x) => torch.randn([2], { dtype: x.dtype })],
  ['rand', 'torch.rand(2, dtype=x.dtype)', (x) => torch.rand([2], { dtype: x.dtype })],
  ['requires_grad', 'torch.ones(2, dtype=x.dtype, requires_grad=True)', (x) => torch.ones([2], { dtype: x.dtype, requiresGrad: true })],
];
const PY_CLASS: Record<string, new (...args: never[]) => Error> = {
  RuntimeError: torch.TorchError,
  NotImplementedError: torch.TorchNotImplementedError,
  TypeError: torch.TorchTypeError,
  ValueError: torch.TorchValueError,
  IndexError: torch.TorchIndexError,
};

describe('ops: what works gives Python values, what Python refuses is refused with its message', () => {
  it.each(NEW)('%s', async (d) => {
    const x = torch.tensor([4, 1, 3, 2]).to(d);
    const y = torch.tensor([2, 2, 1, 4]).to(d);
    const m = torch.tensor([true, false, true, false]);
    const expected = await py.run<[string, unknown, unknown, unknown][]>(
      `${PY_BYTES}
x = torch.tensor([4, 1, 3, 2]).to(torch.${d}); y = torch.tensor([2, 2, 1, 4]).to(torch.${d}); m = torch.tensor([True, False, True, False])
out = []
for e in ${JSON.stringify(OPS.map(([, e]) => e))}:
    try:
        r = eval(e)
        out.append(['ok', str(r.dtype).replace('torch.', ''), list(r.shape), raw(r)])
    except Exception as err:
        out.append([type(err).__name__, str(err).split('\\n')[0], None, None])`,
    );
    const summary: string[] = [];
    OPS.forEach(([name, , js], i) => {
      const [kind, a, b, c] = expected[i];
      let got: unknown[];
      try {
        const r = js(x, y, m);
        got = ['ok', r.dtype, r.shape, bytesOf(r)];
      } catch (e) {
        expect(e, `${d} ${name}: ${(e as Error).message}`).toBeInstanceOf(PY_CLASS[kind] ?? torch.TorchError);
        got = [kind, (e as Error).message.split('\n')[0], null, null];
      }
      expect(got, `${d} ${name}`).toEqual([kind, a, b, c]);
      if (kind !== 'ok') summary.push(name);
    });
    // what works at all: creation, copies, comparisons, indexing (asserted above against Python, listed here)
    expect(summary).not.toContain('clone');
    expect(summary).not.toContain('eq');
    expect(summary).not.toContain('index');
    expect(summary).toContain('add');
  });
});

describe('torch.save and torch.load with Python', () => {
  // a tensor of each dtype, a view sharing its storage, a non-contiguous one, a float8 Parameter
  const PY_OBJ = `
def make(src, ints):
    o = {}
    for d in ${JSON.stringify(NEW)}:
        base = (ints if d.startswith('uint') else src).to(getattr(torch, d))
        o[d] = base
        o[d + '.view'] = base[2:]
        o[d + '.t'] = base[:6].reshape(2, 3).t()
    o['f32'] = src.float()
    o['p'] = torch.nn.Parameter(src[:3].to(torch.float8_e4m3fn))
    o['r'] = torch.zeros((), dtype=torch.float8_e5m2)
    return o
`;
  const make = (src: torch.Tensor, ints: torch.Tensor): Record<string, torch.Tensor> => {
    const o: Record<string, torch.Tensor> = {};
    for (const d of NEW) {
      const base = (d.startsWith('uint') ? ints : src).to(d);
      o[d] = base;
      o[`${d}.view`] = base.index('2:');
      o[`${d}.t`] = base.index(':6').reshape(2, 3).t();
    }
    o.f32 = src.float();
    o.p = new torch.nn.Parameter(src.index(':3').to('float8_e4m3fn'));
    o.r = torch.zeros([], { dtype: 'float8_e5m2' });
    return o;
  };
  const src = torch.tensor([1.5, -2, 448, 0.125, 3, 1e-3, 100, -0.5], { dtype: 'float64' });
  const ints = torch.tensor([0n, 1n, 65535n, 7n, 2n ** 31n, 3n, 9n, 12n]);

  it("Python's torch.load reads torchnode's file (storages shared as saved), and data.pkl is byte for byte Python's", async () => {
    const ours = file('node.pt');
    torch.save(make(src, ints), ours);
    const r = await py.run<{ same: boolean; got: Record<string, [string, number[], number[]]>; shared: boolean[]; grad: boolean }>(
      `${PY_DESCRIBED}${PY_OBJ}
import zipfile, collections
theirs = ${q(file('py.pt'))}
torch.save(collections.OrderedDict(make(src, ints)), theirs)  # torchnode saves an object of tensors as a state dict
o = torch.load(${q(ours)})
out = {'same': zipfile.ZipFile(${q(ours)}).read('archive/data.pkl') == zipfile.ZipFile(theirs).read('py/data.pkl'),
       'got': {k: described(v) for k, v in o.items()},
       'shared': [o[d].untyped_storage().data_ptr() == o[d + '.view'].untyped_storage().data_ptr() for d in ${JSON.stringify(NEW)}],
       'grad': isinstance(o['p'], torch.nn.Parameter) and o['p'].requires_grad}`,
      { src, ints },
    );
    expect(r.same).toBe(true);
    const expected = make(src, ints);
    expect(Object.keys(r.got)).toEqual(Object.keys(expected));
    for (const [k, t] of Object.entries(expected)) expect(r.got[k], k).toEqual(described(t));
    expect(r.shared.every(Boolean)).toBe(true);
    expect(r.grad).toBe(true);
  });

  it("torchnode's torch.load reads Python's file, views still views", async () => {
    const theirs = file('py2.pt');
    await py.run(`${PY_OBJ}\ntorch.save(make(src, ints), ${q(theirs)})\nout = None`, { src, ints });
    const o = torch.load<Record<string, torch.Tensor>>(theirs);
    const expected = make(src, ints);
    expect(Object.keys(o)).toEqual(Object.keys(expected));
    for (const [k, t] of Object.entries(expected)) expect(described(o[k]), k).toEqual(described(t));
    expect(o.p).toBeInstanceOf(torch.nn.Parameter);
    expect(o.p.requiresGrad).toBe(true);
    o.uint16.fill_(9);
    expect(o['uint16.view'].toArray()).toEqual([9, 9, 9, 9, 9, 9]);
  });

  it('tensors viewing one storage as different types: what Python refuses is refused, what it allows is saved', async () => {
    const r = await py.run<string[]>(`
out = []
b = torch.zeros(4, dtype=torch.int16)
for o in [{'a': b, 'b': b.view(torch.uint16)}, {'a': b.view(torch.uint8), 'b': b.view(torch.uint16)}, {'a': b.view(torch.uint16), 'b': b.view(torch.float8_e4m3fn)}]:
    try:
        torch.save(o, ${q(file('mixed.pt'))}); out.append('ok')
    except RuntimeError as e:
        out.append(str(e))`);
    const b = torch.zeros([4], { dtype: 'int16' });
    const cases = [
      { a: b, b: b.view('uint16') },
      { a: b.view('uint8'), b: b.view('uint16') },
      { a: b.view('uint16'), b: b.view('float8_e4m3fn') },
    ];
    expect(r[0]).toMatch(/Cannot save multiple tensors or storages that view the same data as different types/);
    expect(() => torch.save(cases[0], file('mixed-node.pt'))).toThrow(
      /cannot save multiple tensors or storages that view the same data as different types \(int16 and uint16/,
    );
    expect(r.slice(1)).toEqual(['ok', 'ok']);
    for (const c of cases.slice(1)) {
      torch.save(c, file('mixed-node.pt'));
      const back = torch.load<Record<string, torch.Tensor>>(file('mixed-node.pt'));
      expect(described(back.b)).toEqual(described(c.b));
    }
  });
});

describe('safetensors with Python', () => {
  // every dtype the format and LibTorch share, the new ones among the old, so the order by dtype shows
  const PY_T = `
def make(src, ints):
    t = {}
    for d in ${JSON.stringify(NEW)}:
        t[d] = (ints if d.startswith('uint') else src).to(getattr(torch, d))
    for d in ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'complex64']:
        t['old.' + d] = src.to(getattr(torch, d))
    t['empty'] = torch.zeros(0, 3, dtype=torch.float8_e4m3fn)
    t['scalar'] = torch.tensor(7, dtype=torch.uint32)
    return t
`;
  const make = (src: torch.Tensor, ints: torch.Tensor): Record<string, torch.Tensor> => {
    const t: Record<string, torch.Tensor> = {};
    for (const d of NEW) t[d] = (d.startsWith('uint') ? ints : src).to(d);
    for (const d of ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'complex64'] as Dtype[])
      t[`old.${d}`] = src.to(d);
    t.empty = torch.zeros([0, 3], { dtype: 'float8_e4m3fn' });
    t.scalar = torch.tensor(7, { dtype: 'uint32' });
    return t;
  };
  const src = torch.tensor([1.5, -2, 448, 0.125, 3, 1e-3], { dtype: 'float64' });
  const ints = torch.tensor([0n, 1n, 65535n, 7n, 2n ** 31n, 3n]);

  it("torchnode's file is byte for byte Python's save_file, and Python's safe_open reads it", async () => {
    const ours = file('node.safetensors');
    torch.safetensors.saveFile(make(src, ints), ours, { metadata: { format: 'pt' } });
    const r = await py.run<{ same: boolean; got: Record<string, [string, number[], number[]]>; codes: Record<string, string> }>(
      `${PY_DESCRIBED}${PY_T}
import json
from safetensors.torch import save_file
from safetensors import safe_open
theirs = ${q(file('py.safetensors'))}
save_file(make(src, ints), theirs, metadata={'format': 'pt'})
with safe_open(${q(ours)}, framework='pt') as f:
    got = {k: described(f.get_tensor(k)) for k in f.keys()}
raw_file = open(theirs, 'rb').read()
header = json.loads(raw_file[8:8 + int.from_bytes(raw_file[:8], 'little')])
out = {'same': open(${q(ours)}, 'rb').read() == raw_file, 'got': got,
       'codes': {k: v['dtype'] for k, v in header.items() if k != '__metadata__'}}`,
      { src, ints },
    );
    expect(r.same).toBe(true);
    const expected = make(src, ints);
    for (const [k, t] of Object.entries(expected)) expect(r.got[k], k).toEqual(described(t));
    expect(r.codes).toMatchObject({
      uint16: 'U16',
      uint32: 'U32',
      uint64: 'U64',
      float8_e5m2: 'F8_E5M2',
      float8_e4m3fn: 'F8_E4M3',
      float8_e5m2fnuz: 'F8_E5M2FNUZ',
      float8_e4m3fnuz: 'F8_E4M3FNUZ',
      float8_e8m0fnu: 'F8_E8M0',
    });
  });

  it("Python's save_file loads in torchnode with its values, in load_file's order", async () => {
    const theirs = file('py2.safetensors');
    const order = await py.run<string[]>(
      `${PY_T}
from safetensors.torch import save_file
from safetensors import safe_open
save_file(make(src, ints), ${q(theirs)})
with safe_open(${q(theirs)}, framework='pt') as f:
    out = list(f.offset_keys())`,
      { src, ints },
    );
    const got = torch.safetensors.loadFile(theirs);
    expect(Object.keys(got)).toEqual(order);
    const expected = make(src, ints);
    for (const [k, t] of Object.entries(expected)) expect(described(got[k]), k).toEqual(described(t));
    const f = torch.safetensors.safeOpen(theirs);
    expect(described(f.getTensor('float8_e8m0fnu'))).toEqual(described(expected.float8_e8m0fnu));
    f.close();
  });
});
