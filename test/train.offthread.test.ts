// Training off the JS thread: the step traced once and run on a worker thread (forward, loss and
// backward), the optimizer's update on a worker thread, and Trainer.fit using both. Results are the
// eager ones to the bit; the event loop keeps running during steps; a forward that cannot be traced
// faithfully falls back to the eager step (or fails, when asked to insist).
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { CompiledStep } from '../lib/train/step';

const { nn, optim, models, train } = torch;
const F = nn.functional;

function batches(seed: number, sizes: number[], hw = 16): [torch.Tensor, torch.Tensor][] {
  torch.manualSeed(seed);
  return sizes.map((n) => [torch.randn([n, 3, hw, hw]), torch.randint(0, 10, [n])]);
}
// What fit() iterates each epoch: fresh copies of the batches (the Trainer disposes each batch it used).
const copy = (bs: [torch.Tensor, torch.Tensor][]) => ({
  length: bs.length,
  *[Symbol.iterator]() {
    for (const [x, y] of bs) yield [x.clone(), y.clone()] as [torch.Tensor, torch.Tensor];
  },
});

// On the CPU, also on the GPU machine: bit-equality needs deterministic kernels, which cuDNN's benchmarked
// weight-gradient algorithms (picked per thread) are not.
async function fitOnce(offThread: boolean | 'auto', data: [torch.Tensor, torch.Tensor][], extra: Partial<torch.train.TrainerOptions> = {}) {
  torch.manualSeed(0);
  const model = models.seResNet18({ numClasses: 10, width: 8, stem: 'cifar', se: { reduction: 4 } });
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  const trainer = new train.Trainer({ model, optimizer, device: 'cpu', progress: false, offThread, handleSigint: false, ...extra });
  const events: { offThread: boolean; reason: string }[] = [];
  trainer.on('offThread', (e) => events.push(e));
  const history = await trainer.fit(copy(data), { epochs: 2 });
  return { model, history, events };
}

