// torch.save / torch.load against Python's own: what Node saves, Python's plain torch.load(path)
// (weights_only=True, its default) reads with equal values; what Python's torch.save writes (a
// state_dict OrderedDict, a training checkpoint), Node loads and a model fed with it gives Python's
// outputs. Also: atomic writes, the async forms, bad files, mapLocation, and a fuzz of hundreds of
// damaged files (part of it in a child process, so an abort would be seen, not suffered).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { PickleWriter } from '../lib/io/pickle';
import { PyTorch, expectClose } from './helpers/pytorch';
import { collect, gc } from './helpers/gc';

const { models, nn, optim, save, load, saveAsync, loadAsync } = torch;
const REPO = path.resolve(__dirname, '..');
let py: PyTorch;
let dir: string;
const file = (name: string) => path.join(dir, name);
const q = (s: string) => JSON.stringify(s); // a Python string literal

beforeAll(async () => {
  py = await PyTorch.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-serialize-'));
  await py.run(`import serialize_fixtures\nserialize_fixtures.make(${q(dir)})\nout = None`);
  makeNodeFixture(file('node_small.pt'));
  startFuzzChild();
}, 60_000);
afterAll(() => {
  py?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const exact = { rtol: 0, atol: 0 };
/** max |a - b| / max |b|. */
function relError(a: torch.Tensor, b: torch.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return torch.scope(() => (a.sub(b).abs().max().item() as number) / ((b.abs().max().item() as number) || 1));
}
const tmpLeftovers = (d: string) => fs.readdirSync(d).filter((n) => n.includes('.tmp-'));
/** A training checkpoint as Python's torch.save writes one (py_small.pt, proto*.pt, and the test's own). */
interface Checkpoint {
  model: torch.nn.StateDict;
  optimizer: torch.optim.OptimizerStateDict;
  epoch: number;
}

describe('Node saves, Python torch.load (weights_only=True) reads', () => {
  it('every dtype; 0-d, empty, non-contiguous, offset, expanded and requires-grad tensors; shared storage', async () => {
    torch.manualSeed(0);
    const base = torch.randn([4, 6]);
    const tensors: Record<string, torch.Tensor> = {
      float32: torch.randn([3, 4]),
      float64: torch.randn([2, 3], { dtype: 'float64' }),
      float16: torch.randn([5]).half(),
      bfloat16: torch.randn([2, 2]).bfloat16(),
      int64: torch.tensor([1, -2, 3, 2 ** 40], { dtype: 'int64' }),
      int32: torch.tensor(
        [
          [1, -2],
          [3, 2 ** 30],
        ],
        { dtype: 'int32' },
      ),
      int16: torch.tensor([-32768, 32767], { dtype: 'int16' }),
      int8: torch.tensor([-128, 127, 0], { dtype: 'int8' }),
      uint8: torch.tensor([0, 255, 7], { dtype: 'uint8' }),
      bool: torch.tensor([true, false, true]),
      scalar: torch.tensor(3.5),
      empty: torch.zeros([0, 3]),
      base,
      transposed: base.t(),
      slice: base.index('1:3', '::2'),
      expanded: torch.randn([3, 1]).expand(3, 4),
      grad: torch.randn([2], { requiresGrad: true }),
    };
    const p = file('dtypes.pt');
    save(tensors, p);
    type Row = [string, number[], number[], number, boolean, torch.Tensor];
    const r = await py.run<Record<string, Row> & { _type: string; _shared: boolean[] }>(`
x = torch.load(${q(p)})
out = {k: [str(v.dtype)[6:], list(v.shape), list(v.stride()), v.storage_offset(), v.requires_grad,
           v.detach().float() if v.dtype in (torch.float16, torch.bfloat16) else v.detach()] for k, v in x.items()}
out['_type'] = type(x).__name__
out['_shared'] = [x[k].untyped_storage().data_ptr() == x['base'].untyped_storage().data_ptr() for k in ('transposed', 'slice')]`);
    // All values are tensors: a state dict, so an OrderedDict as state_dict() returns.
    expect(r._type).toBe('OrderedDict');
    expect(r._shared).toEqual([true, true]);
    const layout: Record<string, [number[], number]> = { transposed: [[1, 6], 0], slice: [[6, 2], 6], expanded: [[1, 0], 0] };
    for (const [k, t] of Object.entries(tensors)) {
      const [dtype, shape, stride, offset, requiresGrad, values] = r[k];
      expect(dtype, k).toBe(t.dtype);
      expect(shape, k).toEqual(t.shape);
      expect(stride, k).toEqual(t.stride());
      expect(offset, k).toBe(layout[k]?.[1] ?? 0);
      if (layout[k]) expect(stride, k).toEqual(layout[k][0]);
      expect(requiresGrad, k).toBe(k === 'grad');
      expectClose(values, t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.float() : t.detach(), exact);
    }
  });

  it('nested objects and arrays: ints, big ints, floats, strings, booleans, None, bytes, sets, Maps, shared references', async () => {
    const t1 = torch.arange(0, 4);
    const t2 = torch.ones([2, 2]);
    const obj: Record<string, unknown> = {
      epoch: 3,
      lr: 0.1,
      name: 'réseau ✓',
      flags: [true, false, null, undefined],
      nested: { list: [t1, [t2, { deep: t1 }]], empty: {}, emptyList: [] },
      big: 2n ** 70n,
      negbig: -(2n ** 70n),
      neg: -5,
      i32: -70000,
      u16: 40000,
      large: 2 ** 40,
      unsafe: 2 ** 60,
      float: 1.5,
      nan: NaN,
      inf: -Infinity,
      negzero: -0,
      bytes: Buffer.from([0, 255, 10]),
      set: new Set([1, 2]),
      map: new Map<unknown, unknown>([
        [1, 'one'],
        ['k', t1],
      ]),
      intKeys: { '0': 'a', '10': 'b', '01': 'c' },
      same: [t2, t2],
      long: Array.from({ length: 2500 }, (_, i) => i),
    };
    const p = file('nested.pt');
    save(obj, p);
    const ok = await py.run<boolean>(
      `
import math
x = torch.load(${q(p)})
assert type(x) is dict, type(x)
assert x['epoch'] == 3 and type(x['epoch']) is int
assert x['lr'] == 0.1 and type(x['lr']) is float
assert x['name'] == 'réseau ✓'
assert x['flags'] == [True, False, None, None]
n = x['nested']
assert torch.equal(n['list'][0], t1) and torch.equal(n['list'][1][0], t2) and n['list'][1][1]['deep'] is n['list'][0]
assert n['empty'] == {} and n['emptyList'] == []
assert x['big'] == 2**70 and x['negbig'] == -2**70 and x['neg'] == -5 and x['i32'] == -70000 and x['u16'] == 40000
assert x['large'] == 2**40 and type(x['large']) is int and x['unsafe'] == 2.0**60 and type(x['unsafe']) is float
assert x['float'] == 1.5 and math.isnan(x['nan']) and x['inf'] == float('-inf')
assert type(x['negzero']) is float and math.copysign(1, x['negzero']) == -1
assert x['bytes'] == b'\\x00\\xff\\n'
assert x['set'] == {1, 2}
assert list(x['map'].keys()) == [1, 'k'] and x['map'][1] == 'one' and torch.equal(x['map']['k'], t1)
assert x['intKeys'] == {0: 'a', 10: 'b', '01': 'c'}, x['intKeys']
assert x['same'][0] is x['same'][1]
assert x['long'] == list(range(2500))
out = True`,
      { t1, t2 },
    );
    expect(ok).toBe(true);
  });

  it("data.pkl is byte-for-byte Python's, and the zip has Python's records, 64-byte aligned", async () => {
    const p = file('layout.pt');
    save({ a: torch.ones([2]), b: torch.arange(0, 6).view(2, 3).index(':', '1:'), n: 1, f: 0.5, s: 'x', l: [1, 2, [3]] }, p);
    const r = await py.run<{ same: boolean; names: string[]; records: Record<string, string>; aligned: boolean[]; unsafe: string[]; mmap: boolean }>(`
import zipfile, struct
pp = ${q(file('layout_py.pt'))}
torch.save({'a': torch.ones(2), 'b': torch.arange(6).view(2, 3)[:, 1:], 'n': 1, 'f': 0.5, 's': 'x', 'l': [1, 2, [3]]}, pp)
z = zipfile.ZipFile(${q(p)})
raw = open(${q(p)}, 'rb').read()
def data_offset(info):
    n, m = struct.unpack('<HH', raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + n + m
out = {'same': z.read('archive/data.pkl') == zipfile.ZipFile(pp).read('layout_py/data.pkl'),
       'names': z.namelist(),
       'records': {k: z.read('archive/' + k).decode() for k in ('version', 'byteorder', '.format_version', '.storage_alignment')},
       'aligned': [data_offset(i) % 64 == 0 for i in z.infolist()],
       'unsafe': torch.serialization.get_unsafe_globals_in_checkpoint(${q(p)}),
       'mmap': torch.equal(torch.load(${q(p)}, mmap=True)['b'], torch.arange(6).view(2, 3)[:, 1:])}`);
    expect(r.same).toBe(true);
    expect(r.names).toEqual([
      'archive/data.pkl',
      'archive/.format_version',
      'archive/.storage_alignment',
      'archive/byteorder',
      'archive/data/0',
      'archive/data/1',
      'archive/version',
      'archive/.data/serialization_id',
    ]);
    expect(r.records).toEqual({ version: '3\n', byteorder: 'little', '.format_version': '1', '.storage_alignment': '64' });
    expect(r.aligned.every(Boolean)).toBe(true);
    expect(r.unsafe).toEqual([]); // nothing outside the weights-only allow-list
    expect(r.mmap).toBe(true); // torch.load(mmap=True) maps the aligned records
  });

  it('a seResNet18 state dict, an SGD state dict and a checkpoint load into the Python model and optimizer', async () => {
    torch.manualSeed(0);
    const model = models.seResNet18({ numClasses: 10 });
    const x = torch.randn([2, 3, 32, 32]);
    const target = torch.tensor([1, 7], { dtype: 'int64' });
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    model.train();
    nn.functional.crossEntropy(model(x), target).backward();
    opt.step();
    opt.zeroGrad();
    model.eval();
    const logits = torch.noGrad(() => model(x));
    const [sdPath, optPath, ckPath] = [file('se18.pt'), file('sgd.pt'), file('ckpt.pt')];
    save(model.stateDict(), sdPath);
    save(opt.stateDict(), optPath);
    save({ model: model.stateDict(), optimizer: opt.stateDict(), epoch: 3, history: { loss: [2.5, 1.75, 1.125] } }, ckPath);
    const r = await py.run<{ logits: torch.Tensor; ck_logits: torch.Tensor; buf: torch.Tensor; group: Record<string, unknown>; rest: unknown[] }>(
      `
import collections
import seresnet as R
def model_from(sd):
    m = R.se_resnet18(num_classes=10)
    m.load_state_dict(sd)  # strict
    return m.eval()
sd = torch.load(${q(sdPath)})
assert type(sd) is collections.OrderedDict
m = model_from(sd)
opt = torch.optim.SGD(m.parameters(), lr=0.5)
opt.load_state_dict(torch.load(${q(optPath)}))
assert len(opt.state) == len(list(m.parameters()))
ck = torch.load(${q(ckPath)})
m2 = model_from(ck['model'])
opt2 = torch.optim.SGD(m2.parameters(), lr=0.5)
opt2.load_state_dict(ck['optimizer'])
assert torch.equal(opt2.state[m2.fc.weight]['momentum_buffer'], opt.state[m.fc.weight]['momentum_buffer'])
with torch.no_grad():
    out = {'logits': m(x), 'ck_logits': m2(x), 'buf': opt.state[m.conv1.weight]['momentum_buffer'],
           'group': {k: v for k, v in opt.param_groups[0].items() if k != 'params'},
           'rest': [ck['epoch'], type(ck['epoch']).__name__, ck['history']['loss'], sorted(ck['optimizer']['state'])[:3]]}`,
      { x },
    );
    expect(relError(r.logits, logits)).toBeLessThanOrEqual(1e-5);
    expect(relError(r.ck_logits, logits)).toBeLessThanOrEqual(1e-5);
    expectClose(r.buf, opt.state.get(model.conv1.weight)!.momentumBuffer, exact);
    expect(r.group).toMatchObject({ lr: 0.1, momentum: 0.9, weight_decay: 5e-4, nesterov: true, dampening: 0, maximize: false });
    expect(r.rest).toEqual([3, 'int', [2.5, 1.75, 1.125], [0, 1, 2]]);
  }, 60_000);
});

describe('Python saves, Node loads', () => {
  it("a state_dict and a checkpoint: model.loadStateDict(torch.load(path)) gives Python's outputs; the optimizer resumes", async () => {
    const [sdPath, ckPath] = [file('py_se18.pt'), file('py_ckpt.pt')];
    torch.manualSeed(3);
    const x = torch.randn([2, 3, 32, 32]);
    const r = await py.run<{ logits: torch.Tensor; buf: torch.Tensor }>(
      `
import seresnet as R
torch.manual_seed(0)
m = R.se_resnet18(num_classes=10)
with torch.no_grad():
    for n, b in m.named_buffers():
        if 'running_var' in n: b.uniform_(0.5, 1.5)
        if 'running_mean' in n: b.normal_(0, 0.1)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
m.train()
torch.nn.functional.cross_entropy(m(x), torch.tensor([1, 7])).backward()
opt.step()
torch.save(m.state_dict(), ${q(sdPath)})
torch.save({'model': m.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 3,
            'history': {'loss': [2.5, 1.25]}, 'best': None, 'tag': 'run-1'}, ${q(ckPath)})
m.eval()
with torch.no_grad():
    out = {'logits': m(x), 'buf': opt.state[m.fc.weight]['momentum_buffer']}`,
      { x },
    );

    const model = models.seResNet18({ numClasses: 10 });
    const sd = load<torch.nn.StateDict>(sdPath);
    expect(Object.keys(sd)).toEqual(Object.keys(model.stateDict()));
    expect(Object.getOwnPropertyDescriptor(sd, '_metadata')?.enumerable).toBe(false); // kept, but not a key
    expect(model.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    model.eval();
    expect(
      relError(
        torch.noGrad(() => model(x)),
        r.logits,
      ),
    ).toBeLessThanOrEqual(1e-5);

    type TrainingCheckpoint = Checkpoint & { history: { loss: number[] }; best: null; tag: string };
    const ck = await loadAsync<TrainingCheckpoint>(ckPath);
    expect(ck.epoch).toBe(3);
    expect(ck.history).toEqual({ loss: [2.5, 1.25] });
    expect(ck.best).toBeNull();
    expect(ck.tag).toBe('run-1');
    const model2 = models.seResNet18({ numClasses: 10 });
    model2.loadStateDict(ck.model);
    const opt = new optim.SGD(model2.parameters(), { lr: 0.5 });
    opt.loadStateDict(ck.optimizer);
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    expectClose(opt.state.get(model2.fc.weight)!.momentumBuffer, r.buf, exact);
    model2.eval();
    expect(
      relError(
        torch.noGrad(() => model2(x)),
        r.logits,
      ),
    ).toBeLessThanOrEqual(1e-5);
  }, 60_000);

  it("Python's other values (tuple, Size, device, dtype, set, bytes, big ints, Parameter, Counter, tuple keys) and back", async () => {
    // misc.pt's values as load() gives them (see scripts/reference/serialize_fixtures.py)
    type Misc = {
      tuple: torch.Loaded[];
      size: number[];
      device: string;
      cuda_device: string;
      dtype: string;
      set: Set<number>;
      bytes: Buffer;
      big: bigint;
      negbig: bigint;
      none: null;
      nested: torch.Loaded[];
      int_keys: Record<number, string>;
      tuple_keys: Map<number[], string>;
      param: torch.nn.Parameter;
      counter: Record<string, number>;
      float: number;
      shared: torch.Tensor[];
    };
    const m = load<Misc>(file('misc.pt'));
    expect(m.tuple).toEqual([1, 2.5, 'x']);
    expect(m.size).toEqual([2, 3]);
    expect([m.device, m.cuda_device, m.dtype]).toEqual(['cpu', 'cuda:1', 'float16']);
    expect(m.set).toEqual(new Set([1, 2]));
    expect(m.bytes).toEqual(Buffer.from([0x61, 0x62, 0, 0xff]));
    expect([m.big, m.negbig]).toEqual([2n ** 70n, -(2n ** 70n)]);
    expect(m.none).toBeNull();
    expect(m.nested).toEqual([[1, [2]], { a: { b: 3 } }]);
    expect(m.int_keys).toEqual({ 0: 'a', 1: 'b' });
    expect(m.tuple_keys).toEqual(new Map([[[1, 2], 'x']]));
    expect(m.param).toBeInstanceOf(nn.Parameter);
    expect(m.param.requiresGrad).toBe(true);
    expect(m.counter).toEqual({ a: 2, b: 1 });
    expect(m.shared[0]).toBe(m.shared[1]); // one object in Python, one Tensor here

    // Saved back from Node, Python reads the same values (int keys stay ints, the Parameter a Parameter).
    const p = file('misc_back.pt');
    save(m, p);
    const ok = await py.run<boolean>(`
x = torch.load(${q(p)})
y = torch.load(${q(file('misc.pt'))})
assert x['int_keys'] == {0: 'a', 1: 'b'} and x['tuple'] == [1, 2.5, 'x'] and x['set'] == {1, 2} and x['bytes'] == y['bytes']
assert x['big'] == y['big'] and x['negbig'] == y['negbig'] and x['nested'] == y['nested'] and x['counter'] == {'a': 2, 'b': 1}
assert type(x['param']) is torch.nn.Parameter and x['param'].requires_grad and torch.equal(x['param'], y['param'])
assert x['shared'][0] is x['shared'][1] and x['tuple_keys'] == {(1, 2): 'x'}
out = True`);
    expect(ok).toBe(true);
  });

  it("a state dict's OrderedDict type and _metadata survive a Node round trip", async () => {
    const sdIn = load<Checkpoint>(file('py_small.pt')).model;
    const p = file('py_small_back.pt');
    save({ model: sdIn }, p);
    const r = await py.run<unknown[]>(`
x = torch.load(${q(p)})['model']
y = torch.load(${q(file('py_small.pt'))})['model']
out = [type(x).__name__, x._metadata == y._metadata, list(x.keys()) == list(y.keys()), all(torch.equal(x[k], y[k]) for k in x)]`);
    expect(r).toEqual(['OrderedDict', true, true, true]);
  });

  it('pickle protocols 4 and 5 (torch.save(..., pickle_protocol=N)) load like the default 2', () => {
    type ProtoCheckpoint = Checkpoint & { names: string[]; t: number[] };
    const ref = load<ProtoCheckpoint>(file('proto2.pt'));
    for (const proto of [4, 5]) {
      const r = load<ProtoCheckpoint>(file(`proto${proto}.pt`));
      expect(Object.keys(r)).toEqual(Object.keys(ref));
      expect([r.epoch, r.names, r.t]).toEqual([1, ['a', 'b', 'a', 'b', 'a', 'b'], [1, 2, 3, 4]]);
      for (const [k, v] of Object.entries(ref.model as Record<string, torch.Tensor>)) expect(r.model[k].equal(v), k).toBe(true);
      expect(r.optimizer.param_groups).toEqual(ref.optimizer.param_groups);
      expect(r.optimizer.state['0'].momentum_buffer.equal(ref.optimizer.state['0'].momentum_buffer)).toBe(true);
    }
  });
});

describe('Python values that must survive a Node round trip', () => {
  it('a set of tuples comes back a set of tuples (its arrays go as tuples, as Map keys do)', async () => {
    const src = file('set_tuples.pt');
    await py.run(`torch.save({'s': {(1, 2), (3, (4, 'x')), (), 'a', 5}}, ${q(src)})\nout = None`);
    const r = load<{ s: Set<unknown> }>(src);
    expect(r.s).toEqual(new Set([[1, 2], [3, [4, 'x']], [], 'a', 5]));
    const back = file('set_tuples_back.pt');
    save(r, back);
    const ok = await py.run<boolean>(`x = torch.load(${q(back)}); y = torch.load(${q(src)})
assert x == y, x
out = True`);
    expect(ok).toBe(true);
  });

  it('dict int keys beyond 2**53 are saved back as the same ints', async () => {
    const src = file('big_keys.pt');
    await py.run(`torch.save({2**60 + 1: 'a', -(2**70) - 3: 'b', 7: 'c', '9007199254740993': 'd'}, ${q(src)})\nout = None`);
    const r = load<Record<string, string>>(src);
    expect(r['1152921504606846977']).toBe('a');
    const back = file('big_keys_back.pt');
    save(r, back);
    const keys = await py.run<string[]>(`x = torch.load(${q(back)})
assert x == torch.load(${q(src)}), x
out = [repr(k) for k in x]`);
    expect(keys).toEqual(['1152921504606846977', '-1180591620717411303427', '7', "'9007199254740993'"]);
  });

  it('ints wider than 255 bytes: LONG4 as CPython pickles it; torch.save refuses them (Python cannot load them), torch.load reads them', async () => {
    const ints = [
      0n,
      1n,
      -1n,
      127n,
      128n,
      255n,
      256n,
      -128n,
      -129n,
      2n ** 63n,
      -(2n ** 63n),
      2n ** 2039n - 1n,
      2n ** 2039n,
      -(2n ** 2039n),
      -(2n ** 2039n) - 1n,
      2n ** 2100n,
      -(2n ** 4000n) + 1n,
      2n ** 40000n,
    ];
    const ref = await py.run<string[]>(`import pickle
out = [pickle.dumps(int(v, 16), 2).hex() for v in ${JSON.stringify(ints.map((v) => v.toString(16)))}]`);
    const mine = ints.map((v) => {
      const w = new PickleWriter();
      w.proto();
      w.int(v);
      w.stop();
      return w.bytes().toString('hex');
    });
    expect(mine).toEqual(ref);
    // The widest ints torch.save writes are LONG1's (255 bytes); Python reads them back.
    const widest = { a: 2n ** 2039n - 1n, b: -(2n ** 2039n) };
    const p = file('long1.pt');
    save(widest, p);
    expect(load(p)).toEqual(widest);
    expect(await py.run<boolean>(`out = torch.load(${q(p)}) == {'a': 2**2039 - 1, 'b': -(2**2039)}`)).toBe(true);
    // One more bit needs LONG4, which Python's weights-only torch.load refuses (in its own files too):
    // refused before anything is written, naming where the int is.
    const p4 = file('long4.pt');
    expect(() => save({ x: [1, 2n ** 2039n] }, p4)).toThrow(/int at obj\.x\[1\] needs more than 255 bytes/);
    expect(fs.existsSync(p4)).toBe(false);
    const refused = await py.run<boolean>(`torch.save({'c': 2**40000, 'e': -(2**50000)}, ${q(file('long4_py.pt'))})
try:
    torch.load(${q(file('long4_py.pt'))}); out = False
except Exception:
    out = True`);
    expect(refused).toBe(true);
    expect(load(file('long4_py.pt'))).toEqual({ c: 2n ** 40000n, e: -(2n ** 50000n) });
  });

  it("an old BatchNorm checkpoint without num_batches_tracked loads as in PyTorch; its _metadata's version decides", async () => {
    const old = file('old_bn.pt');
    const v2 = file('v2_bn_missing.pt');
    const ref = await py.run<boolean[]>(`m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
sd = m.state_dict(); del sd['1.num_batches_tracked']
torch.save(sd, ${q(v2)})
torch.save(dict(sd), ${q(old)})  # a plain dict: no _metadata, as before PyTorch 0.4.1
out = []
for f in [${q(old)}, ${q(v2)}]:
    try:
        nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).load_state_dict(torch.load(f)); out.append(True)
    except RuntimeError:
        out.append(False)`);
    expect(ref).toEqual([true, false]);
    const make = () => new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4));
    expect(make().loadStateDict(load(old))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(() => make().loadStateDict(load(v2))).toThrow(/Missing key\(s\) in state_dict: "1\.num_batches_tracked"/);
  });

  it("_rebuild_tensor_v3's torch.storage.UntypedStorage is allowed, as in Python's weights-only load", async () => {
    const v3 = file('v3_f16.pt');
    const u16 = file('v3_u16.pt');
    // Python writes v3 for its newer dtypes only; list float16 among them to get a v3 file torchnode can load.
    const ok = await py.run<boolean>(`import torch.storage as S
orig = S._new_dtypes
S._new_dtypes = lambda: orig() | {torch.float16}
try:
    torch.save({'t': torch.tensor([1.5, -2.0], dtype=torch.float16)}, ${q(v3)})
finally:
    S._new_dtypes = orig
torch.save(torch.ones(2, dtype=torch.uint16), ${q(u16)})
import zipfile
assert all(b'torch.storage\\nUntypedStorage' in zipfile.ZipFile(f).read(n) for f in [${q(v3)}, ${q(u16)}] for n in zipfile.ZipFile(f).namelist() if n.endswith('data.pkl'))
assert torch.load(${q(v3)})['t'].tolist() == [1.5, -2.0] and torch.load(${q(u16)}).tolist() == [1, 1]
out = True`);
    expect(ok).toBe(true);
    const r = load<{ t: torch.Tensor }>(v3);
    expect(r.t.dtype).toBe('float16');
    expect(r.t.float().toArray()).toEqual([1.5, -2]);
    const r16 = load<torch.Tensor>(u16);
    expect(r16.dtype).toBe('uint16');
    expect(r16.toArray()).toEqual([1, 1]);
  });
});

describe('Node round trip', () => {
  it('views stay views of one storage; Parameters, Maps, Sets, bigints, Buffers and cycles come back', () => {
    const base = torch.arange(0, 12, { dtype: 'float32' });
    const p = new nn.Parameter(torch.randn([3]));
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const obj = {
      base,
      view: base.view(3, 4).t(),
      p,
      map: new Map<unknown, unknown>([
        [1n, 'big'],
        [false, null],
      ]),
      set: new Set(['a']),
      big: -(2n ** 64n),
      bytes: Buffer.from('hi'),
      cyclic,
    };
    const f = file('roundtrip.pt');
    save(obj, f);
    const r = load<typeof obj>(f); // the same shape comes back
    expect(r.view.stride()).toEqual([1, 4]);
    expect(r.view.shape).toEqual([4, 3]);
    r.base.fill_(7);
    expect(r.view.sum().item()).toBe(84); // shared storage after loading
    expect(r.p).toBeInstanceOf(nn.Parameter);
    expect(r.p.equal(p)).toBe(true);
    expect([...r.map.entries()]).toEqual([
      [1, 'big'],
      [false, null],
    ]);
    expect(r.set).toEqual(new Set(['a']));
    expect(r.big).toBe(-(2n ** 64n));
    expect(r.bytes).toEqual(Buffer.from('hi'));
    expect(r.cyclic.self).toBe(r.cyclic);
  });

  it('unsupported values are a TypeError naming where they are', () => {
    const f = file('bad.pt');
    expect(() => save({ a: { b: [1, () => 1] } }, f)).toThrow(/cannot save a function at obj\.a\.b\[1\]/);
    expect(() => save({ when: new Date() }, f)).toThrow(/cannot save a Date at obj\.when/);
    expect(() => save({ model: new nn.Linear(2, 2) }, f)).toThrow(/stateDict\(\)/);
    expect(() => save(new Float32Array(2), f)).toThrow(/torch\.tensor/);
    const t = torch.ones([2]);
    t.dispose();
    expect(() => save([t], f)).toThrow(/disposed/);
    expect(fs.existsSync(f)).toBe(false);
  });

  it('set items Python cannot hash are a TypeError naming where they are, before the file is written', () => {
    const f = file('bad_set.pt');
    expect(() => save({ s: new Set([1, { a: 1 }]) }, f)).toThrow(/cannot save a set item that is a plain object at obj\.s\(set item\)/);
    expect(() => save({ s: new Set([[1, new Map()]]) }, f)).toThrow(/cannot save a set item that is a Map at obj\.s\(set item\)/);
    expect(() => save([new Set([new Set([1])])], f)).toThrow(/cannot save a set item that is a Set at obj\[0\]\(set item\)/);
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    expect(() => save(new Set([cyclic]), f)).toThrow(/an array containing itself at obj\(set item\)/);
    expect(() => save(new Map([[{ a: 1 }, 1]]), f)).toThrow(/cannot save a Map key that is a plain object at obj/);
    expect(fs.existsSync(f)).toBe(false);
  });
});

describe('atomic writes', () => {
  it('a save that fails leaves the previous file intact and no temporary file', () => {
    const d = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const f = path.join(d, 'ckpt.pt');
    save({ w: torch.ones([3]) }, f);
    const before = fs.readFileSync(f);
    expect(() => save({ w: torch.zeros([3]), bad: Symbol('x') }, f)).toThrow(TypeError);
    expect(fs.readFileSync(f).equals(before)).toBe(true);
    // A failure in the native write (the target is a directory: the final rename fails).
    const sub = path.join(d, 'adir');
    fs.mkdirSync(sub);
    expect(() => save({ w: torch.ones([2]) }, sub)).toThrow(torch.TorchError);
    expect(fs.statSync(sub).isDirectory()).toBe(true);
    expect(() => save({ w: torch.ones([2]) }, path.join(d, 'missing', 'x.pt'))).toThrow(/No such file or directory/);
    expect(tmpLeftovers(d)).toEqual([]);
    expect(load<{ w: torch.Tensor }>(f).w.equal(torch.ones([3]))).toBe(true);
    // Saving over an existing file replaces it whole.
    save({ w: torch.full([3], 2) }, f);
    expect(load<{ w: torch.Tensor }>(f).w.equal(torch.full([3], 2))).toBe(true);
  });

  it('concurrent saveAsync to one path: the file is always one whole checkpoint', async () => {
    const d = fs.mkdtempSync(path.join(dir, 'concurrent-'));
    const f = path.join(d, 'ckpt.pt');
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => saveAsync({ i, w: torch.full([1000], i) }, f)));
    const r = load<{ i: number; w: torch.Tensor }>(f);
    expect(r.w.equal(torch.full([1000], r.i))).toBe(true);
    expect(tmpLeftovers(d)).toEqual([]);
  });
});

