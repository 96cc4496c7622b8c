// safetensors against Python's own `safetensors` package (installed into .reference/, with numpy, by the test
// helper when the reference Python lacks it): files both ways, byte-identical writes, safe_open's
// partial reads, sharded checkpoints into a model, and hundreds of damaged files.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';
import { useTempDir } from './helpers/tmp';

const st = torch.safetensors;
const py = usePyTorch({ packages: ['safetensors', 'numpy'] }); // safetensors.torch imports numpy
const file = useTempDir('torchnode-safetensors-');
const q = (s: string) => JSON.stringify(s);

// Every dtype the format and torchnode share, 0-d, empty and n-d, with values that survive each dtype.
const PY_TENSORS = `
import torch
g = torch.Generator().manual_seed(0)
t = {
  'f32': torch.randn(2, 3, generator=g), 'f64': torch.randn(4, generator=g, dtype=torch.float64),
  'f16': torch.randn(3, 2, generator=g).half(), 'bf16': torch.randn(5, generator=g).bfloat16(),
  'i64': torch.tensor([-(2**62), 7, 2**40]), 'i32': torch.tensor([[1, -2], [3, 4]], dtype=torch.int32),
  'i16': torch.tensor([-300, 300], dtype=torch.int16), 'i8': torch.tensor([-128, 127], dtype=torch.int8),
  'u8': torch.tensor([0, 255, 7], dtype=torch.uint8), 'bool': torch.tensor([True, False, True]),
  'scalar': torch.tensor(3.5), 'empty': torch.zeros(0, 4), 'layer.0.weight': torch.ones(2, 2),
}
`;
const WIRE = `out = {k: (v.float() if v.dtype in (torch.float16, torch.bfloat16) else v) for k, v in t.items()}`;
const DTYPES: Record<string, torch.Dtype> = {
  f32: 'float32',
  f64: 'float64',
  f16: 'float16',
  bf16: 'bfloat16',
  i64: 'int64',
  i32: 'int32',
  i16: 'int16',
  i8: 'int8',
  u8: 'uint8',
  bool: 'bool',
  scalar: 'float32',
  empty: 'float32',
  'layer.0.weight': 'float32',
};

function expectSame(got: Record<string, torch.Tensor>, expected: Record<string, torch.Tensor>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, e] of Object.entries(expected)) {
    expect(got[k].dtype, k).toBe(DTYPES[k] ?? e.dtype);
    const g = got[k].dtype === 'float16' || got[k].dtype === 'bfloat16' ? got[k].float() : got[k];
    expectClose(g, e, { rtol: 0, atol: 0 });
  }
}

