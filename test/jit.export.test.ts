// Taking a model back to PyTorch as TorchScript: torchnode's SE-ResNets traced with torch.jit.trace and
// saved with torch.jit.save; Python's plain torch.jit.load runs them with the same outputs (at another
// batch size than the example's), with PyTorch's state_dict keys and one method per submodule; Node
// loads them back too. Bad uses are errors that leave no trace running.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { PyTorch, relError } from './helpers/pytorch';
import { collect as collectGarbage } from './helpers/gc';

const { jit, models, nn } = torch;
let py: PyTorch;
let dir: string;
const file = (name: string) => path.join(dir, name);
const q = (s: string) => JSON.stringify(s);

beforeAll(async () => {
  py = await PyTorch.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-jit-export-'));
}, 60_000);
afterAll(() => {
  py?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// Non-trivial batch-norm statistics, so that eval mode and the buffers matter.
function randomizeBatchNorm(model: torch.nn.Module): void {
  torch.noGrad(() => {
    for (const m of model.modules()) {
      if (m instanceof nn.BatchNorm2d) {
        m.running_mean!.uniform_(-0.1, 0.1);
        m.running_var!.uniform_(0.5, 1.5);
      }
    }
  });
}

interface PythonRun {
  y: torch.Tensor;
  keys: string[];
  names: string[];
  methods: string[];
}
// Python loads the file with plain torch.jit.load and runs it on x (no torchnode code involved).
function runInPython(name: string, x: torch.Tensor, train = false): Promise<PythonRun> {
  return py.run<PythonRun>(
    `
m = torch.jit.load(${q(file(name))})
m.train(${train ? 'True' : 'False'})
with torch.no_grad():
    y = m(x)
names = [mod.original_name for _, mod in m.named_modules()]
out = {"y": y, "keys": list(m.state_dict().keys()), "names": names,
       "methods": [k for k, mod in m.named_modules() if hasattr(mod, 'forward') and mod._c._has_method('forward')]}`,
    { x },
  );
}

describe('a torchnode SE-ResNet exported as TorchScript runs in Python with the same outputs', () => {
  it('seResNet18 (eval), torch.jit.save(model, path, {exampleInputs}): other batch size, same logits, keys, submodules', async () => {
    torch.manualSeed(1);
    const model = models.seResNet18({ numClasses: 10, width: 16 });
    randomizeBatchNorm(model);
    model.eval();
    jit.save(model, file('se18.pt'), { exampleInputs: torch.randn([2, 3, 32, 32]) });
    const x = torch.randn([5, 3, 32, 32]); // not the example's batch size
    const ref = torch.noGrad(() => model(x));
    const got = await runInPython('se18.pt', x);
    expect(got.y.shape).toEqual([5, 10]);
    expect(relError(got.y, ref)).toBeLessThanOrEqual(1e-5);
    expect(got.keys).toEqual(Object.keys(model.stateDict()));
    expect(got.names).toEqual([...model.modules()].map((m) => m.constructor.name));
    // every submodule that ran has its own forward, as in a Python trace
    expect(got.methods).toEqual(expect.arrayContaining(['', 'layer1.0', 'layer1.0.se', 'layer1.0.se.fc1', 'fc']));
  });

  it('seResNet50 (bottleneck, cifar stem) traced in training mode: Python in train mode gives the same outputs', async () => {
    torch.manualSeed(2);
    const model = models.seResNet50({ numClasses: 7, width: 8, stem: 'cifar' });
    const example = torch.randn([4, 3, 16, 16]);
    const traced = jit.trace(model, example); // training mode: no check run, batch-norm uses batch statistics
    traced.save(file('se50_train.pt'));
    const x = torch.randn([3, 3, 16, 16]);
    const ref = torch.noGrad(() => model(x));
    const got = await runInPython('se50_train.pt', x, true);
    expect(relError(got.y, ref)).toBeLessThanOrEqual(1e-5);
    traced.dispose();
  });

  it("the traced module shares the model's tensors: training the model changes what is saved", async () => {
    torch.manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
    const traced = jit.trace(model, torch.randn([1, 4]));
    torch.noGrad(() => model.parameters()[0].add_(1));
    traced.save(file('mlp.pt'));
    const x = torch.randn([6, 4]);
    const got = await runInPython('mlp.pt', x);
    expect(
      relError(
        got.y,
        torch.noGrad(() => model(x)),
      ),
    ).toBeLessThanOrEqual(1e-6);
    expect(got.keys).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    traced.dispose();
  });
});

describe('the exported module in Node', () => {
  it("jit.load gives the eager outputs; gradients flow through the traced module to the model's parameters", () => {
    torch.manualSeed(4);
    const model = models.seResNet18({ numClasses: 3, width: 16, stem: 'cifar' }).eval();
    const x = torch.randn([2, 3, 16, 16]);
    jit.save(model, file('se18_small.pt'), { exampleInput: x });
    const loaded = jit.load(file('se18_small.pt'));
    const y = torch.randn([7, 3, 16, 16]);
    expect(
      relError(
        loaded.forward(y) as torch.Tensor,
        torch.noGrad(() => model(y)),
      ),
    ).toBeLessThanOrEqual(1e-5);
    loaded.dispose();

    const traced = jit.trace(model, x);
    (traced.forward(x) as torch.Tensor).sum().backward();
    const viaTrace = model.fc.weight.grad!.clone();
    model.zeroGrad();
    model(x).sum().backward();
    expect(relError(viaTrace, model.fc.weight.grad!)).toBeLessThanOrEqual(1e-5);
    traced.dispose();
  });

  it('tuple outputs and several inputs', () => {
    class Two extends nn.Module {
      lin = new nn.Linear(3, 3);
      forward(a: torch.Tensor, b: torch.Tensor): torch.Tensor {
        const h = this.lin(a.add(b));
        return [h, h.relu(), a] as unknown as torch.Tensor; // an input returned as it is, too
      }
    }
    const m = new Two();
    const [a, b] = [torch.randn([2, 3]), torch.randn([2, 3])];
    const traced = jit.trace(m, [a, b]);
    const [h, r, same] = traced.forward(a, b) as torch.Tensor[];
    expect(relError(h, m.lin(a.add(b)))).toBeLessThanOrEqual(1e-6);
    expect(same.equal(a)).toBe(true);
    expect(r.min().item()).toBeGreaterThanOrEqual(0);
    traced.dispose();
  });

  it('leaves no tensor handles behind', async () => {
    const model = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU()).eval();
    const x = torch.randn([1, 3, 8, 8]);
    await collectGarbage(); // the count without garbage from before, which a collection may take meanwhile
    const before = torch.memory().handles;
    for (let i = 0; i < 3; i++) jit.trace(model, x).dispose();
    expect(torch.memory().handles).toBe(before);
  });
});

describe('what cannot be traced is a clear error, and no trace is left running', () => {
  class Branchy extends nn.Module {
    forward(x: torch.Tensor): torch.Tensor {
      return (x.sum().item() as number) > 0 ? x.mul(2) : x.mul(-3); // decided in JS: the trace keeps one branch
    }
  }

  it('checkInputs that take the other branch expose a data-dependent trace', () => {
    const m = new Branchy().eval();
    expect(() => jit.trace(m, torch.ones([3]), { checkInputs: [torch.ones([3]).neg()] })).toThrow(/does not reproduce.*became a constant/s);
    expect(() => jit.trace(m, torch.ones([3]), { checkInputs: [torch.ones([3]).mul(2)] })).not.toThrow();
  });

  it('bad arguments are TypeErrors naming them', () => {
    const m = new nn.Linear(2, 2);
    expect(() => jit.trace({} as torch.nn.Module, torch.ones([2]))).toThrow(/module must be a torchnode nn.Module/);
    expect(() => jit.trace(m, [1, 2] as unknown as torch.Tensor[])).toThrow(/exampleInputs\[0\] must be a Tensor/);
    expect(() => jit.trace(m, [])).toThrow(/at least one Tensor/);
    expect(() => jit.save(m, file('x.pt'))).toThrow(/exampleInputs/);
    expect(() => jit.trace(m, torch.ones([2]), { checkTolerance: -1 })).toThrow(RangeError);
  });

  it('a forward that throws, returns a number, or nests a trace: the error comes out and tracing stops', () => {
    class Throws extends nn.Module {
      forward(): torch.Tensor {
        throw new Error('boom in forward');
      }
    }
    class ReturnsNumber extends nn.Module {
      forward(x: torch.Tensor): torch.Tensor {
        return x.sum().item() as unknown as torch.Tensor;
      }
    }
    class Nested extends nn.Module {
      inner = new nn.Linear(2, 2);
      forward(x: torch.Tensor): torch.Tensor {
        return jit.trace(this.inner, x).forward(x) as torch.Tensor;
      }
    }
    expect(() => jit.trace(new Throws(), torch.ones([2]))).toThrow(/boom in forward/);
    expect(() => jit.trace(new ReturnsNumber(), torch.ones([2]))).toThrow(/must return a Tensor/);
    expect(() => jit.trace(new Nested(), torch.ones([2]))).toThrow(/cannot be nested/);
    expect(() => jit.trace(new nn.Linear(2, 2), torch.ones([3]))).toThrow(torch.TorchError); // shape mismatch inside
    // nothing is being traced any more: a fresh trace works and records only its own ops
    const lin = new nn.Linear(2, 2).eval();
    const t = jit.trace(lin, torch.ones([1, 2]));
    expect(relError(t.forward(torch.ones([4, 2])) as torch.Tensor, lin(torch.ones([4, 2])))).toBeLessThanOrEqual(1e-6);
    t.dispose();
  });

  it('a module that appears twice in the tree is refused with its name', () => {
    const shared = new nn.Linear(2, 2);
    const m = new nn.Sequential(shared, new nn.ReLU());
    (m as unknown as { again: torch.nn.Module }).again = new nn.Sequential(shared);
    expect(() => jit.trace(m, torch.ones([1, 2]))).toThrow(/again\.0 appears twice/);
  });
});