describe('async', () => {
  it('saveAsync / loadAsync round trip', async () => {
    const f = file('async.pt');
    const w = torch.randn([64, 64]);
    await saveAsync({ w, step: 5 }, f);
    const r = await loadAsync<{ w: torch.Tensor; step: number }>(f);
    expect(r.step).toBe(5);
    expect(r.w.equal(w)).toBe(true);
  });

  it("errors from the worker keep the caller's stack", async function callerOfLoadAsync() {
    const err = await loadAsync<never>(file('nope.pt')).catch((e: unknown) => e as Error); // <never>: the file is missing
    expect(err).toBeInstanceOf(torch.TorchError);
    expect(err.message).toContain(file('nope.pt'));
    expect(err.stack).toContain('awaited from');
    expect(err.stack).toContain('serialize.test.ts');
    const err2 = await saveAsync({ a: torch.ones([1]) }, path.join(dir, 'no', 'such', 'dir.pt')).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err2).toBeInstanceOf(torch.TorchError);
    expect(err2!.stack).toContain('awaited from');
  });
});

describe('bad files are a TorchError naming the file', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a missing file', () => file('missing.pt'), /cannot open the file: No such file or directory/],
    ['a directory', () => dir, /directory/],
    ['an empty file', () => (fs.writeFileSync(file('empty.pt'), ''), file('empty.pt')), /empty/],
    ['a text file', () => (fs.writeFileSync(file('text.pt'), 'hello world\n'), file('text.pt')), /not a torch file/],
    ['a zip with a file outside a folder', () => file('flat.zip'), /not in a subdirectory/],
    ['a zip without data.pkl', () => file('nopkl.zip'), /no data\.pkl/],
    ['a TorchScript archive', () => file('script.pt'), /TorchScript.*torch\.jit\.load/],
    ["PyTorch's legacy (pre-1.6) format", () => file('legacy.pt'), /legacy format/],
    ['a global outside the weights-only allow-list', () => file('global.pt'), /unsupported global 'datetime\.date'/],
    ['a tensor larger than its storage', () => file('oob.pt'), /past the end of its storage/],
    ['zip records that overlap (a zip bomb)', () => file('overlap.pt'), /more than the file holds/],
  ];
  it.each(cases)('%s', (_name, make, why) => {
    const f = make();
    let err: unknown;
    try {
      load(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(torch.TorchError);
    expect((err as Error).message).toContain(f);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).not.toMatch(/enforce fail|inline_container\.cc/);
  });

  it('bad arguments are TypeErrors', () => {
    expect(() => load('')).toThrow(TypeError);
    expect(() => load(file('x.pt'), { mapLocation: 3 as never })).toThrow(TypeError);
    expect(() => save({}, 7 as never)).toThrow(TypeError);
  });
});