describe('files both ways with Python', () => {
  it("Python's save_file loads with Python's values, every dtype, keys in load_file's order", async () => {
    const { expected, order } = await py.run<{ expected: Record<string, torch.Tensor>; order: string[] }>(`${PY_TENSORS}
from safetensors.torch import save_file, load_file
save_file(t, ${q(file('py.safetensors'))}, metadata={'format': 'pt'})
order = list(load_file(${q(file('py.safetensors'))}).keys())
${WIRE}
out = {'expected': out, 'order': order}`);
    const got = st.loadFile(file('py.safetensors'));
    expect(Object.keys(got)).toEqual(order);
    expectSame(got, expected);
    const f = st.safeOpen(file('py.safetensors'));
    expect(f.metadata()).toEqual({ format: 'pt' });
    expect(f.offsetKeys()).toEqual(order);
    expect(f.keys()).toEqual([...order].sort()); // Python's keys() sorts, offset_keys() does not
    f.close();
    expectSame(st.load(fs.readFileSync(file('py.safetensors'))), expected);
  });

  it('what torchnode writes is byte for byte what Python writes for the same tensors and metadata', async () => {
    const tensors = await py.run<Record<string, torch.Tensor>>(`${PY_TENSORS}\n${WIRE}`);
    const typed = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.to(DTYPES[k])]));
    for (const [name, metadata] of [
      ['plain', null],
      ['meta', { format: 'pt' }],
    ] as const) {
      st.saveFile(typed, file(`node-${name}.safetensors`), { metadata });
      await py.run(`${PY_TENSORS}
from safetensors.torch import save_file
save_file(t, ${q(file(`py-${name}.safetensors`))}, metadata=${metadata ? "{'format': 'pt'}" : 'None'})
out = None`);
      const ours = fs.readFileSync(file(`node-${name}.safetensors`));
      expect(ours.equals(fs.readFileSync(file(`py-${name}.safetensors`))), name).toBe(true);
      expect(st.save(typed, { metadata }).equals(ours)).toBe(true);
    }
  });

  it('names that are integers, or __proto__, keep their place; views that do not overlap save as in Python', async () => {
    const qkv = torch.arange(24, { dtype: 'float32' }).reshape(6, 4);
    const [a, b, c] = qkv.chunk(3);
    const tensors: Record<string, torch.Tensor> = {};
    for (const [name, t] of [
      ['10', a],
      ['2', b],
      ['x', c],
      ['__proto__', torch.ones(2)],
    ] as const) {
      Object.defineProperty(tensors, name, { value: t, enumerable: true });
    }
    st.saveFile(tensors, file('names-node.safetensors'));
    await py.run(`
from safetensors.torch import save_file
q = torch.arange(24, dtype=torch.float32).reshape(6, 4)
a, b, c = q.chunk(3)
save_file({'10': a, '2': b, 'x': c, '__proto__': torch.ones(2)}, ${q(file('names-py.safetensors'))})
out = None`);
    expect(fs.readFileSync(file('names-node.safetensors')).equals(fs.readFileSync(file('names-py.safetensors')))).toBe(true);
    const back = st.loadFile(file('names-py.safetensors'));
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect((Object.getOwnPropertyDescriptor(back, '__proto__')!.value as torch.Tensor).toArray()).toEqual([1, 1]);
    expect(back['2'].equal(b)).toBe(true);
    // overlapping views are refused, as Python refuses them
    expect(() => st.save({ all: qkv, part: qkv.narrow(0, 2, 2) })).toThrow(/'all' and 'part' share memory/);
  });

  it("Python loads torchnode's files (several metadata keys too, whose order Python does not fix)", async () => {
    const sd = { a: torch.randn(3, 4), b: torch.arange(6).reshape(2, 3), h: torch.randn(5).half(), flag: torch.tensor([true]) };
    st.saveFile(sd, file('node.safetensors'), { metadata: { format: 'pt', source: 'torchnode', note: 'é ü "quoted"' } });
    const back = await py.run<{ t: Record<string, torch.Tensor>; meta: Record<string, string> }>(`
from safetensors import safe_open
with safe_open(${q(file('node.safetensors'))}, framework='pt') as f:
    t = {k: f.get_tensor(k) for k in f.keys()}
    meta = f.metadata()
out = {'t': {k: (v.float() if v.dtype == torch.float16 else v) for k, v in t.items()}, 'meta': meta}`);
    expect(back.meta).toEqual({ format: 'pt', source: 'torchnode', note: 'é ü "quoted"' });
    for (const [k, v] of Object.entries(sd)) expectClose(back.t[k], v.dtype === 'float16' ? v.float() : v, { rtol: 0, atol: 0 });
  });
});