describe('Trainer.fit off the JS thread', () => {
  it('gives the eager parameters and history to the bit (momentum, Nesterov, weight decay, a partial last batch)', async () => {
    const data = batches(1, [8, 8, 8, 5]);
    const off = await fitOnce('auto', data);
    const eager = await fitOnce(false, data);
    expect(off.events).toEqual([{ offThread: true, reason: expect.stringContaining('reproduces') }]); // traced once per fit()
    expect(eager.events).toEqual([]);
    const a = off.model.stateDict();
    const b = eager.model.stateDict();
    for (const k of Object.keys(b)) expect(a[k].equal(b[k]), k).toBe(true);
    expect(off.history.map((h) => [h.trainLoss, h.trainAccuracy])).toEqual(eager.history.map((h) => [h.trainLoss, h.trainAccuracy]));
  });

  it('with gradient accumulation too', async () => {
    const data = batches(2, [6, 6, 6]);
    const off = await fitOnce(true, data, { accumulate: 2 });
    const eager = await fitOnce(false, data, { accumulate: 2 });
    const a = off.model.stateDict();
    for (const [k, v] of Object.entries(eager.model.stateDict())) expect(a[k].equal(v), k).toBe(true);
  });

  it('keeps the event loop running during each step (a 10 ms timer fires many times per step; eagerly at most once)', async () => {
    const data = batches(3, [32, 32, 32, 32, 32], 32);
    const ticksPerStep = async (offThread: boolean) => {
      torch.manualSeed(0);
      const model = models.seResNet18({ numClasses: 10, width: 32, stem: 'cifar' });
      const trainer = new train.Trainer({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }),
        device: 'cpu',
        progress: false,
        offThread,
        handleSigint: false,
      });
      const perStep: number[] = [];
      let ticks = 0;
      trainer.on('step', () => {
        perStep.push(ticks);
        ticks = 0;
      });
      const timer = setInterval(() => ticks++, 10);
      try {
        await trainer.fit(copy(data), { epochs: 1 });
      } finally {
        clearInterval(timer);
      }
      return perStep.slice(1); // the first step compiles the trace on the JS thread
    };
    const eager = await ticksPerStep(false);
    const off = await ticksPerStep(true);
    // Eagerly the loop only gets a turn between steps; off the thread it runs all through the step.
    expect(Math.max(...eager)).toBeLessThanOrEqual(2);
    expect(off.reduce((a, b) => a + b, 0)).toBeGreaterThan(eager.reduce((a, b) => a + b, 0) + 2 * off.length);
  }, 120_000);

  it('a forward that bakes in the batch size is caught: auto falls back to the eager step, true refuses', async () => {
    class Baked extends nn.Module {
      conv = new nn.Conv2d(3, 4, 3);
      fc = new nn.Linear(4 * 14 * 14, 10);
      forward(x: torch.Tensor): torch.Tensor {
        return this.fc(this.conv(x).view(x.shape[0], -1)); // x.shape[0] becomes a constant in a trace
      }
    }
    const data = batches(4, [8, 8, 3]);
    const run = async (offThread: boolean | 'auto') => {
      torch.manualSeed(0);
      const model = new Baked();
      const trainer = new train.Trainer({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        device: 'cpu',
        progress: false,
        offThread,
        handleSigint: false,
      });
      const events: { offThread: boolean; reason: string }[] = [];
      trainer.on('offThread', (e) => events.push(e));
      await trainer.fit(copy(data), { epochs: 1 });
      return { events, weight: model.fc.weight.clone() };
    };
    const auto = await run('auto');
    expect(auto.events).toEqual([{ offThread: false, reason: expect.stringMatching(/does not reproduce the eager one.*batch of 4/) }]);
    // the reason names the cause, not only that the TorchScript interpreter failed
    expect(auto.events[0].reason).toMatch(
      /the trace fails: RuntimeError: mat1 and mat2 shapes cannot be multiplied \(8x392 and 784x10\) on a batch of 4/,
    );
    expect(auto.events[0].reason).not.toMatch(/interpreter/);
    const eager = await run(false);
    expect(auto.weight.equal(eager.weight)).toBe(true);
    await expect(run(true)).rejects.toThrow(/does not reproduce the eager one/);
  });

  it('AMP keeps the eager step and says why; offThread: true with amp is refused', async () => {
    const data = batches(5, [4, 4]);
    const amp = await fitOnce('auto', data, { amp: 'bfloat16' });
    expect(amp.events[0]).toEqual({ offThread: false, reason: 'AMP steps run on the JS thread' });
    const model = new nn.Linear(2, 2);
    expect(() => new train.Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), amp: true, offThread: true })).toThrow(/amp/);
    expect(() => new train.Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), offThread: 'yes' as never })).toThrow(
      /offThread/,
    );
  });
});