describe('mapLocation', () => {
  it("tensors saved on 'cuda:0' load where mapLocation says (and say so when CUDA is missing)", () => {
    const f = file('cuda.pt');
    type CudaFixture = { w: torch.Tensor; t: torch.Tensor }; // t: a transposed view of w's storage
    if (torch.cuda.isAvailable()) {
      const r = load<CudaFixture>(f);
      expect(r.w.device).toBe('cuda:0');
      expect(r.t.stride()).toEqual([1, 3]);
    } else {
      expect(() => load(f)).toThrow(/saved on 'cuda:0'.*mapLocation: 'cpu'/);
    }
    const expected = torch.arange(0, 6, { dtype: 'float32' }).view(2, 3);
    for (const mapLocation of ['cpu', { 'cuda:0': 'cpu' }, (loc: string) => (loc.startsWith('cuda') ? 'cpu' : undefined)]) {
      const r = load<CudaFixture>(f, { mapLocation });
      expect(r.w.device).toBe('cpu');
      expect(r.w.equal(expected)).toBe(true);
      r.w.fill_(1);
      expect(r.t.sum().item()).toBe(6); // still a view of the same storage
    }
    expect(() => load(f, { mapLocation: () => 'tpu' })).toThrow(/cannot map/);
  });

  it('a CPU checkpoint moves to CUDA with mapLocation (CUDA only)', (ctx) => {
    if (!torch.cuda.isAvailable()) {
      ctx.skip('CUDA is not available: skipped (runs on a GPU machine)');
      return;
    }
    const f = file('to_cuda.pt');
    const base = torch.randn([4, 4]);
    save({ base, t: base.t() }, f);
    const r = load<{ base: torch.Tensor; t: torch.Tensor }>(f, { mapLocation: 'cuda' });
    expect(r.base.device).toBe('cuda:0');
    expect(r.t.cpu().equal(base.t())).toBe(true);
    r.base.fill_(1);
    expect(r.t.sum().item()).toBe(16);
  });
});

