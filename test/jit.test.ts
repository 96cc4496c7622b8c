// torch.jit against Python's own: modules Python scripted (SE-ResNet-50) and traced (SE-ResNet-18)
// load in Node and give Python's outputs; a scripted function with every argument kind round-trips;
// the state dict moves into torchnode's own SE-ResNet-50; what Node saves Python loads; the async
// forms; and bad files (missing, truncated, corrupt, a torch.save file) are TorchErrors naming the file.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { PyTorch, expectClose, relError } from './helpers/pytorch';

const { jit } = torch;
let py: PyTorch;
let dir: string;
const file = (name: string) => path.join(dir, name);
const q = (s: string) => JSON.stringify(s);

const FIXTURES = `
import torch
from typing import Dict, List, Optional, Tuple
import seresnet as R


class Fn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(2.0))
        self.register_buffer("offset", torch.tensor([1.0, 2.0, 3.0]))
        self.inner = torch.nn.Linear(3, 2)

    def forward(self, t: torch.Tensor, i: int, f: float, b: bool, s: str, ts: List[torch.Tensor],
                tup: Tuple[torch.Tensor, torch.Tensor], d: Dict[str, torch.Tensor]
                ) -> Tuple[torch.Tensor, int, float, bool, str, Dict[str, torch.Tensor], List[int], Optional[int]]:
        total = t * f + i
        for x in ts:
            total = total + x
        total = total + tup[0] * tup[1]
        dd: Dict[str, torch.Tensor] = {}
        for k, v in d.items():
            dd[k + s] = v * 2
        return (total, i * 2, f / 2, not b, s + "!", dd, [len(ts), len(d)], None)

    @torch.jit.export
    def scaled(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset

    @torch.jit.export
    def big(self, n: int) -> List[int]:
        return [n, 1152921504606846977, -1152921504606846977, 9007199254740991]

    @torch.jit.export
    def maybe(self, x: Optional[torch.Tensor], n: int = 3) -> Optional[torch.Tensor]:
        if x is None:
            return None
        return x + n


def make(d):
    torch.manual_seed(0)
    m50 = R.se_resnet50(num_classes=10)
    # non-trivial BatchNorm statistics, so eval mode and the buffers matter
    with torch.no_grad():
        for mod in m50.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    m50.eval()
    s50 = torch.jit.script(m50)
    s50.save(d + "/se50_script.pt")
    m18 = R.se_resnet18(num_classes=10).eval()
    x = torch.randn(2, 3, 64, 64)
    t18 = torch.jit.trace(m18, x)
    t18.save(d + "/se18_trace.pt")
    fn = torch.jit.script(Fn())
    fn.save(d + "/fn.pt")
    torch.save(m18.state_dict(), d + "/state_dict.pt")
    with torch.no_grad():
        return {"x": x, "y50": s50(x), "y18": t18(x), "keys50": list(s50.state_dict().keys()),
                "params18": [k for k, _ in t18.named_parameters()], "buffers18": [k for k, _ in t18.named_buffers()],
                "children18": [k for k, _ in t18.named_children()]}
`;

interface Fixture {
  x: torch.Tensor;
  y50: torch.Tensor;
  y18: torch.Tensor;
  keys50: string[];
  params18: string[];
  buffers18: string[];
  children18: string[];
}
let fx: Fixture;