describe('the pieces', () => {
  it('CompiledStep.run: the eager loss, right predictions and gradients; compiling changes no state', async () => {
    torch.manualSeed(6);
    const model = models.seResNet18({ numClasses: 10, width: 8, stem: 'cifar', se: { reduction: 4 } });
    const [[x, y]] = batches(6, [6]);
    const before = Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()] as const);
    const rng = torch.getRngState();
    const step = CompiledStep.compile(model, (o, t) => F.crossEntropy(o, t), x, y);
    for (const [k, v] of before) expect(model.stateDict()[k].equal(v), k).toBe(true);
    expect(torch.getRngState().equal(rng)).toBe(true);

    const got = await step.run(x, y);
    const viaStep = model.parameters().map((p) => p.grad!.clone());
    for (const [k, v] of before) model.stateDict()[k].copy_(v); // the step updated batch-norm statistics
    model.zeroGrad();
    const out = model(x);
    const loss = F.crossEntropy(out, y);
    loss.backward();
    expect(got.loss).toBe(loss.item());
    expect(got.correct).toBe(out.argmax(1).eq(y).sum().item());
    model.parameters().forEach((p, i) => expect(p.grad!.equal(viaStep[i])).toBe(true));
    step.dispose();
  });

  it('optimizer.stepAsync() equals step() (SGD and Adam); stepping during it is refused', async () => {
    const params = () => {
      torch.manualSeed(7);
      return new nn.Linear(5, 4).parameters();
    };
    for (const [name, build] of [
      ['SGD', (ps: torch.nn.Parameter[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 })],
      ['Adam', (ps: torch.nn.Parameter[]) => new optim.Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
    ] as const) {
      const [pa, pb] = [params(), params()];
      const [a, b] = [build(pa), build(pb)];
      for (let i = 0; i < 3; i++) {
        for (const ps of [pa, pb]) ps.forEach((p, j) => (p.grad = torch.full(p.shape, 0.1 * (i + j + 1))));
        a.step();
        const pending = b.stepAsync();
        expect(() => b.step(), name).toThrow(/middle of stepAsync/);
        await pending;
      }
      pa.forEach((p, i) => expect(p.equal(pb[i]), `${name} ${i}`).toBe(true));
      expect(pa[0].equal(params()[0]), name).toBe(false); // the steps did move the parameters
    }
  });

  // Off-thread compute queues on the environment's one compute thread (native/compute_thread.h).
  it('many async calls in flight at once each settle with their own result; a failing one leaves the rest', async () => {
    torch.manualSeed(3);
    const lin = new nn.Linear(5, 4);
    const xs = Array.from({ length: 16 }, () => torch.randn([6, 5]));
    const traced = torch.jit.trace(lin, xs[0]);
    const want = torch.noGrad(() => xs.map((x) => lin(x)));
    const calls = xs.map((x) => traced.forwardAsync(x) as Promise<torch.Tensor>);
    calls.splice(8, 0, traced.forwardAsync(torch.randn([6, 7])) as Promise<torch.Tensor>); // wrong width
    const settled = await Promise.allSettled(calls);
    expect(settled[8].status).toBe('rejected');
    expect(String((settled[8] as PromiseRejectedResult).reason)).toMatch(/mat1 and mat2 shapes cannot be multiplied/);
    settled.splice(8, 1);
    settled.forEach((r, i) => {
      expect(r.status, `call ${i}`).toBe('fulfilled');
      expect((r as PromiseFulfilledResult<torch.Tensor>).value.equal(want[i]), `call ${i}`).toBe(true);
    });
    traced.dispose();
  });

  it('ScriptModule.forwardBackwardAsync: the gradients of loss.backward(), results detached', async () => {
    class Loss extends nn.Module {
      lin = new nn.Linear(3, 2);
      forward(x: torch.Tensor): torch.Tensor {
        const h = this.lin(x);
        return [h.square().mean(), h] as unknown as torch.Tensor;
      }
    }
    torch.manualSeed(8);
    const m = new Loss();
    const x = torch.randn([4, 3]);
    const traced = torch.jit.trace(m, x);
    const [loss, h] = (await traced.forwardBackwardAsync(x)) as torch.Tensor[];
    expect([loss.requiresGrad, h.requiresGrad]).toEqual([false, false]);
    const g = m.lin.weight.grad!.clone();
    m.zeroGrad();
    const [eagerLoss] = m(x) as unknown as torch.Tensor[];
    eagerLoss.backward();
    expect(loss.item()).toBe(eagerLoss.item());
    expect(g.equal(m.lin.weight.grad!)).toBe(true);
    // backward needs a scalar first result, as loss.backward() does
    const plain = torch.jit.trace(new nn.Linear(3, 2), x);
    await expect(plain.forwardBackwardAsync(x)).rejects.toThrow(/scalar/);
    traced.dispose();
    plain.dispose();
  });
});