// ---- fuzz: damaged copies of real checkpoints ----

interface FuzzSummary {
  loads: number;
  ok: number;
  threw: number;
  byKind: Record<string, { ok: number; threw: number }>;
  violations: string[];
}

/**
 * Loads hundreds of damaged copies of each file: bytes flipped anywhere, truncations, zeroed ranges, and
 * mutations inside data.pkl with the zip's CRCs fixed up (so the damage reaches the unpickler and the
 * tensor checks rather than stopping at a checksum). Every load must return or throw a TorchError
 * naming the file. Self-contained (it also runs from its source text in a child process).
 */
function fuzzLoads(
  T: { scope: (fn: () => void) => void; TorchError: new (...a: never[]) => Error },
  ser: { load: (p: string) => unknown },
  fsm: typeof import('node:fs'),
  crc32: (b: Buffer) => number,
  files: string[],
  outDir: string,
  seed: number,
  per: { flips: number; truncations: number; zeroed: number; pickle: number },
): FuzzSummary {
  let state = seed >>> 0;
  const rnd = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(rnd() * n);
  const summary: FuzzSummary = { loads: 0, ok: 0, threw: 0, byKind: {}, violations: [] };
  const target = `${outDir}/fuzz-${seed}.pt`;
  // Frees every tensor of a loaded value (Parameters too, which no scope disposes).
  const disposeAll = (v: unknown, seen: Set<unknown>): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (typeof (v as { dispose?: unknown }).dispose === 'function') (v as { dispose: () => void }).dispose();
    else if (v instanceof Map) {
      for (const [a, b] of v) {
        disposeAll(a, seen);
        disposeAll(b, seen);
      }
    } else if (v instanceof Set || Array.isArray(v)) for (const x of v) disposeAll(x, seen);
    else if (!Buffer.isBuffer(v)) for (const x of Object.values(v)) disposeAll(x, seen);
  };
  const attempt = (buf: Buffer, kind: string, what: string): void => {
    fsm.writeFileSync(target, buf);
    summary.loads++;
    const k = (summary.byKind[kind] ??= { ok: 0, threw: 0 });
    try {
      T.scope(() => {
        disposeAll(ser.load(target), new Set());
      });
      summary.ok++;
      k.ok++;
    } catch (e) {
      summary.threw++;
      k.threw++;
      const err = e as Error;
      const isTorchError = (x: unknown): boolean => x instanceof T.TorchError;
      if (!isTorchError(err)) summary.violations.push(`${what}: ${err?.constructor?.name}: ${err?.message}`);
      else if (!err.message.includes(target)) summary.violations.push(`${what}: message does not name the file: ${err.message}`);
    }
  };
  // data.pkl's bytes and where its CRC is kept (central directory, data descriptor, local header).
  const locatePickle = (b: Buffer): { start: number; size: number; crcAt: number[] } | null => {
    for (let i = 0; i + 46 <= b.length; i++) {
      if (b.readUInt32LE(i) !== 0x02014b50) continue;
      const nameLen = b.readUInt16LE(i + 28);
      if (!b.toString('latin1', i + 46, i + 46 + nameLen).endsWith('/data.pkl')) continue;
      const size = b.readUInt32LE(i + 20);
      const lho = b.readUInt32LE(i + 42);
      const start = lho + 30 + b.readUInt16LE(lho + 26) + b.readUInt16LE(lho + 28);
      const crcAt = [i + 16];
      if (b.readUInt16LE(lho + 6) & 8) {
        if (b.readUInt32LE(start + size) === 0x08074b50) crcAt.push(start + size + 4);
      } else crcAt.push(lho + 14);
      return { start, size, crcAt };
    }
    return null;
  };
  const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x4b, 0x4a, 0x8a, 0x28, 0x2e, 0x74, 0x85, 0x71, 0x68, 0x52, 0x62];
  for (const f of files) {
    const orig = fsm.readFileSync(f);
    const name = f.split('/').pop();
    for (let i = 0; i < per.flips; i++) {
      const b = Buffer.from(orig);
      const pos = int(b.length);
      b[pos] = i % 2 ? b[pos] ^ (1 << int(8)) : int(256);
      attempt(b, 'flip', `${name} byte ${pos} flipped`);
    }
    for (let i = 0; i < per.truncations; i++) {
      const len = i < 4 ? [0, 1, 21, orig.length - 1][i] : Math.floor(((i - 4) / (per.truncations - 4)) * orig.length);
      attempt(orig.subarray(0, len), 'truncate', `${name} truncated to ${len}`);
    }
    for (let i = 0; i < per.zeroed; i++) {
      const b = Buffer.from(orig);
      const start = int(b.length);
      const n = 1 + int(64);
      b.fill(0, start, Math.min(b.length, start + n));
      attempt(b, 'zero', `${name} zeroed ${start}+${n}`);
    }
    const pk = locatePickle(orig);
    if (!pk) {
      summary.violations.push(`${name}: data.pkl not found`);
      continue;
    }
    for (let i = 0; i < per.pickle; i++) {
      const b = Buffer.from(orig);
      const edits = 1 + int(3);
      const where: number[] = [];
      for (let e = 0; e < edits; e++) {
        const pos = pk.start + int(pk.size);
        where.push(pos - pk.start);
        const r = int(3);
        b[pos] = r === 0 ? b[pos] ^ (1 << int(8)) : r === 1 ? int(256) : INTERESTING[int(INTERESTING.length)];
      }
      const crc = crc32(b.subarray(pk.start, pk.start + pk.size)) >>> 0;
      for (const at of pk.crcAt) b.writeUInt32LE(crc, at);
      attempt(b, 'pickle', `${name} data.pkl bytes ${where.join(',')} changed`);
    }
  }
  fsm.rmSync(target, { force: true });
  return summary;
}

