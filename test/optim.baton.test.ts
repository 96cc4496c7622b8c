// The optimizer steps' named options (native/options.h, native/optim.cc): a misspelt, missing or mistyped
// field is a TypeError naming it, from the synchronous call and the async one alike, before anything runs;
// a well-formed baton steps as the optimizer classes do.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { wrap } from '../lib/core/tensor';
import { native, type AdamStepOptions, type SgdStepOptions } from '../lib/core/native';
import { thrown } from './helpers/errors';

const SGD: SgdStepOptions = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, kernel: 'single' };
const ADAM: AdamStepOptions = {
  lr: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
  decoupledWeightDecay: false,
  kernel: 'single',
  capturable: false,
};

describe('optimizer step options (the baton)', () => {
  const p = torch.tensor([1, 2, 3], { dtype: 'float32' });
  const g = torch.tensor([0.5, 0.25, -1], { dtype: 'float32' });

  // Each baton is passed as JS would pass a wrong one: the type system is bypassed on purpose.
  const sgd = (options: object) => native.sgdStep([p.handle], [g.handle], [null], options as SgdStepOptions);
  const sgdAsync = (options: object) => native.sgdStepAsync([p.handle], [g.handle], [null], options as SgdStepOptions);

  it('refuses a misspelt field by its name', () => {
    const before = p.toArray();
    const { momentum, ...rest } = SGD;
    const misspelt = { ...rest, momentm: momentum };
    expect(() => sgd(misspelt)).toThrow(TypeError);
    expect(thrown(() => sgd(misspelt)).message).toBe("sgdStep: unknown option 'momentm'");
    // The async form reads the options on the calling thread: the same error, thrown before a promise exists.
    expect(thrown(() => sgdAsync(misspelt)).message).toBe("sgdStep: unknown option 'momentm'");
    expect(p.toArray()).toEqual(before); // nothing ran
  });

  it('refuses a missing or mistyped field, naming it and what it must be', () => {
    const { weightDecay: _, ...noDecay } = SGD;
    expect(thrown(() => sgd(noDecay)).message).toBe("sgdStep: option 'weightDecay' must be a number (it is missing)");
    expect(thrown(() => sgd({ ...SGD, nesterov: 'no' })).message).toBe("sgdStep: option 'nesterov' must be a boolean");
    expect(thrown(() => sgd({ ...SGD, kernel: 'fast' })).message).toBe("sgdStep: option 'kernel' must be 'single', 'foreach' or 'fused'");
    expect(thrown(() => sgd({ ...SGD, lrTensor: 42 })).message).toMatch(/^sgdStep: option 'lrTensor' must be a live Tensor/);
    expect(thrown(() => sgd([])).message).toBe('argument 3 must be an options object');
    const { beta2: __, ...noBeta2 } = ADAM;
    const adam = () => native.adamStep([p.handle], [g.handle], [g.handle], [g.handle], [], [g.handle], noBeta2 as AdamStepOptions);
    expect(thrown(adam)).toBeInstanceOf(TypeError);
    expect(thrown(adam).message).toBe("adamStep: option 'beta2' must be a number (it is missing)");
  });

  it('steps with a well-formed baton as torch.optim.SGD does', async () => {
    const a = torch.tensor([1, 2, 3], { dtype: 'float32' });
    const b = torch.tensor([1, 2, 3], { dtype: 'float32' });
    const opt = new torch.optim.SGD([b], { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 2; i++) {
      b.grad = g.clone();
      opt.step();
    }
    const made = native.sgdStep([a.handle], [g.handle], [null], SGD);
    const buf = wrap(made[0]!);
    await native.sgdStepAsync([a.handle], [g.handle], [buf.handle], SGD); // the buffer exists now: none is made
    expect(a.toArray()).toEqual(b.toArray());
    buf.dispose();
  });
});
