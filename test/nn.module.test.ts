// nn.Module as a PyTorch user meets it: user-written modules (seed 004's SEBlock inside SimpleCNN),
// registration order and traversal, modes, gradients, dtype/memory-format moves, state dicts, repr,
// hooks (the seeds' "collect every SE gate" use), errors that name the layer that refused the input,
// and seed 000's check_model_output_shapes loop. Wherever PyTorch has an answer, Python's PyTorch
// (scripts/reference/seresnet.py through test/helpers/pytorch.ts) gives it and the test compares.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';
import { thrown } from './helpers/errors';

const { nn, models } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

const py = usePyTorch();

// ---------------------------------------------------------------------------------------------------
// Seed 004, written the PyTorch way in TypeScript. `declare` fields: TypeScript types only, so the
// attributes are created by the assignments in the constructor, in that order (as Python's __setattr__).

class SEBlock extends nn.Module {
  declare fc1: torch.nn.Linear;
  declare fc2: torch.nn.Linear;
  constructor(inChannels: number, reduction = 16) {
    super();
    this.fc1 = new nn.Linear(inChannels, Math.floor(inChannels / reduction), { bias: false });
    this.fc2 = new nn.Linear(Math.floor(inChannels / reduction), inChannels, { bias: false });
  }
  forward(x: Tensor): Tensor {
    const [batch, channels] = x.shape;
    let y = F.adaptiveAvgPool2d(x, [1, 1]).view(batch, channels);
    y = F.relu(this.fc1(y));
    y = this.fc2(y).sigmoid().view(batch, channels, 1, 1);
    return x.mul(y.expandAs(x));
  }
}

class SimpleCNN extends nn.Module {
  declare conv1: torch.nn.Conv2d;
  declare se1: SEBlock | null;
  declare pool: torch.nn.MaxPool2d;
  declare fc: torch.nn.Linear;
  constructor(numClasses = 10) {
    super();
    this.conv1 = new nn.Conv2d(3, 64, 3, { padding: 1 });
    this.se1 = new SEBlock(64);
    this.pool = new nn.MaxPool2d(2, { stride: 2 });
    this.fc = new nn.Linear(64 * 16 * 16, numClasses);
  }
  forward(x: Tensor): Tensor {
    x = this.pool(F.relu(this.conv1(x)));
    if (this.se1) x = this.se1(x);
    x = x.view(x.size(0), -1); // Flatten
    return this.fc(x);
  }
}

// The same two classes in Python, as seed 004 writes them.
const PY_SIMPLE_CNN = `
class SEBlock(nn.Module):
    def __init__(self, in_channels, reduction=16):
        super(SEBlock, self).__init__()
        self.fc1 = nn.Linear(in_channels, in_channels // reduction, bias=False)
        self.fc2 = nn.Linear(in_channels // reduction, in_channels, bias=False)
    def forward(self, x):
        batch_size, channels, _, _ = x.size()
        y = F.adaptive_avg_pool2d(x, (1, 1)).view(batch_size, channels)
        y = F.relu(self.fc1(y))
        y = torch.sigmoid(self.fc2(y)).view(batch_size, channels, 1, 1)
        return x * y.expand_as(x)

class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)
        self.se1 = SEBlock(64)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(64 * 16 * 16, num_classes)
    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.se1(x)
        x = x.view(x.size(0), -1)
        x = self.fc(x)
        return x
`;

const names = (it: Iterable<[string, unknown]>): string[] => [...it].map(([k]) => k);
const shapesOf = (it: Iterable<[string, Tensor]>): [string, number[]][] => [...it].map(([k, t]) => [k, t.shape]);

/** Clones of every stateDict entry (the stateDict tensors share storage with the module). */
function snapshot(m: torch.nn.Module): Record<string, Tensor> {
  return torch.scope(() => Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.clone()])));
}

/** True when a 4-D tensor's strides are the channels_last (NHWC) ones; size-1 dims don't count, as in PyTorch. */
function isChannelsLast(t: Tensor): boolean {
  const [, c, h, w] = t.shape;
  const expected = [h * w * c, 1, w * c, c];
  return t.stride().every((s, i) => t.shape[i] === 1 || s === expected[i]);
}