beforeAll(async () => {
  py = await PyTorch.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-jit-'));
  fs.writeFileSync(file('jit_fixtures.py'), FIXTURES);
  fx = await py.run<Fixture>(`import sys\nsys.path.insert(0, ${q(dir)})\nimport jit_fixtures\nout = jit_fixtures.make(${q(dir)})`);
}, 60_000);
afterAll(() => {
  py?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("Python-made TorchScript runs in Node with Python's outputs", () => {
  it('scripted SE-ResNet-50 (eval): forward equals Python', () => {
    const m = jit.load(file('se50_script.pt'));
    expect(m.training).toBe(false);
    const y = m.forward(fx.x) as torch.Tensor;
    expect(relError(y, fx.y50)).toBeLessThanOrEqual(1e-5);
    m.dispose();
    expect(m.isDisposed).toBe(true);
    expect(() => m.forward(fx.x)).toThrow(/disposed/);
  });

  it('traced SE-ResNet-18: forward equals Python; parameters, buffers, children as Python names them', () => {
    const m = jit.load(file('se18_trace.pt'), { device: 'cpu' });
    expect(relError(m.forward(fx.x) as torch.Tensor, fx.y18)).toBeLessThanOrEqual(1e-5);
    expect([...m.namedParameters()].map(([k]) => k)).toEqual(fx.params18);
    expect([...m.namedBuffers()].map(([k]) => k)).toEqual(fx.buffers18);
    const children = [...m.namedChildren()];
    expect(children.map(([k]) => k)).toEqual(fx.children18);
    const fc = children.find(([k]) => k === 'fc')![1];
    expect([...fc.namedParameters()].map(([k]) => k)).toEqual(['weight', 'bias']);
    expect(fc.forward(torch.zeros([1, 512])) as torch.Tensor).toBeInstanceOf(torch.Tensor);
    m.dispose();
  });

  it("stateDict() has Python's keys and loads into torch.models.seResNet50 with the same logits", () => {
    const m = jit.load(file('se50_script.pt'));
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(fx.keys50);
    const model = torch.models.seResNet50({ numClasses: 10 });
    model.loadStateDict(sd);
    model.eval();
    const y = torch.noGrad(() => model.forward(fx.x));
    expect(relError(y, fx.y50)).toBeLessThanOrEqual(1e-5);
    m.dispose();
  });

  it('train()/eval()/training and to()', () => {
    const m = jit.load(file('se18_trace.pt'));
    expect(m.training).toBe(false);
    expect(m.train().training).toBe(true);
    expect(m.children()[0].training).toBe(true);
    expect(m.eval().training).toBe(false);
    m.to('cpu');
    expect(m.parameters()[0].device).toBe('cpu');
    m.dispose();
  });
});

describe('arguments and results', () => {
  it('Tensor, int, float, bool, str, List[Tensor], Tuple[Tensor, Tensor], Dict[str, Tensor] in; tuple and dict out', async () => {
    const m = jit.load(file('fn.pt'));
    const t = torch.tensor([1, 2, 3]);
    const args = [
      t,
      3,
      1.5,
      true,
      'x',
      [torch.ones([3]), torch.ones([3])],
      [torch.tensor([1, 1, 1]), torch.tensor([2, 2, 2])],
      { a: torch.tensor([1, 2, 3]), b: torch.zeros([3]) },
    ];
    const out = m.forward(...args) as unknown[];
    const ref = await py.run<unknown[]>(
      `m = torch.jit.load(${q(file('fn.pt'))})\nout = m(t, 3, 1.5, True, 'x', [torch.ones(3), torch.ones(3)], (torch.tensor([1., 1, 1]), torch.tensor([2., 2, 2])), {'a': a, 'b': torch.zeros(3)})`,
      { t, a: torch.tensor([1, 2, 3]) },
    );
    expect(out).toHaveLength(8);
    expectClose(out[0] as torch.Tensor, ref[0] as torch.Tensor);
    expect(out.slice(1, 5)).toEqual([6, 0.75, false, 'x!']);
    expect(out.slice(1, 5)).toEqual(ref.slice(1, 5));
    const dict = out[5] as Record<string, torch.Tensor>;
    expect(Object.keys(dict)).toEqual(['ax', 'bx']);
    expectClose(dict.ax, (ref[5] as Record<string, torch.Tensor>).ax);
    expect(out[6]).toEqual([2, 2]);
    expect(out[7]).toBe(null);
    // an integral number for a float parameter is a float; an int stays an int
    const out2 = m.forward(t, 3, 2, false, '', [], [t, t], {}) as unknown[];
    expect(out2[2]).toBe(1);
    expect(out2[3]).toBe(true);
    expect(out2[5]).toEqual({});
    m.dispose();
  });

  it('runMethod on @torch.jit.export methods; Optional and default arguments', () => {
    const m = jit.load(file('fn.pt'));
    expect(m.methodNames()).toEqual(expect.arrayContaining(['forward', 'scaled', 'maybe']));
    expect(Array.from((m.runMethod('scaled', torch.tensor([1, 1, 1])) as torch.Tensor).data() as ArrayLike<number>)).toEqual([3, 4, 5]);
    expect(m.runMethod('maybe', null)).toBe(null);
    expect(Array.from((m.runMethod('maybe', torch.tensor([1, 2])) as torch.Tensor).data(), Number)).toEqual([4, 5]);
    expect(Array.from((m.runMethod('maybe', torch.tensor([1, 2]), 10) as torch.Tensor).data(), Number)).toEqual([11, 12]);
    expect(() => m.runMethod('nope')).toThrow(/no method 'nope'.*forward/);
    // ints past 2^53 come back as BigInts, exact (a number would round them), as torch.load gives them
    expect(m.runMethod('big', 5)).toEqual([5, 1152921504606846977n, -1152921504606846977n, 9007199254740991]);
    m.dispose();
  });

  it("a wrong argument type is a TorchError with LibTorch's message naming the expected type", () => {
    const m = jit.load(file('fn.pt'));
    const t = torch.tensor([1, 2, 3]);
    const good = [t, 3, 1.5, true, 'x', [t], [t, t], { a: t }];
    const bad = (k: number, v: unknown) => () => m.forward(...good.map((g, i) => (i === k ? v : g)));
    expect(bad(1, 1.5)).toThrow(torch.TorchError);
    expect(bad(1, 1.5)).toThrow(/argument 'i'.*int/s);
    expect(bad(0, 'str')).toThrow(/Tensor/);
    expect(bad(5, [1, 2])).toThrow(/List\[Tensor\]/);
    expect(bad(6, [t])).toThrow(/Tuple\[Tensor, Tensor\]/);
    expect(bad(7, { a: 1 })).toThrow(/Dict\[str, Tensor\]/);
    expect(() => m.forward(t)).toThrow(torch.TorchError);
    expect(() => m.forward(...good, 1)).toThrow(torch.TorchError);
    expect(() => m.forward(...good.slice(0, 7), new Date())).toThrow(TypeError);
    m.dispose();
  });

  // (TorchScript's executor specialises a method on its first call: Python's torch.jit gives the same
  // requires_grad sequence as this one; a first call with grad on can keep requires_grad under no_grad.)
  it('respects grad mode', () => {
    const m = jit.load(file('fn.pt'));
    const x = torch.tensor([1, 2, 3]);
    expect(torch.noGrad(() => (m.runMethod('scaled', x) as torch.Tensor).requiresGrad)).toBe(false);
    expect((m.runMethod('scaled', x) as torch.Tensor).requiresGrad).toBe(true);
    expect(torch.noGrad(() => (m.runMethod('scaled', x) as torch.Tensor).requiresGrad)).toBe(false);
    m.dispose();
  });
});

describe('async forms', () => {
  it('loadAsync + forwardAsync give the same results; grad mode of the call is kept', async () => {
    const m = await jit.loadAsync(file('se18_trace.pt'));
    let p!: Promise<unknown>;
    torch.noGrad(() => {
      p = m.forwardAsync(fx.x);
    });
    const first = (await p) as torch.Tensor;
    expect(first.requiresGrad).toBe(false);
    expect(relError(first, fx.y18)).toBeLessThanOrEqual(1e-5);
    const [a, b] = await Promise.all([m.forwardAsync(fx.x), m.forwardAsync(fx.x)]);
    expect(relError(a as torch.Tensor, fx.y18)).toBeLessThanOrEqual(1e-5);
    expect(relError(b as torch.Tensor, fx.y18)).toBeLessThanOrEqual(1e-5);
    expect((a as torch.Tensor).requiresGrad).toBe(true);
    const f = await jit.loadAsync(file('fn.pt'));
    const out = (await f.runMethodAsync('scaled', torch.tensor([1, 1, 1]))) as torch.Tensor;
    expect(Array.from(out.data() as ArrayLike<number>)).toEqual([3, 4, 5]);
    m.dispose();
    f.dispose();
  });

  it('an async call runs under the autocast state it was made in, on the compute thread', async () => {
    const m = await jit.loadAsync(file('se18_trace.pt'));
    let p!: Promise<unknown>;
    torch.autocast({ deviceType: 'cpu', dtype: 'bfloat16' }, () => {
      p = m.forwardAsync(fx.x);
    });
    const cast = (await p) as torch.Tensor;
    const plain = (await m.forwardAsync(fx.x)) as torch.Tensor;
    expect(cast.dtype).toBe('bfloat16'); // the final linear ran in bfloat16, as under Python's autocast
    expect(plain.dtype).toBe('float32'); // and the state did not stay behind on the compute thread
    expect(relError(cast.float(), fx.y18)).toBeLessThanOrEqual(5e-2);
    for (const t of [cast, plain]) t.dispose();
    m.dispose();
  });

  it("rejections name the file or the argument and keep the caller's stack", async () => {
    const missing = file('missing.pt');
    async function callerOfLoad() {
      return jit.loadAsync(missing);
    }
    const e1 = (await callerOfLoad().catch((e: unknown) => e)) as Error;
    expect(e1).toBeInstanceOf(torch.TorchError);
    expect(e1.message).toContain(missing);
    expect(e1.stack).toContain('callerOfLoad');
    const m = await jit.loadAsync(file('fn.pt'));
    const e2 = (await m.runMethodAsync('scaled', 'oops').catch((e: unknown) => e)) as Error;
    expect(e2).toBeInstanceOf(torch.TorchError);
    expect(e2.message).toMatch(/argument 'x'.*Tensor/s);
    await expect(m.forwardAsync(torch.tensor([1.0]))).rejects.toThrow(torch.TorchError);
    m.dispose();
  });
});

describe('ScriptModule.save', () => {
  it('Python torch.jit.load runs what Node saved, with identical outputs', async () => {
    const m = jit.load(file('se50_script.pt'));
    const target = file('node_saved.pt');
    m.save(target);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const y = torch.noGrad(() => m.forward(fx.x) as torch.Tensor);
    // In Python: the Node-saved module gives exactly what Python's own file gives; Node (more threads)
    // agrees within float32 rounding.
    const ref = await py.run<torch.Tensor[]>(
      `m = torch.jit.load(${q(target)})\nm0 = torch.jit.load(${q(file('se50_script.pt'))})\nwith torch.no_grad():\n    out = [m(x), m0(x)]`,
      { x: fx.x },
    );
    expectClose(ref[0], ref[1], { rtol: 0, atol: 0 });
    expect(relError(y, ref[0])).toBeLessThanOrEqual(1e-5);
    m.dispose();
    expect(() => jit.load(file('fn.pt')).save(path.join(dir, 'no-such-dir', 'x.pt'))).toThrow(torch.TorchError);
  });
});

describe('bad files are TorchErrors naming the file', () => {
  const expectFileError = (f: string, re?: RegExp) => {
    let err: unknown;
    try {
      jit.load(f).dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(torch.TorchError);
    expect((err as Error).message).toContain(f);
    if (re) expect((err as Error).message).toMatch(re);
  };

  it('missing, directory, empty, not a zip, a torch.save file', () => {
    expectFileError(file('missing.pt'), /No such file/);
    expectFileError(dir, /directory/);
    fs.writeFileSync(file('empty.pt'), '');
    expectFileError(file('empty.pt'), /empty/);
    fs.writeFileSync(file('text.pt'), 'hello, not a model');
    expectFileError(file('text.pt'), /zip/);
    expectFileError(file('state_dict.pt'), /torch\.save file.*torch\.load/);
  });

  it('a FIFO is refused at once, not waited on for a writer (sync and async)', async () => {
    const fifo = file('model.fifo');
    execFileSync('mkfifo', [fifo]);
    expectFileError(fifo, /not a regular file/);
    await expect(jit.loadAsync(fifo)).rejects.toThrow(/not a regular file/);
  });

  it('~100 truncated and corrupted copies never crash', () => {
    const good = fs.readFileSync(file('fn.pt'));
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let errors = 0;
    for (let k = 0; k < 100; k++) {
      let bytes: Buffer;
      if (k < 40) {
        bytes = good.subarray(0, Math.floor(good.length * (k / 40)) + 1);
      } else {
        bytes = Buffer.from(good);
        const flips = 1 + Math.floor(rand() * 8);
        for (let j = 0; j < flips; j++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      const f = file(`damaged-${k}.pt`);
      fs.writeFileSync(f, bytes);
      try {
        const m = jit.load(f);
        try {
          m.runMethod('scaled', torch.tensor([1, 2, 3]));
        } catch (e) {
          expect(e).toBeInstanceOf(torch.TorchError);
        }
        m.dispose();
      } catch (e) {
        errors++;
        expect(e).toBeInstanceOf(torch.TorchError);
        expect((e as Error).message).toContain(f);
      }
      fs.rmSync(f);
    }
    expect(errors).toBeGreaterThanOrEqual(40);
  });
});
