/**
 * torch.nn.utils.parametrize and torch.nn.utils.parametrizations: a module's tensor computed on each read
 * from other, stored tensors by a chain of modules (a ParametrizationList under
 * `module.parametrizations[name]`), as Python's register_parametrization does — the same attribute names,
 * class name (`ParametrizedLinear`), state-dict keys (`parametrizations.weight.original`) and values.
 * weightNorm and spectralNorm are the parametrisations Python ships, orthogonal aside.
 */
import { Tensor } from '../core/tensor';
import { describe } from '../core/dtype';
import { TorchValueError } from '../core/errors';
import { noGrad } from '../core/autograd';
import { keep, scope } from '../core/scope';
import { torchFunctions as T } from '../core/surface';
import { Module, Parameter, delattr, getattr, setattr, type AnyModule } from './module';
import { ModuleDict, ModuleList } from './container';
import { normalize } from './functional/activation';
import { spectralDim, weightMatrix, weightNormOp } from './reparam';

/** A parametrisation: a module whose forward maps the stored tensor(s) to the one read, with an optional inverse. */
export type Parametrization = Module & { rightInverse?: (value: Tensor) => Tensor | Tensor[] };

function register(owner: Module, name: string, t: Tensor): void {
  if (t instanceof Parameter) owner.registerParameter(name, t);
  else owner.registerBuffer(name, t);
}

/** The chain of parametrisations of one tensor, and the tensor(s) it is computed from (`original`, or `original0`, `original1`, …). */
export class ParametrizationList extends ModuleList {
  readonly isTensor: boolean;
  readonly ntensors: number;
  unsafe: boolean;
  constructor(modules: Parametrization[], original: Tensor, unsafe = false) {
    if (modules.length === 0) throw new RangeError('ParametrizationList requires one or more modules.');
    super(modules);
    this.unsafe = unsafe;
    const unparametrized = { dtype: original.dtype, shape: [...original.shape] };
    let value: Tensor | Tensor[] = original;
    noGrad(() => {
      for (const m of [...modules].reverse()) if (m.rightInverse) value = m.rightInverse(value as Tensor);
    });
    this.isTensor = value instanceof Tensor;
    if (value instanceof Tensor) {
      if (value !== original) noGrad(() => original.set_(value as Tensor));
      this.ntensors = 1;
      register(this, 'original', original);
    } else {
      const parts = value as Tensor[];
      this.ntensors = parts.length;
      parts.forEach((t, i) => {
        const part = original instanceof Parameter ? new Parameter(t, original.requiresGrad) : t.requiresGrad_(original.requiresGrad);
        register(this, `original${i}`, part);
      });
    }
    if (!unsafe) {
      // in a scope that returns nothing: it frees what forward made, never a tensor forward returned as it is
      scope(() => {
        const z: unknown = this.forward();
        if (!(z instanceof Tensor)) throw new TorchValueError(`A parametrization must return a tensor. Got ${describe(z)}.`);
        const c = changed(unparametrized, z, 'unparametrized ', 'parametrized ');
        if (c)
          throw new TorchValueError(
            `Registering a parametrization may not change the ${c.kind} of the tensor, unless \`unsafe\` flag is enabled.\n${c.values}`,
          );
      });
    }
  }
  /** The parametrised tensor: the first module applied to the original(s), then each next one. */
  override forward(): Tensor {
    const [first, ...rest] = [...this] as AnyModule[];
    const originals = originalsOf(this);
    // a parametrisation maps tensors to a tensor (checked at registration unless `unsafe`, as Python's)
    return scope(() => rest.reduce((x, m) => m(x), first(...originals)) as Tensor);
  }
  /** Stores `value` through the chain's right inverses (what assigning the parametrised attribute does). */
  rightInverse(value: Tensor): void {
    noGrad(() => {
      let v: Tensor | Tensor[] = value;
      for (const m of [...this].reverse() as Parametrization[]) {
        if (!m.rightInverse) throw new TypeError(`parametrization ${m.constructor.name} does not implement right_inverse.`);
        v = m.rightInverse(v as Tensor);
      }
      const originals = originalsOf(this);
      if (this.isTensor) originals[0].set_(v as Tensor);
      else (v as Tensor[]).forEach((t, i) => originals[i].set_(t));
    });
  }
}