describe('a user-defined module (seed 004: SEBlock inside SimpleCNN)', () => {
  it('registers attributes in assignment order and traverses like PyTorch', () => {
    const model = new SimpleCNN();
    expect(names(model.namedChildren())).toEqual(['conv1', 'se1', 'pool', 'fc']);
    expect([...model.children()]).toEqual([model.conv1, model.se1, model.pool, model.fc]);
    expect(names(model.namedModules())).toEqual(['', 'conv1', 'se1', 'se1.fc1', 'se1.fc2', 'pool', 'fc']);
    expect([...model.modules()][0]).toBe(model);
    expect([...model.modules()].map((m) => m.constructor.name)).toEqual([
      'SimpleCNN',
      'Conv2d',
      'SEBlock',
      'Linear',
      'Linear',
      'MaxPool2d',
      'Linear',
    ]);
    expect(shapesOf(model.namedParameters())).toEqual([
      ['conv1.weight', [64, 3, 3, 3]],
      ['conv1.bias', [64]],
      ['se1.fc1.weight', [4, 64]],
      ['se1.fc2.weight', [64, 4]],
      ['fc.weight', [10, 16384]],
      ['fc.bias', [10]],
    ]);
    const params = model.parameters();
    expect(params[0]).toBe(model.conv1.weight);
    expect(params[2]).toBe(model.se1!.fc1.weight);
    expect(params.every((p) => p instanceof nn.Parameter && p.requiresGrad)).toBe(true);
    expect(params.reduce((n, p) => n + p.numel(), 0)).toBe(64 * 27 + 64 + 256 + 256 + 163840 + 10);
    // no BatchNorm: no buffers; recurse: false sees only the module's own
    expect(model.buffers()).toEqual([]);
    expect([...model.namedBuffers()]).toEqual([]);
    expect(model.parameters({ recurse: false })).toEqual([]);
    expect(names(model.conv1.namedParameters({ recurse: false }))).toEqual(['weight', 'bias']);
    expect(names(model.se1!.namedParameters({ prefix: 'se1' }))).toEqual(['se1.fc1.weight', 'se1.fc2.weight']);
  });

  it('computes what the seed’s Python SimpleCNN computes with the same weights (and has its keys and repr)', async () => {
    torch.manualSeed(0);
    const model = new SimpleCNN();
    const x = torch.randn([2, 3, 32, 32]);
    const sd = model.stateDict();
    const ref = await py.run<{ keys: string[]; repr: string; out: Tensor }>(
      `${PY_SIMPLE_CNN}
m = SimpleCNN()
keys = list(m.state_dict())
m.load_state_dict(sd)
out = {'keys': keys, 'repr': repr(m), 'out': m(x)}`,
      { sd, x },
    );
    expect(Object.keys(sd)).toEqual(ref.keys);
    expect(model.toString()).toBe(ref.repr);
    const y = model(x);
    expect(y.shape).toEqual([2, 10]);
    expectClose(y, ref.out, { rtol: 1e-4, atol: 1e-5 });
  });

  it('explicit registerParameter / registerBuffer / registerModule, with non-persistent buffers left out of stateDict', async () => {
    class Mixed extends nn.Module {
      declare a: torch.nn.Linear;
      declare scale: torch.nn.Parameter;
      declare steps: Tensor;
      declare cache: Tensor;
      declare b: torch.nn.Linear;
      declare offset: torch.nn.Parameter;
      constructor() {
        super();
        this.a = new nn.Linear(2, 3);
        this.registerBuffer('steps', torch.zeros([], { dtype: 'int64' }));
        this.scale = new nn.Parameter(torch.ones([3])); // attribute form
        this.registerBuffer('cache', torch.zeros([3]), { persistent: false });
        this.registerModule('b', new nn.Linear(3, 1));
        this.registerParameter('offset', new nn.Parameter(torch.zeros([1])));
      }
      forward(x: Tensor): Tensor {
        return this.b(this.a(x).mul(this.scale)).add(this.offset);
      }
    }
    const m = new Mixed();
    const ref = await py.run<Record<string, string[]>>(`
class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 3)
        self.register_buffer('steps', torch.zeros((), dtype=torch.int64))
        self.scale = nn.Parameter(torch.ones(3))
        self.register_buffer('cache', torch.zeros(3), persistent=False)
        self.register_module('b', nn.Linear(3, 1))
        self.register_parameter('offset', nn.Parameter(torch.zeros(1)))
m = Mixed()
out = {'params': [k for k, _ in m.named_parameters()], 'buffers': [k for k, _ in m.named_buffers()],
       'children': [k for k, _ in m.named_children()], 'state': list(m.state_dict())}`);
    expect(names(m.namedParameters())).toEqual(ref.params);
    expect(names(m.namedBuffers())).toEqual(ref.buffers);
    expect(names(m.namedChildren())).toEqual(ref.children);
    expect(Object.keys(m.stateDict())).toEqual(ref.state); // no 'cache'
    expect(ref.state).not.toContain('cache');
    expect(m.buffers()).toEqual([m.steps, m.cache]);
    expect(m(torch.randn([4, 2])).shape).toEqual([4, 1]);
    // loading a state dict without the non-persistent buffer is complete
    expect(m.loadStateDict(m.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    // the explicit forms check their arguments
    expect(() => m.registerParameter('p', torch.ones([1]) as never)).toThrow(TypeError);
    expect(() => m.registerParameter('p', torch.ones([1]) as never)).toThrow(/nn\.Parameter/);
    expect(() => m.registerBuffer('x.y', torch.ones([1]))).toThrow(TypeError);
    expect(() => m.registerModule('', new nn.ReLU())).toThrow(TypeError);
    expect(() => m.registerModule('c', {} as never)).toThrow(TypeError);
  });

  it('a property initializer registers too (it runs right after super(), before the constructor body)', () => {
    class Head extends nn.Module {
      act = new nn.ReLU();
      declare fc: torch.nn.Linear;
      constructor() {
        super();
        this.fc = new nn.Linear(4, 2);
      }
      forward(x: Tensor): Tensor {
        return this.fc(this.act(x));
      }
    }
    const h = new Head();
    expect(names(h.namedChildren())).toEqual(['act', 'fc']);
    expect(h(torch.randn([3, 4])).shape).toEqual([3, 2]);
  });

  it('a shared submodule or parameter is listed once, as in PyTorch (stateDict keeps every key)', async () => {
    class Tied extends nn.Module {
      declare enc: torch.nn.Linear;
      declare dec: torch.nn.Linear;
      declare encAgain: torch.nn.Linear;
      constructor() {
        super();
        this.enc = new nn.Linear(4, 4, { bias: false });
        this.dec = new nn.Linear(4, 4, { bias: false });
        this.dec.weight = this.enc.weight; // tied weights
        this.encAgain = this.enc; // the same module under a second name
      }
      forward(x: Tensor): Tensor {
        return this.dec(this.encAgain(x));
      }
    }
    const m = new Tied();
    const ref = await py.run<Record<string, unknown>>(`
class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(4, 4, bias=False)
        self.dec = nn.Linear(4, 4, bias=False)
        self.dec.weight = self.enc.weight
        self.encAgain = self.enc
m = Tied()
out = {'params': [k for k, _ in m.named_parameters()], 'nparams': len(list(m.parameters())),
       'modules': [k for k, _ in m.named_modules()], 'children': [k for k, _ in m.named_children()],
       'nchildren': len(list(m.children())), 'state': list(m.state_dict()), 'repr': repr(m)}`);
    expect(names(m.namedParameters())).toEqual(ref.params); // ['enc.weight']
    expect(m.parameters().length).toBe(ref.nparams);
    expect(names(m.namedModules())).toEqual(ref.modules); // ['', 'enc', 'dec']
    expect(Object.keys(m.stateDict())).toEqual(ref.state); // enc.weight, dec.weight, encAgain.weight
    expect(m.parameters()[0]).toBe(m.dec.weight);
    // repr prints every attribute, the shared one twice (Python iterates _modules, not named_children)
    expect(m.toString()).toBe(ref.repr);
    // BUG (kept failing): PyTorch's named_children() / children() skip a module already yielded
    // ('enc', 'dec'); torchnode's also yield 'encAgain'. (Module.toString() iterates namedChildren(),
    // so a fix there must keep the repr above.)
    expect(names(m.namedChildren())).toEqual(ref.children);
    expect([...m.children()].length).toBe(ref.nchildren);
  });

  it('reassigning an attribute replaces it in place; setting it to null removes it', () => {
    const model = new SimpleCNN();
    const oldFc = model.fc;
    const oldConv1 = model.conv1;
    model.fc = new nn.Linear(64 * 16 * 16, 5);
    model.conv1 = new nn.Conv2d(3, 64, 3, { padding: 1, bias: false });
    // same positions (a dict update in Python), new objects
    expect(names(model.namedChildren())).toEqual(['conv1', 'se1', 'pool', 'fc']);
    expect(model.parameters()).not.toContain(oldFc.weight);
    expect(model.parameters()).not.toContain(oldConv1.weight);
    expect(model.parameters()).toContain(model.fc.weight);
    expect(names(model.namedParameters())).toEqual(['conv1.weight', 'se1.fc1.weight', 'se1.fc2.weight', 'fc.weight', 'fc.bias']);
    expect(model(torch.randn([1, 3, 32, 32])).shape).toEqual([1, 5]);

    // a parameter set to null: gone from parameters and stateDict, and Linear runs without it
    model.fc.bias = null;
    expect(names(model.namedParameters())).toEqual(['conv1.weight', 'se1.fc1.weight', 'se1.fc2.weight', 'fc.weight']);
    expect(Object.keys(model.stateDict())).not.toContain('fc.bias');
    expect(model.fc.toString()).toBe('Linear(in_features=16384, out_features=5, bias=False)');
    // a submodule set to null: gone from children, modules, parameters
    model.se1 = null;
    expect(names(model.namedChildren())).toEqual(['conv1', 'pool', 'fc']);
    expect(names(model.namedModules())).toEqual(['', 'conv1', 'pool', 'fc']);
    expect(names(model.namedParameters())).toEqual(['conv1.weight', 'fc.weight']);
    expect(model(torch.randn([1, 3, 32, 32])).shape).toEqual([1, 5]);
    // and it can come back, in its old place (Python keeps the None entry's slot too)
    model.se1 = new SEBlock(64);
    expect(names(model.namedChildren())).toEqual(['conv1', 'se1', 'pool', 'fc']);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('modes, gradients, apply, to()', () => {
  it('train() / eval() set training on every submodule and return the module', () => {
    const model = models.seResNet18({ numClasses: 10 });
    expect([...model.modules()].every((m) => m.training)).toBe(true);
    expect(model.eval()).toBe(model);
    expect([...model.modules()].every((m) => !m.training)).toBe(true);
    expect(model.train()).toBe(model);
    expect([...model.modules()].every((m) => m.training)).toBe(true);
    model.layer2.eval(); // a subtree only
    expect([...model.layer2.modules()].every((m) => !m.training)).toBe(true);
    expect(model.training && model.layer1.training && model.layer3.training && model.fc.training).toBe(true);
    model.train(false);
    expect([...model.modules()].some((m) => m.training)).toBe(false);
    expect(() => model.train('yes' as never)).toThrow(TypeError);
  });

  it('the mode changes what Dropout and BatchNorm2d do', () => {
    const drop = new nn.Dropout(0.5);
    const bn = new nn.BatchNorm2d(4);
    const net = new nn.Sequential(bn, drop);
    const x = torch.randn([8, 4, 5, 5]).mul(3).add(2);
    net.train();
    const y = net(x);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    expect(bn.running_mean!.abs().sum().item()).toBeGreaterThan(0);
    expect(y.eq(0).sum().item()).toBeGreaterThan(0); // dropout zeroed some
    net.eval();
    const before = snapshot(bn);
    const z = net(x);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    expect(bn.running_mean!.equal(before.running_mean)).toBe(true);
    // eval: dropout is the identity, BN uses the running statistics
    const expected = F.batchNorm(x, bn.running_mean, bn.running_var, { weight: bn.weight, bias: bn.bias, training: false });
    expect(z.allclose(expected)).toBe(true);
  });

  it('zeroGrad(): grads to null by default, zeroed in place with {setToNone: false}', () => {
    const model = new SimpleCNN();
    const x = torch.randn([2, 3, 32, 32]);
    const target = torch.tensor([1, 7], { dtype: 'int64' });
    F.crossEntropy(model(x), target).backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);

    F.crossEntropy(model(x), target).backward();
    model.zeroGrad({ setToNone: false });
    for (const [name, p] of model.namedParameters()) {
      const g = p.grad;
      expect(g, name).not.toBeNull();
      expect(g!.shape, name).toEqual(p.shape);
      expect(g!.abs().sum().item(), name).toBe(0);
    }
    // zeroed grads accumulate afresh: one more backward gives the first backward's gradient
    const first = torch.scope(() => {
      model.zeroGrad();
      F.crossEntropy(model(x), target).backward();
      return model.fc.weight.grad!.clone();
    });
    model.zeroGrad({ setToNone: false });
    F.crossEntropy(model(x), target).backward();
    expect(model.fc.weight.grad!.allclose(first)).toBe(true);
  });

  it('requiresGrad_(false) freezes a model; a new fc is the only thing that trains (seed 002’s transfer learning)', () => {
    const model = models.seResNet18();
    model.requiresGrad_(false);
    expect(model.parameters().some((p) => p.requiresGrad)).toBe(false);
    const numFtrs = model.fc.inFeatures;
    model.fc = new nn.Linear(numFtrs, 10); // CIFAR-10
    const trainable = [...model.namedParameters()].filter(([, p]) => p.requiresGrad).map(([k]) => k);
    expect(trainable).toEqual(['fc.weight', 'fc.bias']);

    const x = torch.randn([2, 3, 64, 64]);
    const loss = F.crossEntropy(model(x), torch.tensor([3, 9], { dtype: 'int64' }));
    loss.backward();
    for (const [name, p] of model.namedParameters()) {
      if (name.startsWith('fc.')) {
        expect(p.grad, name).not.toBeNull();
        expect(p.grad!.abs().sum().item(), name).toBeGreaterThan(0);
      } else {
        expect(p.grad, name).toBeNull();
      }
    }
    model.requiresGrad_(true);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('apply(fn) visits children first, then the module, in PyTorch’s order', async () => {
    const model = models.seResNet18();
    const visited: string[] = [];
    expect(model.apply((m) => visited.push(m.constructor.name))).toBe(model);
    const ref = await py.run<string[]>(`import seresnet as R
names = []
R.se_resnet18().apply(lambda m: names.append(type(m).__name__))
out = names`);
    expect(visited).toEqual(ref);
    expect(visited[visited.length - 1]).toBe('SEResNet');

    // the usual use: re-initialise every Linear
    model.apply((m) => {
      if (m instanceof nn.Linear) nn.init.zeros_(m.weight);
    });
    const linears = [...model.modules()].filter((m): m is torch.nn.Linear => m instanceof nn.Linear);
    expect(linears.length).toBe(8 * 2 + 1);
    expect(linears.every((l) => l.weight.abs().sum().item() === 0)).toBe(true);
  });

  it("to('float64') casts parameters, buffers and grads in place; num_batches_tracked stays int64", () => {
    const block = new models.SEBasicBlock(16, 16, { se: { reduction: 4 } });
    const x = torch.randn([2, 16, 8, 8]);
    block(x).sum().backward(); // grads, and BN statistics that are not the initial ones
    block.eval();
    const y32 = block(x);
    const params = block.parameters();
    const buffers = [...block.namedBuffers()];
    expect(block.to('float64')).toBe(block);
    // the same Parameter objects (an optimizer holding them keeps working)
    expect(block.parameters()).toEqual(params);
    block.parameters().forEach((p, i) => expect(p).toBe(params[i]));
    for (const p of block.parameters()) {
      expect(p.dtype).toBe('float64');
      expect(p.requiresGrad).toBe(true);
      expect(p.isLeaf).toBe(true);
      expect(p.grad!.dtype).toBe('float64');
    }
    for (const [name, b] of block.namedBuffers()) {
      expect(b.dtype, name).toBe(name.endsWith('num_batches_tracked') ? 'int64' : 'float64');
    }
    expect(block.bn1.num_batches_tracked!.item()).toBe(1);
    [...block.namedBuffers()].forEach(([, b], i) => expect(b).toBe(buffers[i][1]));
    const y64 = block(x.double());
    expect(y64.dtype).toBe('float64');
    expect(y64.float().allclose(y32, { rtol: 1e-4, atol: 1e-5 })).toBe(true);
    block.float();
    expect(block.parameters().every((p) => p.dtype === 'float32')).toBe(true);
    expect(block.bn1.num_batches_tracked!.dtype).toBe('int64');
  });

  it("to({memoryFormat: 'channels_last'}) makes every 4-D weight channels_last and keeps the results", () => {
    const block = new models.SEBasicBlock(16, 16, { se: { reduction: 4, impl: 'conv' } });
    block.eval();
    const x = torch.randn([2, 16, 8, 8]);
    const before = block(x);
    const params = block.parameters();
    block.to({ memoryFormat: 'channels_last' });
    block.parameters().forEach((p, i) => expect(p).toBe(params[i]));
    const fourD = [...block.namedParameters()].filter(([, p]) => p.ndim === 4);
    expect(names(fourD)).toEqual(['conv1.weight', 'conv2.weight', 'se.fc1.weight', 'se.fc2.weight']);
    for (const [name, p] of fourD) expect(isChannelsLast(p), `${name} stride ${p.stride()}`).toBe(true);
    expect(block.conv1.weight.stride()).toEqual([144, 1, 48, 16]); // [16, 16, 3, 3] in NHWC
    expect(block.conv1.weight.isContiguous()).toBe(false);
    for (const [name, p] of block.namedParameters()) if (p.ndim !== 4) expect(p.isContiguous(), name).toBe(true);
    expect(block(x).allclose(before, { rtol: 1e-5, atol: 1e-5 })).toBe(true);
    block.to({ memoryFormat: 'contiguous_format' });
    expect(block.conv1.weight.isContiguous()).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('stateDict / loadStateDict', () => {
  it('se_resnet18: the same keys, order, shapes and dtypes as Python’s state_dict()', async () => {
    const ref = await py.run<[string, number[], string][]>(`import seresnet as R
out = [[k, list(v.shape), str(v.dtype).replace('torch.', '')] for k, v in R.se_resnet18().state_dict().items()]`);
    const sd = models.seResNet18().stateDict();
    expect(Object.entries(sd).map(([k, v]) => [k, v.shape, v.dtype])).toEqual(ref);
    expect(ref.length).toBe(154);
  });

  it('stateDict → loadStateDict into a fresh model gives the same outputs (buffers included)', () => {
    torch.manualSeed(1);
    const a = models.seResNet18({ numClasses: 10 });
    const b = models.seResNet18({ numClasses: 10 });
    const x = torch.randn([2, 3, 64, 64]);
    a(x); // training-mode forward: running statistics move away from their initial values
    a.eval();
    b.eval();
    const ya = a(x);
    expect(b(x).allclose(ya)).toBe(false);
    const sd = a.stateDict();
    expect(sd['bn1.num_batches_tracked'].item()).toBe(1);
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.bn1.num_batches_tracked!.item()).toBe(1);
    expect(b.layer1[0] === a.layer1[0]).toBe(false);
    for (const [k, v] of Object.entries(b.stateDict())) expect(v.equal(sd[k]), k).toBe(true);
    expect(b(x).equal(ya)).toBe(true);
    // the stateDict tensors are detached views of the module's own: the loaded model holds copies
    expect(sd['fc.weight'].requiresGrad).toBe(false);
    sd['fc.weight'].zero_();
    expect(a.fc.weight.abs().sum().item()).toBe(0);
    expect(b.fc.weight.abs().sum().item()).toBeGreaterThan(0);
    // a Map is accepted too
    expect(b.loadStateDict(new Map(Object.entries(a.stateDict())))).toEqual({ missingKeys: [], unexpectedKeys: [] });
  });

  it('strict loading lists "Missing key(s)" and "Unexpected key(s)" as PyTorch does; non-strict returns them', async () => {
    const m = models.seResNet18({ numClasses: 10 });
    const sd = models.seResNet18({ numClasses: 10 }).stateDict();
    delete sd['fc.bias'];
    sd['fc.extra'] = torch.zeros([1]);
    const err = thrown(() => m.loadStateDict(sd));
    expect(err).toBeInstanceOf(torch.TorchError);
    const ref = await py.run<string>(`import seresnet as R
m = R.se_resnet18(num_classes=10)
sd = m.state_dict(); del sd['fc.bias']; sd['fc.extra'] = torch.zeros(1)
try:
    m.load_state_dict(sd)
except RuntimeError as e:
    out = str(e)`);
    // PyTorch leaves a space after each list's period; otherwise the message is PyTorch's
    const trimLines = (s: string) =>
      s
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n');
    expect(trimLines((err as Error).message)).toBe(trimLines(ref));
    expect((err as Error).message).toContain('Missing key(s) in state_dict: "fc.bias".');
    expect((err as Error).message).toContain('Unexpected key(s) in state_dict: "fc.extra".');

    const before = m.fc.weight.clone();
    const r = m.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['fc.bias'], unexpectedKeys: ['fc.extra'] });
    expect(m.fc.weight.equal(sd['fc.weight'])).toBe(true); // the keys that match are loaded
    expect(m.fc.weight.equal(before)).toBe(false);
  });

  it('a wrong shape is an error naming the key and both shapes, strict or not', () => {
    const m = models.seResNet18({ numClasses: 10 });
    const sd = m.stateDict();
    sd['fc.weight'] = torch.zeros([10, 256]);
    for (const strict of [true, false]) {
      expect(() => m.loadStateDict(sd, { strict })).toThrow(torch.TorchError);
      expect(() => m.loadStateDict(sd, { strict })).toThrow(
        'size mismatch for fc.weight: copying a param with shape [10, 256] from checkpoint, the shape in current model is [10, 512].',
      );
    }
    // not a tensor at all
    expect(() => m.loadStateDict({ ...m.stateDict(), 'conv1.weight': 3 as never })).toThrow(/conv1\.weight/);
    expect(() => m.loadStateDict(null as never)).toThrow(TypeError);
  });

  it('a failed load changes nothing', () => {
    torch.manualSeed(2);
    const a = models.seResNet18({ numClasses: 10 });
    const b = models.seResNet18({ numClasses: 10 });
    const keep = snapshot(b);
    const cases: Record<string, Tensor>[] = [];
    // every key right except the last one, which has the wrong shape
    const wrongShape = a.stateDict();
    wrongShape['fc.bias'] = torch.zeros([11]);
    cases.push(wrongShape);
    // every key right but one missing (strict)
    const missing = a.stateDict();
    delete missing['layer4.1.bn2.running_var'];
    cases.push(missing);
    // one unexpected key (strict)
    cases.push({ ...a.stateDict(), 'layer5.weight': torch.zeros([1]) });
    for (const sd of cases) {
      expect(() => b.loadStateDict(sd)).toThrow(torch.TorchError);
      for (const [k, v] of Object.entries(b.stateDict())) expect(v.equal(keep[k]), k).toBe(true);
    }
    expect(a.conv1.weight.equal(b.conv1.weight)).toBe(false); // so a successful load would have shown
  });

  it("keys named like Object.prototype's members are unexpected keys, as any other (object and Map input)", async () => {
    const keys = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
    const ref = await py.run<string>(`m = nn.Linear(2, 2)
sd = dict(m.state_dict())
for k in ${JSON.stringify(keys)}: sd[k] = torch.ones(1)
try:
    m.load_state_dict(sd)
except RuntimeError as e:
    out = str(e)`);
    const m = new nn.Linear(2, 2);
    const obj: Record<string, Tensor> = { ...m.stateDict() };
    for (const k of keys) Object.defineProperty(obj, k, { value: torch.ones([1]), enumerable: true, writable: true, configurable: true });
    const trimLines = (s: string) =>
      s
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n');
    for (const sd of [obj, new Map(Object.entries(obj))]) {
      const err = thrown(() => m.loadStateDict(sd));
      expect(err).toBeInstanceOf(torch.TorchError);
      expect(trimLines(err.message)).toBe(trimLines(ref));
      expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: [], unexpectedKeys: keys });
    }
  });

  it('an old BatchNorm checkpoint (no _metadata, or version < 2) without num_batches_tracked loads, as in PyTorch', async () => {
    const make = () => new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4));
    const bn = (s: torch.nn.Sequential) => s[1] as torch.nn.BatchNorm2d;
    const ref = await py.run<[string[], string[]][]>(`out = []
for meta in [None, {'1': {'version': 1}}, {'1': {'version': 2}}]:
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    sd = m.state_dict(); del sd['1.num_batches_tracked']
    if meta is None: del sd._metadata
    else: sd._metadata = meta
    r = m.load_state_dict(sd, strict=False)
    out.append([r.missing_keys, r.unexpected_keys])`);
    expect(ref).toEqual([
      [[], []],
      [[], []],
      [['1.num_batches_tracked'], []],
    ]);
    const got: [string[], string[]][] = [];
    for (const meta of [undefined, { '1': { version: 1 } }, { '1': { version: 2 } }]) {
      const a = make();
      const b = make();
      bn(b).num_batches_tracked!.fill_(5);
      const sd = a.stateDict();
      delete sd['1.num_batches_tracked'];
      if (meta) Object.defineProperty(sd, '_metadata', { value: meta, enumerable: false }); // as torch.load gives it
      const r = b.loadStateDict(sd, { strict: false });
      got.push([r.missingKeys, r.unexpectedKeys]);
      expect(bn(b).running_var!.equal(bn(a).running_var!)).toBe(true);
      expect(bn(b).num_batches_tracked!.item()).toBe(5); // PyTorch keeps the module's own value
      if (meta?.['1'].version !== 2) expect(make().loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] }); // strict too
    }
    expect(got).toEqual(ref);
    const sd = make().stateDict();
    delete sd['1.num_batches_tracked'];
    expect(sd).not.toHaveProperty('_metadata');
    expect(() => new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4, { trackRunningStats: false })).loadStateDict(sd)).toThrow(
      /Unexpected key\(s\) in state_dict: "1\.running_mean", "1\.running_var"/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------

describe('toString() is PyTorch’s repr', () => {
  const lines = (s: string) => s.split('\n');

  it('SEModule(64)', async () => {
    const ref = await py.run<string>('import seresnet as R\nout = repr(R.SEModule(64))');
    expect(lines(new models.SEModule(64).toString())).toEqual(lines(ref));
    const conv = await py.run<string>("import seresnet as R\nout = repr(R.SEModule(64, reduction=8, gate='hardsigmoid', impl='conv', bias=False))");
    expect(new models.SEModule(64, { reduction: 8, gate: 'hardsigmoid', impl: 'conv', bias: false }).toString()).toBe(conv);
  });

  // PyTorch 2.13 (the reference the addon is built against here) prints BatchNorm2d as
  // 'BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)':
  // _NormBase gained a keyword-only `bias` argument and extra_repr prints it. torchnode's BatchNorm2d
  // has no `bias` option and prints no `bias=`, so every BatchNorm line differs. These two tests are
  // kept failing on purpose (a bug to fix in lib/nn/layers.ts); the next test checks everything else.
  it('seResNet18 (imagenet stem), line by line', async () => {
    const ref = await py.run<string>('import seresnet as R\nout = repr(R.se_resnet18())');
    expect(lines(models.seResNet18().toString())).toEqual(lines(ref));
  });

  it('seResNet50, line by line', async () => {
    const ref = await py.run<string>('import seresnet as R\nout = repr(R.se_resnet50())');
    expect(lines(models.seResNet50().toString())).toEqual(lines(ref));
  });

  it('seResNet18 / seResNet50 / cifar stem: identical to PyTorch’s repr, line by line', async () => {
    const ref = await py.run<string[]>(`import seresnet as R
out = [repr(R.se_resnet18()), repr(R.se_resnet50()), repr(R.se_resnet18(stem='cifar', num_classes=10))]`);
    const mine = [models.seResNet18(), models.seResNet50(), models.seResNet18({ stem: 'cifar', numClasses: 10 })];
    mine.forEach((m, i) => expect(lines(m.toString())).toEqual(lines(ref[i])));
    expect(lines(mine[0].toString()).length).toBe(140);
  });

  it('util.inspect and template strings print the repr', async () => {
    const { inspect } = await import('node:util');
    const se = new models.SEModule(64);
    expect(inspect(se)).toBe(se.toString());
    expect(`${new nn.Linear(3, 4)}`).toBe('Linear(in_features=3, out_features=4, bias=True)');
  });
});

// ---------------------------------------------------------------------------------------------------

describe('forward hooks and pre-hooks', () => {
  it('fire with (module, inputs, output); a returned value replaces the output / inputs; remove() stops them', () => {
    const lin = new nn.Linear(3, 2);
    const x = torch.randn([4, 3]);
    const calls: string[] = [];
    const seenByPre: [torch.nn.Module, unknown[]][] = [];
    const seenByPost: [torch.nn.Module, unknown[], unknown][] = [];
    const pre = lin.registerForwardPreHook((m, inputs) => {
      calls.push('pre');
      seenByPre.push([m, inputs]);
    });
    const post = lin.registerForwardHook((m, inputs, output) => {
      calls.push('post');
      seenByPost.push([m, inputs, output]);
    });
    const y = lin(x);
    expect(calls).toEqual(['pre', 'post']);
    expect(seenByPre[0][0]).toBe(lin);
    expect(seenByPre[0][1]).toHaveLength(1);
    expect(seenByPre[0][1][0]).toBe(x);
    expect(seenByPost[0][0]).toBe(lin);
    expect(seenByPost[0][1][0]).toBe(x);
    expect(seenByPost[0][2]).toBe(y); // the output the caller gets
    expect(y.shape).toEqual([4, 2]);
    expect(y.allclose(F.linear(x, lin.weight, lin.bias))).toBe(true);

    // a forward hook's return value replaces the output
    const zero = lin.registerForwardHook((_m, _i, output) => (output as Tensor).mul(0));
    expect(lin(x).abs().sum().item()).toBe(0);
    zero.remove();
    // a pre-hook returning one value (not an array) replaces the inputs with [value], as PyTorch wraps it in a tuple
    const double = lin.registerForwardPreHook((_m, inputs) => (inputs[0] as Tensor).mul(2));
    const seen: Tensor[] = [];
    const spy = lin.registerForwardHook((_m, inputs) => void seen.push(inputs[0] as Tensor));
    const y2 = lin(x);
    expect(seen[0].equal(x.mul(2))).toBe(true);
    expect(y2.allclose(F.linear(x.mul(2), lin.weight, lin.bias))).toBe(true);
    double.remove();
    spy.remove();

    calls.length = 0;
    pre.remove();
    post.remove();
    post.remove(); // twice is harmless
    expect(lin(x).allclose(y)).toBe(true);
    expect(calls).toEqual([]);
    expect(() => lin.registerForwardHook('nope' as never)).toThrow(TypeError);
  });

  it('hooks run in registration order and each sees the previous one’s output', () => {
    const relu = new nn.ReLU();
    const order: number[] = [];
    relu.registerForwardHook((_m, _i, out) => (order.push(1), (out as Tensor).add(1)));
    relu.registerForwardHook((_m, _i, out) => (order.push(2), (out as Tensor).mul(10)));
    const y = relu(torch.zeros([2]));
    expect(order).toEqual([1, 2]);
    expect(y.tolist()).toEqual([10, 10]);
  });

  it('collects every SE block’s channel weights of a seResNet18 in one forward (the seeds’ use)', async () => {
    const model = models.seResNet18({ numClasses: 10 }).eval();
    const x = torch.randn([2, 3, 64, 64]);
    const gates: { name: string; weights: Tensor }[] = [];
    const handles: torch.nn.RemovableHandle[] = [];
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof models.SEModule)) continue;
      handles.push(
        m.gate.registerForwardHook((_mod, _inputs, output) => {
          // the gate sees the [N, C] excitation (the SE reshapes it to [N, C, 1, 1] after the gate, as Python's)
          const [n, c] = (output as Tensor).shape;
          gates.push({ name, weights: (output as Tensor).view(n, c, 1, 1) });
        }),
      );
    }
    // The right pattern with scopes: everything created inside torch.scope is disposed at its end
    // unless it is in the scope's result, so return the collected tensors from the scope.
    const { logits, collected } = torch.scope(() => ({ logits: model(x), collected: gates }));
    expect(logits.isDisposed).toBe(false);
    expect(logits.shape).toEqual([2, 10]);

    const ref = await py.run<string[]>(`import seresnet as R
out = [n for n, m in R.se_resnet18().named_modules() if isinstance(m, R.SEModule)]`);
    expect(collected.map((g) => g.name)).toEqual(ref);
    expect(collected.map((g) => g.name)).toEqual([
      'layer1.0.se',
      'layer1.1.se',
      'layer2.0.se',
      'layer2.1.se',
      'layer3.0.se',
      'layer3.1.se',
      'layer4.0.se',
      'layer4.1.se',
    ]);
    const channels = [64, 64, 128, 128, 256, 256, 512, 512];
    collected.forEach(({ name, weights }, i) => {
      expect(weights.isDisposed, name).toBe(false);
      expect(weights.shape, name).toEqual([2, channels[i], 1, 1]);
      expect(weights.gt(0).all().item(), name).toBe(true);
      expect(weights.lt(1).all().item(), name).toBe(true);
    });
    // removed hooks collect nothing
    handles.forEach((h) => h.remove());
    gates.length = 0;
    model(x);
    expect(gates).toEqual([]);
  });

  it('inside a scope: what a hook stores is disposed with the scope unless kept (torch.keep) or returned', () => {
    const model = models.seResNet18({ numClasses: 10, stem: 'cifar', se: { impl: 'conv' } }).eval();
    const x = torch.randn([1, 3, 16, 16]);
    const stored: Tensor[] = [];
    const kept: Tensor[] = [];
    const handles = [...model.modules()]
      .filter((m): m is torch.models.SEModule => m instanceof models.SEModule)
      .map((se) =>
        se.gate.registerForwardHook((_m, _i, out) => {
          stored.push(out as Tensor); // wrong inside a scope: disposed when it ends
          kept.push(torch.keep((out as Tensor).clone())); // right: kept until the caller disposes it
        }),
      );
    torch.scope(() => {
      model(x);
    });
    expect(stored.length).toBe(8);
    expect(stored.every((t) => t.isDisposed)).toBe(true);
    expect(() => stored[0].shape).toThrow(/disposed/);
    // impl 'conv' gates the [N, C, 1, 1] tensor directly
    expect(kept.map((t) => t.shape)).toEqual([64, 64, 128, 128, 256, 256, 512, 512].map((c) => [1, c, 1, 1]));
    expect(kept.every((t) => (t.gt(0).all().item() as boolean) && (t.lt(1).all().item() as boolean))).toBe(true);
    kept.forEach((t) => t.dispose());
    handles.forEach((h) => h.remove());

    // outside any scope, .clone() (or the output itself) simply stays alive
    const outside: Tensor[] = [];
    const h = model.layer1[0].registerForwardHook((_m, _i, out) => void outside.push((out as Tensor).clone()));
    model(x);
    h.remove();
    expect(outside[0].isDisposed).toBe(false);
    expect(outside[0].shape).toEqual([1, 64, 16, 16]);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('errors name the layer that refused the input', () => {
  it('wrong rank into seResNet18 → the BatchNorm after conv1 says so', () => {
    const model = models.seResNet18();
    // conv2d accepts an unbatched [C, H, W] input, so (as in PyTorch) bn1 is the first to refuse it
    const e = thrown(() => model(torch.randn([3, 64, 64])));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('bn1 (BatchNorm2d): expected 4D input (got 3D input)');
    expect(String(e.stack).split('\n')[0]).toContain('bn1 (BatchNorm2d)');
  });

  it('wrong channel count → conv1 (Conv2d) with LibTorch’s message; the model still works afterwards', () => {
    const model = models.seResNet18().eval();
    const e = thrown(() => model(torch.randn([1, 1, 64, 64])));
    expect(e).toBeInstanceOf(torch.TorchError);
    expect(e.message).toMatch(/^conv1 \(Conv2d\): /);
    expect(e.message).toContain('expected input[1, 1, 64, 64] to have 3 channels, but got 1 channels instead');
    expect(e.message.match(/\(Conv2d\)/g)!.length).toBe(1); // annotated once on the way out
    expect(model(torch.randn([1, 3, 64, 64])).shape).toEqual([1, 1000]);
  });

  it('a deep layer is named by its full path (layer1.0.bn1)', () => {
    const model = models.seResNet18();
    const block = model.layer1[0] as torch.models.SEBasicBlock;
    block.conv1 = new nn.Conv2d(64, 32, 3, { padding: 1, bias: false }); // a user's edit gone wrong
    const e = thrown(() => model(torch.randn([1, 3, 64, 64])));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('layer1.0.bn1 (BatchNorm2d): expected input with 64 channels (got 32)');
    // calling a submodule directly names the path from there
    const e2 = thrown(() => model.layer1(torch.randn([1, 32, 16, 16])));
    expect(e2.message).toMatch(/^0\.conv1 \(Conv2d\): /);
  });

  it('a Linear fed the wrong feature count → fc (Linear)', () => {
    const model = models.seResNet18();
    model.fc = new nn.Linear(100, 10);
    const e = thrown(() => model(torch.randn([2, 3, 64, 64])));
    expect(e).toBeInstanceOf(torch.TorchError);
    expect(e.message).toBe('fc (Linear): mat1 and mat2 shapes cannot be multiplied (2x512 and 100x10)');
    // seed 004's classic: SimpleCNN's fc is sized for 32×32 images
    const cnn = new SimpleCNN();
    const e2 = thrown(() => cnn(torch.randn([1, 3, 64, 64])));
    expect(e2.message).toBe('fc (Linear): mat1 and mat2 shapes cannot be multiplied (1x65536 and 16384x10)');
  });

  it('BatchNorm2d with a 3-D input or the wrong channel count', () => {
    const bn = new nn.BatchNorm2d(4);
    expect(() => bn(torch.randn([2, 4, 5]))).toThrow(RangeError);
    expect(() => bn(torch.randn([2, 4, 5]))).toThrow('expected 4D input (got 3D input)');
    expect(() => bn(torch.randn([2, 3, 5, 5]))).toThrow('expected input with 4 channels (got 3)');
    expect(() => bn('x' as never)).toThrow(TypeError);
  });

  it("an error thrown by the user's own hook or forward comes back as it was thrown", () => {
    const model = new SimpleCNN();
    const boom = new Error('boom');
    const stack = boom.stack;
    const h = model.se1!.fc2.registerForwardHook(() => {
      throw boom;
    });
    const e = thrown(() => model(torch.randn([1, 3, 32, 32])));
    expect(e).toBe(boom);
    expect(e.message).toBe('boom');
    expect(e.stack).toBe(stack);
    h.remove();
    expect(model(torch.randn([1, 3, 32, 32])).shape).toEqual([1, 10]);
    class Picky extends nn.Module {
      forward(x: torch.Tensor): torch.Tensor {
        if (x.dim() !== 2) throw new RangeError(`Picky wants 2-D input, got ${x.dim()}-D`);
        return x;
      }
    }
    const seq = new nn.Sequential(new nn.ReLU(), new Picky());
    const e2 = thrown(() => seq(torch.randn([2, 3, 4])));
    expect(e2).toBeInstanceOf(RangeError);
    expect(e2.message).toBe('Picky wants 2-D input, got 3-D');
    // a message with lines that look like stack frames in torchnode's own files is still the user's
    const framed = `boom\n    at f (${require('node:path').resolve(__dirname, '../lib/core/tensor.ts')}:1:1)`;
    const h2 = model.fc.registerForwardHook(() => {
      throw new Error(framed);
    });
    expect(thrown(() => model(torch.randn([1, 3, 32, 32]))).message).toBe(framed);
    h2.remove();
    // torchnode's own checks inside the same call still name the layer
    expect(() => new nn.Sequential(new nn.Linear(3, 2))(torch.randn([2, 4]))).toThrow(/^0 \(Linear\): mat1 and mat2 shapes/);
  });
});

describe('constructing layers with bad arguments', () => {
  it('TypeError / RangeError with a clear message', () => {
    const cases: [string, () => unknown, ErrorConstructor, RegExp | string][] = [
      ['Conv2d negative inChannels', () => new nn.Conv2d(-1, 64, 3), RangeError, 'inChannels must be a positive integer (got -1)'],
      ['Conv2d negative outChannels', () => new nn.Conv2d(3, -64, 3), RangeError, 'outChannels must be a positive integer (got -64)'],
      ['Conv2d fractional channels', () => new nn.Conv2d(3.5, 64, 3), TypeError, /inChannels must be an integer/],
      ['Conv2d groups not dividing inChannels', () => new nn.Conv2d(3, 64, 3, { groups: 2 }), RangeError, /divisible by groups/],
      ['Conv2d groups not dividing outChannels', () => new nn.Conv2d(4, 6, 3, { groups: 4 }), RangeError, /divisible by groups/],
      ['Conv2d groups 0', () => new nn.Conv2d(4, 4, 3, { groups: 0 }), RangeError, /groups must be a positive integer/],
      ['Conv2d kernel as junk', () => new nn.Conv2d(3, 4, 'big' as never), TypeError, /kernelSize/],
      ['Linear negative features', () => new nn.Linear(-1, 3), RangeError, /non-negative/],
      ['BatchNorm2d 0 features', () => new nn.BatchNorm2d(0), RangeError, /numFeatures must be a positive integer/],
      ['Dropout p 1.5', () => new nn.Dropout(1.5), RangeError, 'dropout probability has to be between 0 and 1, but got 1.5'],
      ['Dropout p -0.1', () => new nn.Dropout(-0.1), RangeError, /between 0 and 1/],
      ['Dropout p NaN', () => new nn.Dropout(NaN), RangeError, /between 0 and 1/],
      [
        'SEModule reduction > channels',
        () => new models.SEModule(8, { reduction: 16 }),
        RangeError,
        'SEModule: channels // reduction must be at least 1 (channels 8, reduction 16)',
      ],
      [
        'SEModule bad gate',
        () => new models.SEModule(64, { gate: 'relu' as never }),
        TypeError,
        "gate must be 'sigmoid' or 'hardsigmoid' (got 'relu')",
      ],
      ['SEModule bad impl', () => new models.SEModule(64, { impl: 'dense' as never }), TypeError, "impl must be 'linear' or 'conv' (got 'dense')"],
      ['seResNet18 bad stem', () => models.seResNet18({ stem: 'tiny' as never }), TypeError, /stem must be 'imagenet' or 'cifar'/],
      ['SEBottleneck bad strideOn', () => new models.SEBottleneck(64, 16, { strideOn: '2x2' as never }), TypeError, /strideOn/],
    ];
    for (const [what, make, cls, message] of cases) {
      const e = thrown(make);
      expect(e, what).toBeInstanceOf(cls);
      if (typeof message === 'string') expect(e.message, what).toBe(message);
      else expect(e.message, what).toMatch(message);
    }
  });

  // BUG (kept failing): a zero-size kernel reaches LibTorch's kaiming_uniform_, whose bound is 1/√0,
  // and the user sees TorchError 'from is out of bounds for float'. PyTorch builds nn.Conv2d(3, 4, 0)
  // (with a warning); the brief asks for a RangeError naming kernelSize.
  it('Conv2d with kernel size 0 → RangeError naming kernelSize', () => {
    for (const k of [0, [3, 0] as [number, number]]) {
      const e = thrown(() => new nn.Conv2d(3, 64, k));
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toMatch(/kernelSize/);
    }
  });

  // BUG (kept failing), same root cause: init on a zero-element weight. PyTorch's Linear(0, 3) is
  // valid (init of zero-element tensors is a no-op there); torchnode throws 'from is out of bounds for float'.
  it('Linear(0, 3) constructs, as in PyTorch', () => {
    const lin = new nn.Linear(0, 3);
    expect(lin.weight.shape).toEqual([3, 0]);
    expect(lin(torch.randn([2, 0])).shape).toEqual([2, 3]);
  });

  // BUG (kept failing): reduction 0 divides by zero and the user reads
  // "TypeError: outFeatures must be an integer (got Infinity)".
  it('SEModule reduction 0 → RangeError naming reduction', () => {
    const e = thrown(() => new models.SEModule(64, { reduction: 0 }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/reduction/);
  });

  // BUG (kept failing): checkName() only refuses names on Module.prototype, so registerModule('forward', …)
  // on a Linear silently replaces its forward (the layer then computes ReLU), and registerParameter('training', …)
  // replaces the mode flag. PyTorch: KeyError "attribute 'forward' already exists".
  it("registering under an existing non-parameter attribute name ('forward', 'training', 'inFeatures') is refused", () => {
    const lin = new nn.Linear(3, 2);
    expect(() => lin.registerModule('forward', new nn.ReLU())).toThrow(/already exists/);
    expect(() => lin.registerParameter('training', new nn.Parameter(torch.ones([1])))).toThrow(/already exists/);
    expect(() => lin.registerBuffer('inFeatures', torch.ones([1]))).toThrow(/already exists/);
    expect(lin(torch.randn([1, 3])).shape).toEqual([1, 2]);
    // re-registering a parameter under its own name stays allowed
    lin.registerParameter('bias', new nn.Parameter(torch.zeros([2])));
    expect(names(lin.namedParameters())).toEqual(['weight', 'bias']);
  });
});

// ---------------------------------------------------------------------------------------------------

describe("seed 000's check_model_output_shapes", () => {
  it('applies each named child of seResNet18 in turn to a 1×3×224×224 input (flattening before fc)', async () => {
    const model = models.seResNet18().eval();
    const shapes: [string, number[]][] = torch.scope(() => {
      let x = torch.randn([1, 3, 224, 224]);
      const out: [string, number[]][] = [];
      for (const [name, layer] of model.namedChildren()) {
        if (name === 'fc') x = x.flatten(1); // the seed's loop forgets this (see below)
        x = (layer as torch.nn.Module<[Tensor], Tensor>)(x);
        out.push([name, x.shape]);
      }
      return out;
    });
    expect(shapes).toEqual([
      ['conv1', [1, 64, 112, 112]],
      ['bn1', [1, 64, 112, 112]],
      ['relu', [1, 64, 112, 112]],
      ['maxpool', [1, 64, 56, 56]],
      ['layer1', [1, 64, 56, 56]],
      ['layer2', [1, 128, 28, 28]],
      ['layer3', [1, 256, 14, 14]],
      ['layer4', [1, 512, 7, 7]],
      ['avgpool', [1, 512, 1, 1]],
      ['fc', [1, 1000]],
    ]);
    const ref = await py.run<[string, number[]][]>(`import seresnet as R
m = R.se_resnet18().eval()
x = torch.randn(1, 3, 224, 224)
out = []
with torch.no_grad():
    for name, layer in m.named_children():
        if name == 'fc':
            x = torch.flatten(x, 1)
        x = layer(x)
        out.append([name, list(x.shape)])`);
    expect(shapes).toEqual(ref);

    // As the seed writes it (no flatten), fc gets [1, 512, 1, 1] and refuses it, as in PyTorch.
    const e = thrown(() => model.fc(torch.randn([1, 512, 1, 1])));
    expect(e).toBeInstanceOf(torch.TorchError);
    expect(e.message).toBe('Linear: mat1 and mat2 shapes cannot be multiplied (512x1 and 512x1000)');
  });
});

describe('containers and modes as PyTorch runs them', () => {
  it('a module placed twice in Sequential or ModuleList is two entries: run twice, counted twice', async () => {
    torch.manualSeed(5);
    const l = new nn.Linear(2, 2);
    const x = torch.randn([3, 2]);
    const s = new nn.Sequential(l, l);
    const y = s(x);
    s.append(new nn.ReLU());
    const ref = await py.run<{ y: Tensor; n: number; repr: string }>(
      `l = torch.nn.Linear(2, 2)
with torch.no_grad():
    l.weight.copy_(w); l.bias.copy_(b)
s = torch.nn.Sequential(l, l)
y = s(x).detach()
s.append(torch.nn.ReLU())
out = {'y': y, 'n': len(torch.nn.ModuleList([l, l])), 'repr': repr(s)}`,
      { w: l.weight.detach(), b: l.bias!.detach(), x },
    );
    expectClose(y.detach(), ref.y);
    expect(new nn.ModuleList([l, l]).length).toBe(ref.n);
    expect(s.length).toBe(3);
    expect(String(s)).toBe(ref.repr);
    expect(s.at(-1)).toBeInstanceOf(nn.ReLU);
    expect(s.at(0)).toBe(l);
    expect([...s.parameters()]).toHaveLength(2); // the shared weight and bias once, as in PyTorch
    const d = new nn.ModuleDict({ a: l, b: l });
    expect([d.keys(), d.get('b')]).toEqual([['a', 'b'], l]); // Python: list(d.keys()) == ['a', 'b'], d['b'] is l
  });

  it("train()/eval() call each child's own train(), so an override (a frozen BatchNorm) holds", async () => {
    class Frozen extends nn.Module {
      declare bn: torch.nn.BatchNorm2d;
      constructor() {
        super();
        this.bn = new nn.BatchNorm2d(2);
      }
      override train(mode = true): this {
        super.train(mode);
        this.bn.eval();
        return this;
      }
      forward(x: Tensor): Tensor {
        return this.bn(x);
      }
    }
    const outer = new nn.Sequential(new Frozen(), new nn.ReLU());
    outer.train();
    expect([outer.training, (outer.at(0) as Frozen).training, (outer.at(0) as Frozen).bn.training]).toEqual([true, true, false]);
    outer.eval();
    expect((outer.at(0) as Frozen).training).toBe(false);
  });

  it("ModuleList prints as Python's: runs of alike modules compressed", async () => {
    const list = new nn.ModuleList([
      new nn.Linear(2, 2),
      new nn.Linear(2, 2),
      new nn.Linear(2, 2),
      new nn.ReLU(),
      new nn.Sequential(new nn.Linear(2, 3)),
      new nn.Sequential(new nn.Linear(2, 3)),
    ]);
    const ref = await py.run<
      string[]
    >(`out = [repr(torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU(),
  torch.nn.Sequential(torch.nn.Linear(2, 3)), torch.nn.Sequential(torch.nn.Linear(2, 3))])), repr(torch.nn.ModuleList())]`);
    expect([String(list), String(new nn.ModuleList())]).toEqual(ref);
    class Blocks extends nn.ModuleList {}
    const refBlocks = await py.run<string>('class Blocks(torch.nn.ModuleList): pass\nout = repr(Blocks([torch.nn.ReLU(), torch.nn.ReLU()]))');
    expect(String(new Blocks([new nn.ReLU(), new nn.ReLU()]))).toBe(refBlocks);
  });

  it('torch.summary leaves each module in the mode it was in', () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ReLU());
    m.train();
    (m.at(1) as torch.nn.BatchNorm2d).eval();
    torch.summary(m, [1, 1, 8, 8]);
    expect([...m.modules()].map((x) => x.training)).toEqual([true, true, false, true]);
  });

  it("Conv2d with padding 'same' prints as Python's (unquoted)", async () => {
    const ours = [String(new nn.Conv2d(4, 8, 3, { padding: 'same' })), String(new nn.Conv2d(4, 8, 3, { padding: 'valid', bias: false }))];
    const ref = await py.run<string[]>(
      "out = [repr(torch.nn.Conv2d(4, 8, 3, padding='same')), repr(torch.nn.Conv2d(4, 8, 3, padding='valid', bias=False))]",
    );
    expect(ours).toEqual(ref);
  });

  it('F.softmax and F.logSoftmax take a dtype, as in Python', async () => {
    const x = torch.randn([2, 3]);
    const ours = [F.softmax(x, 1, { dtype: 'float64' }), F.logSoftmax(x, 0, { dtype: 'float64' })];
    const ref = await py.run<Tensor[]>('out = [F.softmax(x, 1, dtype=torch.float64), F.log_softmax(x, 0, dtype=torch.float64)]', { x });
    ours.forEach((t, i) => expectClose(t, ref[i]));
  });

  it("torchnode's models free their intermediates early, but never one a hook saw or kept", () => {
    const m = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: 8, se: { reduction: 4 } }).eval();
    const block = [...m.layer1.children()][0] as torch.nn.Module & { conv1: torch.nn.Module; bn1: torch.nn.Module };
    let seen: torch.Tensor | null = null;
    let replaced: torch.Tensor | null = null;
    block.conv1.registerForwardHook((_m, _inputs, out) => {
      seen = out as torch.Tensor;
    });
    block.bn1.registerForwardHook((_m, _inputs, out) => (replaced = (out as torch.Tensor).mul(1)));
    const y = torch.noGrad(() => m(torch.randn(2, 3, 8, 8)));
    expect(y.shape).toEqual([2, 10]);
    expect(seen!.sum().item()).toEqual(expect.any(Number)); // not disposed
    expect(replaced!.shape).toEqual([2, 8, 8, 8]);
    expect(replaced!.sum().item()).toEqual(expect.any(Number));
  });

  // Bug: SEModule left its expanded scale (one per block) for the collector, so an inference loop
  // reported memory to V8 until it ran a full collection every few dozen forwards.
  it.each(torch.models.listModels())('an inference forward of %s leaves no tensor for the collector', (name) => {
    const m = torch.models.getModel(name, { stem: 'cifar', numClasses: 10, width: 16 }).eval();
    const x = torch.randn([2, 3, 8, 8]);
    // Three tries: a collection during one (of earlier tests' tensors) can only lower that try's count,
    // and a leak raises every try's.
    const added = [0, 1, 2].map(() => {
      const before = torch.memory().handles;
      torch.noGrad(() => m(x)).dispose();
      return torch.memory().handles - before;
    });
    expect(Math.max(...added)).toBeLessThanOrEqual(0);
  });
});

describe('a module call is typed by its forward (Module<In, Out>)', () => {
  // test/tsconfig.json type-checks this file (npm test runs tsc first): a @ts-expect-error that is not an
  // error fails the build, so the typing is held as well as the values.
  it('model(x) returns what forward returns, and refuses what forward does not take', () => {
    const lin = new nn.Linear(2, 3);
    const y: Tensor = lin(torch.ones([1, 2])); // no cast
    expect(y.shape).toEqual([1, 3]);
    // @ts-expect-error Linear.forward takes a Tensor
    expect(() => lin('x')).toThrow(/input must be a Tensor/);
    const mha = new nn.MultiheadAttention(4, 2);
    const q = torch.ones([3, 1, 4]);
    const [out, weights]: [Tensor, Tensor | null] = mha(q, q, q);
    expect(out.shape).toEqual([3, 1, 4]);
    expect(weights?.shape).toEqual([1, 3, 3]);
    const classifier: torch.nn.Module<[Tensor], Tensor> = new nn.Sequential(new nn.Flatten(), lin);
    expect(classifier(torch.ones([1, 1, 2])).shape).toEqual([1, 3]);
  });
});
