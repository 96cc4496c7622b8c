// The transforms are nn.Modules, as torchvision's v2 transforms are torch.nn.Modules: callable, inside an
// nn.Sequential before a model, with forward hooks, Compose's steps as its submodules, no state in
// stateDict(), PyTorch's repr, and the same numbers as before (checked against hand computations here).
import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import * as torch from '../lib/index';
import * as data from '../lib/data';
import { collect as collectGarbage } from './helpers/gc';
import { thrown } from './helpers/errors';

const { nn } = torch;
const T = data.transforms;
type Tensor = torch.Tensor;

/** The error fn throws. */

/** Nested number arrays, element by element, to within tol. */
function expectNear(actual: unknown, expected: unknown, tol = 1e-6): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as unknown[]).length).toBe(expected.length);
    expected.forEach((e, k) => expectNear((actual as unknown[])[k], e, tol));
  } else {
    expect(Math.abs((actual as number) - (expected as number))).toBeLessThanOrEqual(tol);
  }
}

// One uint8 image batch [1, 2, 3, 2] (N, C, H, W) and its hand-computed transforms.
const PIXELS = [
  [
    [0, 51],
    [102, 153],
    [204, 255],
  ],
  [
    [255, 0],
    [51, 102],
    [153, 204],
  ],
];
const MEAN = [0.5, 0.25];
const STD = [0.25, 0.5];
const scaledByHand = PIXELS.map((plane) => plane.map((row) => row.map((v) => v / 255)));
const normalizedByHand = scaledByHand.map((plane, c) => plane.map((row) => row.map((v) => (v - MEAN[c]) / STD[c])));
const image = (): Tensor => torch.tensor([PIXELS], { dtype: 'uint8' });