/** A small Node checkpoint: model state dict, SGD state after a step, a Parameter, nested values. */
function makeNodeFixture(f: string): void {
  torch.manualSeed(0);
  const model = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Flatten(), new nn.Linear(64, 3));
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  nn.functional.crossEntropy(model(torch.randn([2, 3, 6, 6])), torch.tensor([0, 2], { dtype: 'int64' })).backward();
  opt.step();
  const w = torch.randn([4, 5]);
  save(
    {
      model: model.stateDict(),
      optimizer: opt.stateDict(),
      epoch: 1,
      history: { loss: [1.5, 0.5] },
      view: w.t(),
      w,
      p: new nn.Parameter(torch.ones([2])),
      tag: 'x',
    },
    f,
  );
}

// TORCHNODE_FUZZ_SCALE=20 (say) runs a longer fuzz in-process, with another seed each scale.
const SCALE = Math.max(1, Number(process.env.TORCHNODE_FUZZ_SCALE) || 1);
const PER = { flips: 150 * SCALE, truncations: 60, zeroed: 60 * SCALE, pickle: 200 * SCALE };

describe('fuzz: damaged files never crash', () => {
  it(
    'hundreds of damaged copies of a Node and a Python checkpoint: each loads or throws a TorchError',
    async () => {
      const files = [file('node_small.pt'), file('py_small.pt')];
      for (const f of files) expect(() => load(f)).not.toThrow();
      // The count of live handles without the garbage of the tests before (the collector may take it
      // during the fuzz): a load that failed and left a handle behind shows as one more at the end.
      expect(gc, 'a forced collection (test/helpers/gc.ts)').not.toBeNull();
      await collect();
      const handles = torch.memory().handles;
      const t0 = Date.now();
      const r = fuzzLoads(torch, { load }, fs, zlib.crc32, files, dir, 0x5eed_5e71 + SCALE - 1, PER);

      console.log(`serialize fuzz: ${r.loads} loads in ${Date.now() - t0} ms; ok ${r.ok}, threw ${r.threw}`, JSON.stringify(r.byKind));
      expect(r.violations).toEqual([]);
      await collect();
      expect(torch.memory().handles, 'tensor handles left behind by loads that failed').toBe(handles);
      expect(r.loads).toBe(files.length * (PER.flips + PER.truncations + PER.zeroed + PER.pickle));
      // The pickle mutations reach the unpickler: some still load, most are refused.
      expect(r.byKind.pickle.threw).toBeGreaterThan(0);
      expect(r.byKind.truncate.threw).toBeGreaterThanOrEqual(PER.truncations * files.length - 2);
    },
    60_000 * SCALE,
  );

  it('the same kind of fuzz in a child process exits cleanly (an abort there would show here)', async () => {
    const res = await fuzzChild!;
    const died = `child exited with status ${res.status}, signal ${res.signal}; stderr tail:\n${res.stderr.slice(-2000)}`;
    expect(res.signal, died).toBeNull();
    expect(res.status, died).toBe(0);
    const r = JSON.parse(res.stdout.trim().split('\n').pop()!) as FuzzSummary;
    expect(r.violations).toEqual([]);
    expect(r.loads).toBe(2 * 200);
  }, 60_000);
});