/** The tensors a list computes from, as its constructor registered them: `original`, or `original0`, `original1`, …. */
function originalsOf(list: ParametrizationList): Tensor[] {
  const names = list.isTensor ? ['original'] : Array.from({ length: list.ntensors }, (_, i) => `original${i}`);
  return names.map((name) => getattr(list, name) as Tensor);
}

/** Whether the module has parametrisations (of `tensorName`, when given). */
export function isParametrized(module: Module, tensorName?: string): boolean {
  const p = getattr(module, 'parametrizations');
  if (!(p instanceof ModuleDict)) return false;
  return tensorName === undefined ? p.keys().length > 0 : p.get(tensorName) !== undefined;
}

// Python gives a parametrised module a class of its own, Parametrized<Class>, whose properties compute the
// parametrised tensors from `this.parametrizations` (so a deepcopy, which keeps the class, computes its own).
function injectClass(module: Module): void {
  // the module's own class: a concrete one (it made the module)
  const base = Object.getPrototypeOf(module) as { constructor: new (...a: never[]) => Module };
  {
    const Base = base.constructor;
    const name = `Parametrized${Base.name}`;
    const Parametrized = {
      [name]: class extends Base {
        declare forward: Module['forward']; // the base class's own (the compiler knows only that it is a Module)
        // as Python's weight_norm compat hook: old-style weight_g / weight_v keys load into the parametrisation
        protected override _loadFromStateDict(stateDict: Map<string, unknown>, prefix: string, local: Record<string, unknown>): void {
          for (const [name, list] of parametrizationsOf(this).entries()) {
            const [g, v] = [`${prefix}${name}_g`, `${prefix}${name}_v`];
            if ((list as ParametrizationList).at(0) instanceof WeightNormParametrization && stateDict.has(g) && stateDict.has(v)) {
              stateDict.set(`${prefix}parametrizations.${name}.original0`, stateDict.get(g));
              stateDict.set(`${prefix}parametrizations.${name}.original1`, stateDict.get(v));
              stateDict.delete(g);
              stateDict.delete(v);
            }
          }
          super._loadFromStateDict(stateDict, prefix, local);
        }
      },
    }[name];
    Object.setPrototypeOf(module, Parametrized.prototype);
  }
}
/** A parametrised module's `parametrizations`: the ModuleDict registerParametrization gave it with its class. */
const parametrizationsOf = (m: Module) => getattr(m, 'parametrizations') as ModuleDict;
const listOf = (m: Module, name: string) => parametrizationsOf(m).get(name) as ParametrizationList;

/** Which of dtype and shape `y` changes from `x` (dtype first, as Python checks), with both values under Python's labels (`${xLabel}dtype: …`). */
type Kind = { dtype: string; shape: number[] };
function changed(x: Kind, y: Kind, xLabel: string, yLabel: string): { kind: 'dtype' | 'shape'; values: string } | null {
  const size = (t: Kind) => `torch.Size([${t.shape.join(', ')}])`;
  if (x.dtype !== y.dtype) return { kind: 'dtype', values: `${xLabel}dtype: torch.${x.dtype}\n${yLabel}dtype: torch.${y.dtype}` };
  if (x.shape.join() !== y.shape.join()) return { kind: 'shape', values: `${xLabel}shape: ${size(x)}\n${yLabel}shape: ${size(y)}` };
  return null;
}

/**
 * Python's checks on a parametrization added to a chain (unless `unsafe`): it maps the parametrised tensor to
 * a tensor of the same dtype and shape, and so does its right inverse where it has one.
 */