describe('transforms are nn.Modules', () => {
  it('every transform is an nn.Module and a Transform, made with or without new, and callable', () => {
    const made = [
      T.ToTensor(),
      new T.ToTensor(),
      T.Normalize(MEAN, STD),
      new T.Normalize(0.5, 0.5),
      T.RandomCrop(2),
      T.RandomHorizontalFlip(),
      T.RandomVerticalFlip(0.2),
      T.Compose([T.ToTensor()]),
      T.Lambda((x) => x),
      new T.Lambda((x) => x),
    ];
    for (const t of made) {
      expect(t).toBeInstanceOf(nn.Module);
      expect(t).toBeInstanceOf(T.Transform);
      expect(typeof t).toBe('function');
    }
    expect(made[0]).toBeInstanceOf(T.ToTensor);
    expect(made[1]).toBeInstanceOf(T.ToTensor);
    expect(made[2]).toBeInstanceOf(T.Normalize);
    expect(made[2]).not.toBeInstanceOf(T.ToTensor);
    // Module's modes are there; a transform computes the same in either (as torchvision's).
    const flip = T.RandomHorizontalFlip(1);
    expect(flip.training).toBe(true);
    expect(flip.eval()).toBe(flip);
    expect(flip.training).toBe(false);
    const x = torch.tensor([[[[1, 2, 3]]]]);
    expect(flip(x).toArray()).toEqual([[[[3, 2, 1]]]]);
    flip.train();
    expect(flip.training).toBe(true);
    expect(flip(x).toArray()).toEqual([[[[3, 2, 1]]]]);
  });

  it('outputs equal hand computations: ToTensor, Normalize, the flips, RandomCrop and Compose', () => {
    const x = image();
    const scaled = T.ToTensor()(x);
    expect(scaled.dtype).toBe('float32');
    expectNear(scaled.toArray(), [scaledByHand]);
    expectNear(T.Normalize(MEAN, STD)(scaled).toArray(), [normalizedByHand]);
    expectNear(T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])(x).toArray(), [normalizedByHand]);
    // p = 1 flips every sample: left–right reverses each row, top–bottom the rows.
    expectNear(T.RandomHorizontalFlip(1)(scaled).toArray(), [scaledByHand.map((p) => p.map((r) => r.slice().reverse()))]);
    expectNear(T.RandomVerticalFlip(1)(scaled).toArray(), [scaledByHand.map((p) => p.slice().reverse())]);
    // A crop the size of the padded image draws nothing: the image with a border of zeros.
    const padded = scaledByHand.map((p) => [[0, 0, 0, 0], ...p.map((r) => [0, ...r, 0]), [0, 0, 0, 0]]);
    expectNear(T.RandomCrop([5, 4], { padding: 1 })(scaled).toArray(), [padded]);
    // one image [C, H, W] in, one image out
    expectNear(T.Normalize(MEAN, STD)(scaled.select(0, 0)).toArray(), normalizedByHand);
    // A plain function in a Compose runs as its step.
    const doubled = T.Compose([T.ToTensor(), (t: Tensor) => t.mul(2)])(x);
    expectNear(doubled.toArray(), [scaledByHand.map((p) => p.map((r) => r.map((v) => 2 * v)))]);
  });

  it('goes into nn.Sequential before a model, whose output is the hand computation', () => {
    const linear = new nn.Linear(12, 1);
    torch.noGrad(() => {
      linear.weight.copy_(torch.arange(12, { dtype: 'float32' }).view(1, 12));
      linear.bias!.fill_(0.5);
    });
    const model = new nn.Sequential(T.ToTensor(), T.Normalize(MEAN, STD), new nn.Flatten(), linear);
    const out = model(image());
    expect(out.shape).toEqual([1, 1]);
    const flat = normalizedByHand.flat(2);
    const byHand = flat.reduce((s, v, k) => s + k * v, 0.5);
    expectNear(out.item(), byHand, 1e-4);
    // the transforms are the Sequential's first children, and the model's parameters are all it has
    expect([...model.children()].slice(0, 2).map((m) => m.constructor.name)).toEqual(['ToTensor', 'Normalize']);
    expect(Object.keys(model.stateDict())).toEqual(['3.weight', '3.bias']);
    // an input a transform refuses is reported with its place in the Sequential, as a layer's error is
    const e = thrown(() => new nn.Sequential(T.Normalize(MEAN, STD), new nn.Flatten())(image()));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('0 (Normalize): input must be a floating-point tensor (got uint8); apply ToTensor() first');
  });

  it('runs forward hooks and pre-hooks, also on a step inside a Compose', () => {
    const norm = T.Normalize(MEAN, STD);
    const seen: [unknown, Tensor, Tensor][] = [];
    const kept: Tensor[] = [];
    const handle = norm.registerForwardHook((m, inputs, output) => {
      seen.push([m, inputs[0] as Tensor, output as Tensor]);
      kept.push(torch.keep((inputs[0] as Tensor).mul(1))); // a copy kept past the Compose's scope
    });
    const recipe = T.Compose([T.ToTensor(), norm]);
    const x = image();
    const out = recipe(x);
    expect(seen.length).toBe(1);
    expect(seen[0][0]).toBe(norm);
    expect(seen[0][2]).toBe(out); // Normalize's output is the Compose's
    expectNear(out.toArray(), [normalizedByHand]);
    // Normalize's input, ToTensor's output, was an intermediate of the Compose: freed when it returned,
    // as every intermediate is; what the hook kept is ToTensor's output.
    expect(seen[0][1].isDisposed).toBe(true);
    expect(kept[0].isDisposed).toBe(false);
    expectNear(kept[0].toArray(), [scaledByHand]);
    // a hook's return value replaces the output
    const replace = norm.registerForwardHook((_m, _inputs, output) => (output as Tensor).neg());
    expectNear(recipe(x).toArray(), [normalizedByHand.map((p) => p.map((r) => r.map((v) => -v)))]);
    expect(seen.length).toBe(2);
    replace.remove();
    handle.remove();
    recipe(x);
    expect(seen.length).toBe(2);
    // a pre-hook's return value replaces the input
    const toTensor = T.ToTensor();
    toTensor.registerForwardPreHook(() => [torch.full([1, 1, 1, 1], 255, { dtype: 'uint8' })]);
    expect(toTensor(x).toArray()).toEqual([[[[1]]]]);
  });

  it("Compose's children are its transforms, registered '0', '1', … as nn.Sequential's", () => {
    const toTensor = T.ToTensor();
    const crop = T.RandomCrop(2);
    const norm = T.Normalize(MEAN, STD);
    const double = (t: Tensor) => t.mul(2);
    const recipe = T.Compose([toTensor, crop, double, norm]);
    const children = [...recipe.children()];
    expect(children.length).toBe(4);
    expect(children[0]).toBe(toTensor);
    expect(children[1]).toBe(crop);
    expect(children[3]).toBe(norm);
    // a plain function is wrapped in a Lambda holding it
    expect(children[2]).toBeInstanceOf(T.Lambda);
    expect((children[2] as data.transforms.Lambda).fn).toBe(double);
    expect([...recipe.namedChildren()].map(([name]) => name)).toEqual(['0', '1', '2', '3']);
    expect(recipe.transforms).toEqual(children);
    // modes reach the steps
    recipe.eval();
    expect(children.every((m) => !m.training)).toBe(true);
    // a Module that is not a Transform is a step as it is
    const id = new nn.Identity();
    const withModule = T.Compose([T.ToTensor(), id]);
    expect([...withModule.children()][1]).toBe(id);
    expectNear(withModule(image()).toArray(), [scaledByHand]);
    // an error of a step names it by its place; one of Compose's own names the step
    const e = thrown(() => T.Compose([T.ToTensor(), T.Normalize([0.5, 0.5, 0.5], [1, 1, 1])])(image()));
    expect(e.message).toBe('1 (Normalize): mean has 3 values but the input has 2 channels');
    const bad = thrown(() => T.Compose([T.ToTensor(), new nn.Identity(), (() => 5) as never])(image()));
    expect(bad.message).toBe('2 (Lambda): the function returned 5, not a Tensor');
  });

  it('has no parameters, buffers or state; Normalize caches mean and std outside its state and dispose() frees them', async () => {
    const norm = T.Normalize(MEAN, STD);
    const recipe = T.Compose([T.ToTensor(), T.RandomCrop(2, { padding: 1 }), T.RandomHorizontalFlip(), norm, T.Lambda((t) => t)]);
    const x = image();
    const first = recipe(x); // Normalize has made its cached constants
    for (const m of recipe.modules()) {
      expect(m.stateDict()).toEqual({});
      expect(m.parameters()).toEqual([]);
      expect(m.buffers()).toEqual([]);
    }
    // its attributes are its configuration alone (the cache is not one)
    expect(Object.keys(norm)).toEqual(['mean', 'std', 'inplace']);
    // a warm call makes only its result: every intermediate is freed, the constants are reused
    await collectGarbage();
    const before = torch.memory().handles;
    const second = recipe(x);
    expect(torch.memory().handles).toBe(before + 1);
    second.dispose();
    // dispose() frees the two cached tensors; the next call makes them again
    norm.dispose();
    expect(torch.memory().handles).toBe(before - 2);
    expect(first.shape).toEqual([1, 2, 2, 2]); // the 2 × 2 crop
    const third = T.Compose([T.ToTensor(), norm])(x);
    expectNear(third.toArray(), [normalizedByHand]);
    expect(torch.memory().handles).toBe(before + 1);
    // a deepcopy computes the same and has its own cache: disposing the original's leaves it working
    const copy = nn.deepcopy(norm);
    expect(copy).not.toBe(norm);
    const scaled = T.ToTensor()(x);
    const beforeCopy = torch.memory().handles;
    const y = copy(scaled);
    expect(torch.memory().handles).toBe(beforeCopy + 3); // the result and the copy's own mean and std
    expectNear(y.toArray(), [normalizedByHand]);
    norm.dispose();
    expect(torch.memory().handles).toBe(beforeCopy + 1);
    expectNear(copy(scaled).toArray(), [normalizedByHand]);
    copy.dispose();
  });

  it("prints as torchvision's, and inside a Sequential as a module", () => {
    const norm = T.Normalize(MEAN, STD);
    expect(String(norm)).toBe('Normalize(mean=[0.5, 0.25], std=[0.25, 0.5])');
    expect(inspect(norm)).toBe(String(norm));
    expect(String(T.ToTensor())).toBe('ToTensor()');
    expect(String(T.ToTensor({ channelsLast: true }))).toBe('ToTensor(channelsLast=true)');
    expect(String(T.RandomHorizontalFlip(0.3))).toBe('RandomHorizontalFlip(p=0.3)');
    expect(String(T.RandomVerticalFlip())).toBe('RandomVerticalFlip(p=0.5)');
    expect(String(T.RandomCrop(2))).toBe('RandomCrop(size=(2, 2), padding=None)');
    function double(t: Tensor): Tensor {
      return t.mul(2);
    }
    expect(String(T.Lambda(double))).toBe('Lambda(double)');
    expect(String(T.Compose([T.ToTensor(), double, norm]))).toBe(
      'Compose(\n    ToTensor()\n    Lambda(double)\n    Normalize(mean=[0.5, 0.25], std=[0.25, 0.5])\n)',
    );
    expect(String(new nn.Sequential(norm, new nn.Flatten()))).toBe(
      'Sequential(\n  (0): Normalize(mean=[0.5, 0.25], std=[0.25, 0.5])\n  (1): Flatten(start_dim=1, end_dim=-1)\n)',
    );
  });

  it('keeps the messages of a call: a non-Tensor input, and a transform used as a DataLoader transform', () => {
    expect(thrown(() => T.ToTensor()(5 as never)).message).toBe('ToTensor: input must be a Tensor (got 5)');
    expect(thrown(() => T.Normalize(MEAN, STD)([1] as never)).message).toBe('Normalize: input must be a Tensor (got an array)');
    expect(thrown(() => T.RandomCrop(3)(torch.zeros([1, 1, 2, 2]))).message).toBe(
      'RandomCrop: the crop size (3, 3) is larger than the (padded) image size (2, 2)',
    );
    // any Module of a batch is a loader transform, a Sequential of transforms included
    const ds = new data.TensorDataset(image(), torch.tensor([0]));
    const loader = new data.DataLoader(ds, { batchSize: 1, transform: new nn.Sequential(T.ToTensor(), T.Normalize(MEAN, STD)) });
    const [bx] = loader[Symbol.iterator]().next().value as data.Batch;
    expectNear(bx.toArray(), [normalizedByHand]);
    ds.dispose();
  });
});