describe('reading part of a file', () => {
  it('safeOpen reads the header, then only the bytes of the tensor asked for (a 16 GB file, sparse on disk)', () => {
    // 16 GB could not be read into memory here at all (a Buffer holds at most 4 GB in Node 20).
    const big = 4 * 2 ** 32;
    const header = Buffer.from(
      JSON.stringify({
        small: { dtype: 'I64', shape: [4], data_offsets: [0, 32] },
        big: { dtype: 'F32', shape: [2 ** 32], data_offsets: [32, 32 + big] },
      }),
    );
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(BigInt(header.length));
    const small = Buffer.from(new BigInt64Array([0n, 1n, 2n, 3n]).buffer);
    const target = file('huge.safetensors');
    fs.writeFileSync(target, Buffer.concat([n, header, small]));
    fs.truncateSync(target, 8 + header.length + 32 + big);
    const f = st.safeOpen(target);
    expect(f.offsetKeys()).toEqual(['small', 'big']);
    expect(f.keys()).toEqual(['big', 'small']);
    expect(f.getTensor('small').toArray()).toEqual([0, 1, 2, 3]);
    f.close();
    expect(() => f.getTensor('small')).toThrow(/was closed/);
    expect(() => st.safeOpen(target).getTensor('nope')).toThrow(/has no tensor 'nope'/);
    expect(() => st.loadFile(target)).toThrow(/tensor 'big' has 17179869184 bytes, more than one read can hold/);
    fs.rmSync(target);
  });

  it("a sharded checkpoint (model.safetensors.index.json) written by Python loads into the model with Python's outputs", async () => {
    const shards = file('sharded');
    const expected = await py.run<torch.Tensor>(`
import sys, os, json
sys.path.insert(0, ${q(path.resolve(__dirname, '../scripts/reference'))})
import seresnet as R
from safetensors.torch import save_file
torch.manual_seed(3)
m = R.se_resnet18(stem='cifar', num_classes=10, width=16).eval()
sd = m.state_dict()
names = list(sd)
os.makedirs(${q(shards)}, exist_ok=True)
weight_map = {}
for i, part in enumerate([names[:len(names) // 2], names[len(names) // 2:]]):
    shard = f'model-0000{i + 1}-of-00002.safetensors'
    save_file({k: sd[k].contiguous() for k in part}, os.path.join(${q(shards)}, shard), metadata={'format': 'pt'})
    weight_map.update({k: shard for k in part})
json.dump({'metadata': {'total_size': 0}, 'weight_map': weight_map}, open(os.path.join(${q(shards)}, 'model.safetensors.index.json'), 'w'))
x = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
with torch.no_grad():
    out = m(x)`);
    const model = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: 16 }).eval();
    const sd = st.loadSharded(shards);
    expect(Object.keys(sd)).toEqual(Object.keys(model.stateDict()));
    model.loadStateDict(sd);
    const x = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32);
    expectClose(
      torch.noGrad(() => model(x)),
      expected,
      { rtol: 1e-5, atol: 1e-5 },
    );
    // the index file itself, and a shard that lacks what the index says
    expect(Object.keys(st.loadSharded(path.join(shards, 'model.safetensors.index.json')))).toHaveLength(Object.keys(sd).length);
    const index = JSON.parse(fs.readFileSync(path.join(shards, 'model.safetensors.index.json'), 'utf8'));
    index.weight_map['fc.weight'] = 'model-00001-of-00002.safetensors';
    fs.writeFileSync(path.join(shards, 'bad.index.json'), JSON.stringify(index));
    expect(() => st.loadSharded(path.join(shards, 'bad.index.json'))).toThrow(
      /puts 'fc.weight' in model-00001-of-00002.safetensors, which does not hold it/,
    );
    // saveModel / loadModel round trip
    st.saveModel(model, file('model.safetensors'));
    const again = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: 16 }).eval();
    st.loadModel(again, file('model.safetensors'));
    expect(torch.noGrad(() => again(x)).equal(torch.noGrad(() => model(x)))).toBe(true);
  }, 60_000);
});