function checkChained(module: Module, tensorName: string, parametrization: Parametrization): void {
  scope(() => {
    const y = getattr(module, tensorName) as Tensor;
    const x: unknown = (parametrization as AnyModule)(y);
    if (!(x instanceof Tensor)) throw new TorchValueError(`A parametrization must return a tensor. Got ${describe(x)}.`);
    const mod = `module.${tensorName}`;
    const c = changed(y, x, `${mod}.`, `parametrization(${mod}).`);
    if (c)
      throw new TorchValueError(
        `Registering a parametrization may not change the ${c.kind} of the tensor, unless the \`unsafe\` flag is enabled.\n${c.values}`,
      );
    if (!parametrization.rightInverse) return;
    const z: unknown = noGrad(() => parametrization.rightInverse!(x));
    if (!(z instanceof Tensor)) throw new TorchValueError(`parametrization.right_inverse must return a tensor. Got: ${describe(z)}`);
    const r = changed(y, z, `${mod}.`, 'returned ');
    if (r) {
      throw new TorchValueError(
        `The tensor returned by parametrization.right_inverse must have the same ${r.kind} as ${mod}, unless the \`unsafe\` flag is enabled.\n${r.values}`,
      );
    }
  });
}

/**
 * Makes `module[tensorName]` computed by `parametrization` from stored tensors (its rightInverse of the current
 * value, when it has one), as Python's register_parametrization; a second one chains after the first.
 */
export function registerParametrization<M extends Module>(
  module: M,
  tensorName: string,
  parametrization: Parametrization,
  options: { unsafe?: boolean } = {},
): M {
  if (!(module instanceof Module)) throw new TypeError(`registerParametrization: module must be an nn.Module (got ${describe(module)})`);
  const unsafe = options.unsafe ?? false;
  parametrization.train(module.training);
  if (isParametrized(module, tensorName)) {
    if (!unsafe) checkChained(module, tensorName, parametrization);
    const list = listOf(module, tensorName);
    list.append(parametrization);
    list.unsafe ||= unsafe;
    return module;
  }
  const original = getattr(module, tensorName);
  if (!(original instanceof Tensor))
    throw new RangeError(
      `Module '${module.constructor.name}' does not have a parameter, a buffer, or a parametrized element with name '${tensorName}'`,
    );
  const list = new ParametrizationList([parametrization], original, unsafe);
  delattr(module, tensorName);
  if (!isParametrized(module)) {
    injectClass(module);
    setattr(module, 'parametrizations', new ModuleDict());
  }
  parametrizationsOf(module).set(tensorName, list);
  Object.defineProperty(Object.getPrototypeOf(module), tensorName, {
    get(this: Module) {
      return listOf(this, tensorName).forward();
    },
    set(this: Module, value: Tensor) {
      listOf(this, tensorName).rightInverse(value);
    },
    configurable: true,
  });
  return module;
}

/** Removes the parametrisations of tensorName, leaving it a plain parameter holding its current value (or its stored original). */
export function removeParametrizations<M extends Module>(module: M, tensorName: string, leaveParametrized = true): M {
  if (!isParametrized(module, tensorName)) throw new RangeError(`Module ${module.constructor.name} does not have a parametrization on ${tensorName}`);
  const dict = parametrizationsOf(module);
  const list = dict.get(tensorName) as ParametrizationList;
  let original: Tensor;
  if (list.isTensor) {
    original = originalsOf(list)[0];
    if (leaveParametrized) {
      const t = noGrad(() => getattr(module, tensorName) as Tensor); // the parametrised value, computed
      noGrad(() => original.set_(t));
      t.dispose();
    }
  } else {
    if (!leaveParametrized)
      throw new RangeError(
        'Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized in terms of a sequence of tensors.',
      );
    const t = getattr(module, tensorName) as Tensor;
    original = t.requiresGrad ? new Parameter(t) : keep(t);
    if (original !== t) t.dispose();
  }
  Reflect.deleteProperty(Object.getPrototypeOf(module), tensorName); // the accessor registerParametrization defined
  delattr(dict, tensorName);
  register(module, tensorName, original);
  if (!isParametrized(module)) {
    delattr(module, 'parametrizations');
    Object.setPrototypeOf(module, Object.getPrototypeOf(Object.getPrototypeOf(module)) as object);
  }
  return module;
}

