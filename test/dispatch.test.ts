// Python's calling convention on the generated surface (lib/core/dispatch.ts): positional arguments, then
// one options object; keyword-only arguments only there; out=, varargs, int[N] from one int; and the
// refusals Python's argument parser makes, as TypeErrors naming the argument.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { Overloads } from '../lib/core/dispatch';

const x = torch.arange(12, { dtype: 'float32' }).reshape(3, 4);
const same = (a: torch.Tensor, b: torch.Tensor): void => {
  expect(a.shape).toEqual(b.shape);
  expect(a.toArray()).toEqual(b.toArray());
};

describe("the generated surface takes Python's arguments", () => {
  it('positional, options and mixed forms are the same call', () => {
    same(x.sum(1, true), x.sum(1, { keepdim: true }));
    same(x.sum(1, true), x.sum({ dim: 1, keepdim: true }));
    same(torch.sum(x, 1, true), x.sum(1, true));
    same(x.std(0, true), x.std([0], { unbiased: true }));
    const { values, indices } = x.max(1, true);
    expect([values.shape, indices.toArray()]).toEqual([
      [3, 1],
      [[3], [3], [3]],
    ]);
    same(x.cumsum(1), torch.cumsum({ input: x, dim: 1 }));
  });

  it('varargs where Python has them, and one int for an int[N]', () => {
    same(x.view(2, 6), x.view([2, 6]));
    same(x.permute(1, 0), x.t());
    const [a, b] = torch.broadcastTensors(torch.zeros(3, 1), torch.zeros(4));
    expect([a.shape, b.shape]).toEqual([
      [3, 4],
      [3, 4],
    ]);
    const img = torch.arange(16, { dtype: 'float32' }).reshape(1, 1, 4, 4);
    same(torch.maxPool2d(img, 2), torch.maxPool2d(img, [2, 2]));
  });

  it('out= writes into and returns the given tensor; out: null is the plain call', () => {
    const out = torch.zeros(3, 4);
    expect(torch.add(x, x, { out })).toBe(out);
    same(out, x.mul(2));
    same(torch.add(x, x, { out: null } as never), x.mul(2));
    const [v, i] = [torch.zeros(3), torch.zeros([3], { dtype: 'int64' })];
    const r = torch.max(x, 1, { out: [v, i] } as never) as unknown as torch.Tensor[];
    expect(r[0]).toBe(v);
    expect(i.toArray()).toEqual([3, 3, 3]);
  });

  it("torch.functional's wrappers take Python's own signatures", async () => {
    torch.manualSeed(3);
    const a = torch.randn(2, 3, 4),
      b = torch.randn(3, 4, 5);
    same(
      torch.tensordot(a, b, 2),
      torch.tensordot(a, b, [
        [1, 2],
        [0, 1],
      ]),
    );
    expect(torch.tensordot(a, b, { dims: 2 }).shape).toEqual([2, 5]);
    const u = torch.tensor([1, 1, 2, 2, 3, 1]);
    expect((torch.uniqueConsecutive(u) as torch.Tensor).toArray()).toEqual([1, 2, 3, 1]);
    const [vals, counts] = torch.uniqueConsecutive(u, { returnCounts: true }) as torch.Tensor[];
    expect([vals.toArray(), counts.toArray()]).toEqual([
      [1, 2, 3, 1],
      [2, 2, 1, 1],
    ]);
    const p = torch.tensor(
      [
        [0, 0],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    expect(torch.cdist(p, p, 2, 'donot_use_mm_for_euclid_dist').toArray()).toEqual([
      [0, 5],
      [5, 0],
    ]);
    expect(torch.cdist(p, p, { p: 1 }).toArray()).toEqual([
      [0, 7],
      [7, 0],
    ]);
    expect(() => torch.cdist(p, p, 2, 'fast' as never)).toThrow(/not a valid value for computeMode/);
  });

  it('refuses what Python refuses, naming the argument', () => {
    expect(() => x.sum({ keep_dim: true } as never)).toThrow(/unknown option 'keep_dim' \(did you mean 'keepdim'\?\)/);
    expect(() => x.sum({ keepDim: true } as never)).toThrow(/unknown option 'keepDim' \(did you mean 'keepdim'\?\)/);
    // dtype is keyword-only in sum(input, dim, keepdim, *, dtype)
    expect(() => x.sum(1, true, 'float64' as never)).toThrow(/invalid combination of arguments - got \(int, boolean, string\)/);
    expect(() => torch.exp('x' as never)).toThrow(/torch.exp\(\): argument 'input' \(position 1\) must be Tensor, not string/);
    expect(() => torch.max(x, 0, { indices: torch.zeros(3) } as never)).toThrow(/unknown option 'indices'/);
    // requires_grad is a factory's keyword only
    expect(() => torch.cumsum(x, 0, { requiresGrad: true } as never)).toThrow(/unknown option 'requiresGrad'/);
    expect(torch.hannWindow(4, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => torch.hannWindow(4, { requiresGrad: 1 } as never)).toThrow(/got \(int, requiresGrad=int\)/);
    // a bigint for a tensor must be an int64: past it native code would read it as a tensor handle
    expect(() => x.mul(2n ** 63n)).toThrow(RangeError);
    expect(x.mul(2n).sum().item()).toBe(132);
    // torchnode's tensors are dense: other layouts are refused
    expect(x.newZeros([2], { layout: 'strided' }).shape).toEqual([2]);
    expect(() => x.newZeros([2], { layout: 'sparse_coo' as never })).toThrow(/layout must be one of 'strided'/);
    expect(x.clone({ memoryFormat: 'preserve_format' }).shape).toEqual([3, 4]);
    expect(torch.zeros(1, 2, 3, 4).contiguous({ memoryFormat: 'channels_last' }).stride()).toEqual([24, 1, 8, 2]);
    expect(() => x.clone({ memoryFormat: 'nhwc' as never })).toThrow(/memoryFormat must be one of 'contiguous_format'/);
  });

  it('the factories and the hand-written methods check their options by the same rule', () => {
    expect(() => torch.randn(2, { dtyp: 'float32' } as never)).toThrow(
      /torch.randn\(\): unknown option 'dtyp' \(did you mean 'dtype'\?\) \(the options are size, dtype, layout, device, pinMemory, generator, out, requiresGrad\)/,
    );
    expect(() => torch.zeros([2], { requires_grad: true } as never)).toThrow(/unknown option 'requires_grad' \(torchnode's name is 'requiresGrad'\)/);
    expect(() => torch.tensor([1], { dtpye: 'float32' } as never)).toThrow(/torch.tensor: unknown option 'dtpye'/);
    expect(() => torch.zerosLike(x, { devcie: 'cpu' } as never)).toThrow(/torch.zerosLike\(\): unknown option 'devcie'/);
    // Python's keywords for what Python passes by position
    expect(torch.arange({ end: 3 }).tolist()).toEqual([0, 1, 2]);
    expect(torch.zeros({ size: [2, 3], dtype: 'float64' }).dtype).toBe('float64');
    expect(torch.full({ size: [2], fillValue: 1.5 }).tolist()).toEqual([1.5, 1.5]);
    expect(torch.randint({ high: 10, size: [4] }).dtype).toBe('int64');
    expect(torch.zeros(2, 3, { dtype: 'int32' }).shape).toEqual([2, 3]);
    expect(torch.ones(2, { dtype: 'float64', requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => x.to({ dtpye: 'float64' } as never)).toThrow(/to: unknown option 'dtpye'/);
    expect(() => x.to('float64', { non_blocking: true } as never)).toThrow(/torchnode's name is 'nonBlocking'/);
    expect(() => x.sum().backward(null, { retain_graph: true } as never)).toThrow(/torchnode's name is 'retainGraph'/);
  });

  it('models, datasets, files: a misspelt option is a TypeError before anything is built or read', () => {
    expect(() => torch.models.seResNet18({ num_classes: 10 } as never)).toThrow(
      /SEResNet: unknown option 'num_classes' \(torchnode's name is 'numClasses'\)/,
    );
    // the root does not exist: the option is refused before any file is looked for
    expect(() => new torch.data.CIFAR10({ root: '/nonexistent', transfrom: null } as never)).toThrow(/CIFAR10: unknown option 'transfrom'/);
    expect(() => new torch.data.MNIST({ root: '/nonexistent', trian: true } as never)).toThrow(/MNIST: unknown option 'trian'/);
    expect(() => torch.data.MNIST.fromPackage({ trian: true } as never)).toThrow(/MNIST.fromPackage: unknown option 'trian'/);
    expect(() => torch.save(torch.ones(1), '/nonexistent/x.pt', { pickle_protocol: 2 } as never)).toThrow(
      /torch.save: takes no options \(got 'pickle_protocol'\)/,
    );
    expect(() => torch.jit.load('/nonexistent.pt', { map_location: 'cpu' } as never)).toThrow(/torch.jit.load: unknown option 'map_location'/);
    expect(() => new torch.train.Trainer({ epochs: 2 } as never)).toThrow(/Trainer: unknown option 'epochs'/);
  });

  it("Trainer.fit's options too", async () => {
    const model = new torch.nn.Sequential(new torch.nn.Flatten(), new torch.nn.Linear(4, 2));
    const trainer = new torch.train.Trainer({ model, optimizer: new torch.optim.SGD(model.parameters(), 0.1), progress: false, outDir: null });
    await expect(trainer.fit([], { epoch: 1 } as never)).rejects.toThrow(/fit: unknown option 'epoch'/);
  });

  it('an operator the LibTorch in use lacks is a TorchNotImplementedError naming it', () => {
    const missing = new Overloads('torch.notAnOp', ['not_an_op(Tensor self) -> Tensor'], false);
    expect(() => missing.call(undefined, [x])).toThrow(torch.TorchNotImplementedError);
    expect(() => missing.call(undefined, [x])).toThrow(/has no operator aten::not_an_op/);
  });

  it('arguments reach the operator by name: a LibTorch whose operator orders, adds or lacks arguments still takes the call', () => {
    // The surface is generated from PyTorch 2.13's schema; these stand for other versions' schemas of
    // aten::sub.Tensor, which here is (Tensor self, Tensor other, *, Scalar alpha=1).
    const a = torch.tensor([1, 2]);
    const b = torch.tensor([10, 20]);
    const newer = new Overloads('torch.sub', ['sub.Tensor(Tensor self, Tensor other, *, Scalar beta=1, Scalar alpha=1) -> Tensor'], false);
    expect((newer.call(undefined, [a, b, { alpha: 2 }]) as torch.Tensor).tolist()).toEqual([-19, -38]);
    expect(() => newer.call(undefined, [a, b, { beta: 3 }])).toThrow(/argument 'beta' is not in this LibTorch's operator \(aten::sub.Tensor\)/);
    const older = new Overloads('torch.sub', ['sub.Tensor(Tensor self, Tensor other) -> Tensor'], false);
    expect((older.call(undefined, [a, b]) as torch.Tensor).tolist()).toEqual([-9, -18]); // alpha: the operator's default
    const reordered = new Overloads('torch.sub', ['sub.Tensor(Tensor other, Tensor self, *, Scalar alpha=1) -> Tensor'], false);
    expect((reordered.call(undefined, [b, a, { alpha: 3 }]) as torch.Tensor).tolist()).toEqual([-29, -58]);
    // the surface's own binding of the operator is untouched by the others
    expect(torch.sub(a, b, { alpha: 2 }).tolist()).toEqual([-19, -38]);
    expect(torch.sub(a, b).tolist()).toEqual([-9, -18]);
  });

  it("a CUDA stream crosses to the operator (Tensor.recordStream): on a CPU tensor, Python's NotImplementedError", () => {
    const stream = torch.cuda.Stream.of(0, 0);
    expect(() => torch.ones(2).recordStream(stream)).toThrow(torch.TorchNotImplementedError);
    expect(() => torch.ones(2).recordStream(stream)).toThrow(/Could not run 'aten::record_stream' with arguments from the 'CPU' backend/);
    expect(() => torch.ones(2).recordStream('cuda' as never)).toThrow(/argument 's' \(position 1\) must be a torch.cuda.Stream, not string/);
  });

  it("torch.split is Python's own: (tensor, splitSizeOrSections, dim)", () => {
    const t = torch.arange(10);
    expect(torch.split(t, 4).map((p) => p.tolist())).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(torch.split(t, [3, 7]).map((p) => p.shape[0])).toEqual([3, 7]);
    expect(torch.split(t.view(2, 5), { splitSizeOrSections: 2, dim: 1 }).map((p) => p.shape)).toEqual([
      [2, 2],
      [2, 2],
      [2, 1],
    ]);
    expect(t.split(5).length).toBe(2); // Tensor.split(splitSize, dim), as Python's
    expect(() => torch.split(t, { split_size_or_sections: 2 } as never)).toThrow(/unknown option 'split_size_or_sections'/);
    expect(() => torch.split(t)).toThrow(/missing 1 required positional argument: 'splitSizeOrSections'/);
  });

  it('inputs that crash LibTorch itself are refused before the call', () => {
    // pdist's backward over no rows segfaults in LibTorch 2.13 (Python dies the same way)
    expect(() => torch.pdist(torch.zeros([0, 4]).requiresGrad_())).toThrow(torch.TorchValueError);
    expect(torch.pdist(torch.zeros([0, 4])).shape).toEqual([0]);
    // integer division of the minimum by -1 traps the CPU: refused on every path to it
    expect(() => torch.div(torch.tensor([-(2n ** 63n)]), -1, { roundingMode: 'trunc' })).toThrow(/integer division overflow/);
    // its remainder traps too before LibTorch 2.13 (refused there); from 2.13 it is 0, as in Python
    const minimum = torch.tensor([-(2n ** 63n)]);
    const [major, minor] = torch.buildInfo.torchVersion.split('.').map(Number);
    for (const f of [() => torch.remainder(minimum, -1), () => torch.fmod(minimum, torch.tensor([-1])), () => minimum.clone().remainder_(-1)]) {
      if (major > 2 || minor >= 13) expect(f().tolist()).toEqual([0]);
      else expect(f).toThrow(/integer division overflow/);
    }
  });
});