// ---- the child process (lib/*.ts transpiled with the project's typescript and handed over on stdin) ----

interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}
let fuzzChild: Promise<ChildResult> | null = null;

function libSources(): Record<string, string> {
  const ts = createRequire(path.join(REPO, 'package.json'))('typescript') as typeof import('typescript');
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, entry.name);
      if (entry.isDirectory()) walk(f);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        out[f] = ts.transpileModule(fs.readFileSync(f, 'utf8'), {
          fileName: f,
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
      }
    }
  };
  walk(path.join(REPO, 'lib'));
  return out;
}

function startFuzzChild(): void {
  const files = [file('node_small.pt'), file('py_small.pt')];
  const body = `
const compiled = JSON.parse(require('fs').readFileSync(0, 'utf8'));
require.extensions['.ts'] = (m, filename) => {
  if (!(filename in compiled)) throw new Error('no compiled source for ' + filename);
  m._compile(compiled[filename], filename);
};
const torch = require(${q(path.join(REPO, 'lib', 'index.ts'))});
const fuzz = (${fuzzLoads.toString()});
const r = fuzz(torch, torch, require('fs'), require('zlib').crc32, ${JSON.stringify(files)}, ${q(dir)}, 0xc41d, { flips: 60, truncations: 20, zeroed: 20, pickle: 100 });
process.stdout.write('\\n' + JSON.stringify(r) + '\\n');
`;
  fuzzChild = new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', body], { cwd: REPO, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve({ status: null, signal: null, stdout, stderr: stderr + String(e) }));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(libSources()));
  });
}