/** Python's _WeightNorm: weight = g · v/‖v‖, stored as original0 (g) and original1 (v). */
export class WeightNormParametrization extends Module {
  constructor(readonly dim: number = 0) {
    super();
  }
  forward(weightG: Tensor, weightV: Tensor): Tensor {
    return weightNormOp(weightV, weightG, this.dim);
  }
  rightInverse(weight: Tensor): Tensor[] {
    return [T.normExceptDim(weight, 2, this.dim), weight];
  }
}
Object.defineProperty(WeightNormParametrization, 'name', { value: '_WeightNorm' });

/** Python's _SpectralNorm: weight / σ, σ by power iteration kept in the buffers _u and _v (15 iterations to start). */
export class SpectralNormParametrization extends Module {
  declare _u: Tensor;
  declare _v: Tensor;
  readonly dim: number;
  readonly nPowerIterations: number;
  constructor(
    weight: Tensor,
    nPowerIterations = 1,
    dim = 0,
    readonly eps = 1e-12,
  ) {
    super();
    const nd = weight.ndim;
    if (dim >= nd || dim < -nd) throw new RangeError(`Dimension out of range (expected to be in range of [-${nd}, ${nd - 1}] but got ${dim})`);
    if (!(nPowerIterations > 0)) throw new RangeError(`Expected n_power_iterations to be positive, but got n_power_iterations=${nPowerIterations}`);
    this.dim = dim >= 0 ? dim : dim + nd;
    this.nPowerIterations = nPowerIterations;
    if (nd > 1) {
      noGrad(() =>
        scope(() => {
          const mat = this.matrix(weight);
          const [h, w] = mat.shape;
          this.registerBuffer('_u', normalize(mat.newEmpty([h]).normal_(0, 1), 2, 0, eps));
          this.registerBuffer('_v', normalize(mat.newEmpty([w]).normal_(0, 1), 2, 0, eps));
          this.powerMethod(mat, 15);
        }),
      );
    }
  }
  private matrix(weight: Tensor): Tensor {
    return weightMatrix(weight, this.dim);
  }
  private powerMethod(mat: Tensor, iterations: number): void {
    noGrad(() =>
      scope(() => {
        for (let i = 0; i < iterations; i++) {
          this._u.copy_(normalize(T.mv(mat, this._v), 2, 0, this.eps));
          this._v.copy_(normalize(T.mv(mat.H, this._u), 2, 0, this.eps));
        }
      }),
    );
  }
  forward(weight: Tensor): Tensor {
    if (weight.ndim === 1) return normalize(weight, 2, 0, this.eps);
    return scope(() => {
      const mat = this.matrix(weight);
      if (this.training) this.powerMethod(mat, this.nPowerIterations);
      const sigma = T.vdot(this._u.clone(), T.mv(mat, this._v.clone()));
      return weight.div(sigma);
    });
  }
  rightInverse(value: Tensor): Tensor {
    return value;
  }
}
Object.defineProperty(SpectralNormParametrization, 'name', { value: '_SpectralNorm' });

/** weight = g · v/‖v‖ as a parametrisation (torch.nn.utils.parametrizations.weight_norm): g and v are parametrizations.weight.original0/1. */
export function weightNorm<M extends Module>(module: M, name = 'weight', dim: number | null = 0): M {
  return registerParametrization(module, name, new WeightNormParametrization(dim ?? -1), { unsafe: true });
}
/** weight / σ(weight) as a parametrisation (torch.nn.utils.parametrizations.spectral_norm). */
export function spectralNorm<M extends Module>(module: M, name = 'weight', nPowerIterations = 1, eps = 1e-12, dim: number | null = null): M {
  const weight = getattr(module, name);
  if (!(weight instanceof Tensor)) throw new RangeError(`Module '${module.constructor.name}' has no parameter or buffer with name '${name}'`);
  const d = dim ?? spectralDim(module);
  return registerParametrization(module, name, new SpectralNormParametrization(weight, nPowerIterations, d, eps));
}