describe('bad input', () => {
  it('arguments and options are checked before anything is written', () => {
    const target = file('never.safetensors');
    expect(() => st.saveFile({ a: 1 } as never, target)).toThrow(/'a' must be a Tensor/);
    expect(() => st.saveFile({ a: torch.ones(1) }, target, { metadata: { n: 1 } } as never)).toThrow(/metadata must map strings to strings/);
    expect(() => st.saveFile({ a: torch.ones(1) }, target, { meta: {} } as never)).toThrow(/unknown option 'meta'/);
    expect(() => st.loadFile(target, { map_location: 'cpu' } as never)).toThrow(/unknown option 'map_location'/);
    expect(fs.existsSync(target)).toBe(false);
    expect(() => st.loadFile(file('missing.safetensors'))).toThrow(/cannot open .*missing\.safetensors \(ENOENT\)/);
    expect(() => st.loadFile(file())).toThrow(st.SafetensorError);
    expect(() => st.load('abc' as never)).toThrow(/data must be a Buffer/);
  });

  it('lying headers are SafetensorErrors that say what is wrong, never a read past the end', () => {
    const good = st.save({ a: torch.arange(4, { dtype: 'float32' }), b: torch.ones(2) });
    const withHeader = (header: object): Buffer => {
      const json = Buffer.from(JSON.stringify(header));
      const n = Buffer.alloc(8);
      n.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([n, json, good.subarray(8 + Number(good.readBigUInt64LE(0)))]);
    };
    const e = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
    const cases: [Buffer, RegExp][] = [
      [good.subarray(0, 5), /too short for a header/],
      [Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), good.subarray(8)]), /more than the 100000000 allowed/],
      [Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]), good.subarray(8)]), /claims 65536 bytes, but only/],
      [withHeader({ a: e('F32', [4], [0, 16]), b: e('F32', [2], [8, 16]) }), /starts at byte 8 of the data, expected 16/],
      [withHeader({ a: e('F32', [4], [0, 16]), b: e('F32', [2], [16, 240]) }), /claims bytes 16\.\.240 of 24 bytes/],
      [withHeader({ a: e('F32', [5], [0, 16]), b: e('F32', [2], [16, 24]) }), /needs 20 bytes but its data_offsets span 16/],
      [withHeader({ a: e('F32', [4], [0, 16]) }), /cover 16 bytes of data, but 24 follow/],
      [
        withHeader({ a: e('F4', [32], [0, 16]), b: e('F32', [2], [16, 24]) }),
        /dtype F4, which torchnode does not support \(LibTorch has no such dtype\)/,
      ],
      [withHeader({ a: e('X', [16], [0, 16]), b: e('F32', [2], [16, 24]) }), /unknown dtype "X"/],
      [withHeader({ a: e('F32', [-4], [0, 16]), b: e('F32', [2], [16, 24]) }), /bad shape/],
      [withHeader({ a: e('F32', [2 ** 40, 2 ** 40], [0, 16]), b: e('F32', [2], [16, 24]) }), /too large to address/],
      [withHeader({ __metadata__: { n: 1 }, a: e('F32', [4], [0, 16]), b: e('F32', [2], [16, 24]) }), /__metadata__ must map strings to strings/],
      [Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[]')]), /not a JSON object/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => st.load(bytes)).toThrow(st.SafetensorError);
      expect(() => st.load(bytes)).toThrow(message);
      fs.writeFileSync(file('lying.safetensors'), bytes);
      expect(() => st.loadFile(file('lying.safetensors'))).toThrow(new RegExp(`lying\\.safetensors: .*${message.source}`));
    }
  });

  it('hundreds of damaged copies of a Python file: each loads or throws a SafetensorError naming it', async () => {
    await py.run(`${PY_TENSORS}
from safetensors.torch import save_file
save_file(t, ${q(file('fuzz-src.safetensors'))}, metadata={'format': 'pt'})
out = None`);
    const src = fs.readFileSync(file('fuzz-src.safetensors'));
    const headerEnd = 8 + Number(src.readBigUInt64LE(0));
    let state = 0x5afe;
    const rnd = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const damaged: [string, Buffer][] = [];
    for (let i = 0; i < 150; i++) damaged.push(['truncated', src.subarray(0, rnd(src.length))]);
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(src);
      b[rnd(headerEnd)] ^= 1 << rnd(8); // a flipped bit in the size or the JSON
      damaged.push(['flipped', b]);
    }
    const json = src.subarray(8, headerEnd).toString();
    for (let i = 0; i < 200; i++) {
      // a digit of the JSON changed: offsets and shapes that lie
      const digits = [...json.matchAll(/\d/g)].map((m) => m.index!);
      const at = digits[rnd(digits.length)];
      const b = Buffer.from(src);
      b[8 + at] = 0x30 + rnd(10);
      damaged.push(['digit', b]);
    }
    const counts = { ok: 0, threw: 0 };
    for (const [kind, bytes] of damaged) {
      for (const load of [() => st.load(bytes), () => (fs.writeFileSync(file('fuzz.safetensors'), bytes), st.loadFile(file('fuzz.safetensors')))]) {
        try {
          torch.scope(() => void load());
          counts.ok++;
        } catch (e) {
          counts.threw++;
          if (!(e instanceof st.SafetensorError)) throw new Error(`${kind}: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
          expect((e as Error).message).toMatch(/^safetensors: (buffer|.*fuzz\.safetensors): /);
        }
      }
    }
    expect(counts.ok + counts.threw).toBe(damaged.length * 2);
    expect(counts.threw).toBeGreaterThan(damaged.length); // most damage is caught
  });
});
