/**
 * torch.nn.utils' hook-based reparametrisations, as Python's weight_norm and spectral_norm: the parameter
 * is replaced by others (weight_g and weight_v; weight_orig with the weight_u / weight_v buffers) and a
 * forward pre-hook recomputes `weight` from them before each call. Names, state-dict keys and values are
 * Python's.
 */
import { Tensor } from '../core/tensor';
import { describe } from '../core/dtype';
import { bindFunction } from '../core/dispatch';
import { noGrad } from '../core/autograd';
import { keep, scope } from '../core/scope';
import { torchFunctions as T } from '../core/surface';
import { Module, Parameter, delattr, getattr, onDeepcopy, removeHookOf, setattr, type RemovableHandle } from './module';
import { normalize } from './functional/activation';
import { ConvTranspose1d, ConvTranspose2d, ConvTranspose3d } from './layers/conv';

/** torch._weight_norm(v, g, dim): g · v/‖v‖ over every dim but `dim`. */
export const weightNormOp = bindFunction('torch._weight_norm', ['_weight_norm(Tensor v, Tensor g, int dim=0) -> Tensor']) as (
  v: Tensor,
  g: Tensor,
  dim: number,
) => Tensor;
/** Spectral norm's default dim: 1 for a transposed convolution (its output channels), else 0. */
export const spectralDim = (module: Module): number =>
  module instanceof ConvTranspose1d || module instanceof ConvTranspose2d || module instanceof ConvTranspose3d ? 1 : 0;

type Kind = 'weight_norm' | 'spectral_norm';
type Entry = { kind: Kind; handle: RemovableHandle; final: (m: Module) => Tensor };
/** The reparametrisations on each module, by parameter name: the hook that applies each, and the final weight's computation. */
const applied = new WeakMap<Module, Map<string, Entry>>();
// a deepcopy carries the hooks (module.ts); it carries their entries here too, so the copy's can be removed
onDeepcopy((from, to) => {
  const mine = applied.get(from);
  if (mine) applied.set(to, new Map([...mine].map(([name, e]) => [name, { ...e, handle: { remove: () => removeHookOf(to, e.handle) } }])));
});

function moduleArg(module: unknown, who: string): Module {
  if (!(module instanceof Module)) throw new TypeError(`${who}: module must be an nn.Module (got ${describe(module)})`);
  return module;
}
/** Sets the computed attribute. The previous one stays valid (a user may hold it, as in Python); the GC backstop frees it. */
function setComputed(module: Module, name: string, value: Tensor): void {
  setattr(module, name, keep(value));
}
function register(module: Module, name: string, kind: Kind, hook: (m: Module) => void, final: (m: Module) => Tensor): void {
  const mine = applied.get(module) ?? new Map();
  if (mine.get(name)?.kind === kind) throw new RangeError(`Cannot register two ${kind} hooks on the same parameter ${name}`);
  mine.set(name, { kind, handle: module.registerForwardPreHook((m) => hook(m)), final });
  applied.set(module, mine);
}
/** Undoes a reparametrisation: the hook goes, `name` is a parameter again holding the final weight, the other attributes are deleted. */
function unregister(module: Module, name: string, kind: Kind, attributes: string[]): Module {
  const entry = applied.get(module)?.get(name);
  if (!entry || entry.kind !== kind) throw new RangeError(`${kind} of '${name}' not found in ${String(module)}`);
  entry.handle.remove();
  applied.get(module)!.delete(name);
  const weight = noGrad(() => entry.final(module));
  for (const k of [name, ...attributes]) {
    const t = getattr(module, k);
    delattr(module, k);
    if (t instanceof Tensor && !(t instanceof Parameter)) t.dispose();
  }
  module.registerParameter(name, new Parameter(weight));
  weight.dispose();
  return module;
}

/**
 * Splits `name` into a magnitude (name_g) and a direction (name_v), weight = g · v/‖v‖ over every dim but
 * `dim` (null: the whole tensor), recomputed before each forward, as Python's torch.nn.utils.weight_norm.
 */
export function weightNorm<M extends Module>(module: M, name = 'weight', dim: number | null = 0): M {
  moduleArg(module, 'weightNorm');
  const weight = getattr(module, name);
  if (!(weight instanceof Parameter)) throw new RangeError(`weightNorm: '${name}' is not a parameter of ${module.constructor.name}`);
  const d = dim ?? -1;
  // from the parameters registered below
  const compute = (m: Module) => weightNormOp(getattr(m, `${name}_v`) as Tensor, getattr(m, `${name}_g`) as Tensor, d);
  delattr(module, name);
  const g = noGrad(() => T.normExceptDim(weight, 2, d));
  module.registerParameter(`${name}_g`, new Parameter(g));
  g.dispose();
  module.registerParameter(`${name}_v`, new Parameter(weight.detach()));
  setComputed(module, name, compute(module));
  register(
    module,
    name,
    'weight_norm',
    (m) => setComputed(m, name, compute(m)),
    (m) => compute(m),
  );
  return module;
}

/** Undoes weightNorm: `name` is a parameter again, holding the current g · v/‖v‖. */
export function removeWeightNorm<M extends Module>(module: M, name = 'weight'): M {
  return unregister(moduleArg(module, 'removeWeightNorm'), name, 'weight_norm', [`${name}_g`, `${name}_v`]) as M;
}

/** Python's reshape_weight_to_matrix: `dim` first, the rest flattened. */
export function weightMatrix(weight: Tensor, dim: number): Tensor {
  const w = dim !== 0 ? weight.permute(dim, ...Array.from({ length: weight.ndim }, (_, i) => i).filter((i) => i !== dim)) : weight;
  return w.reshape(w.shape[0], -1);
}

/**
 * Divides `name` by its largest singular value, estimated by `nPowerIterations` steps of power iteration per
 * training forward (u and v kept as buffers), as Python's torch.nn.utils.spectral_norm.
 */
export function spectralNorm<M extends Module>(module: M, name = 'weight', nPowerIterations = 1, eps = 1e-12, dim: number | null = null): M {
  moduleArg(module, 'spectralNorm');
  if (!(Number.isInteger(nPowerIterations) && nPowerIterations > 0)) {
    throw new RangeError(`Expected n_power_iterations to be positive, but got n_power_iterations=${nPowerIterations}`);
  }
  const d = dim ?? spectralDim(module);
  const weight = getattr(module, name);
  if (!(weight instanceof Parameter)) throw new RangeError(`\`SpectralNorm\` cannot be applied as parameter \`${name}\` is None`);
  const [u, v] = noGrad(() =>
    scope(() => {
      const [h, w] = weightMatrix(weight, d).shape;
      return [normalize(weight.newEmpty([h]).normal_(0, 1), 2, 0, eps), normalize(weight.newEmpty([w]).normal_(0, 1), 2, 0, eps)];
    }),
  );
  delattr(module, name);
  module.registerParameter(`${name}_orig`, weight);
  setComputed(module, name, weight.detach());
  module.registerBuffer(`${name}_u`, u);
  module.registerBuffer(`${name}_v`, v);
  const compute = (m: Module, powerIteration: boolean) =>
    scope(() => {
      // the parameter and buffers registered above
      const orig = getattr(m, `${name}_orig`) as Tensor;
      let [uu, vv] = [getattr(m, `${name}_u`) as Tensor, getattr(m, `${name}_v`) as Tensor];
      const mat = weightMatrix(orig, d);
      if (powerIteration) {
        noGrad(() => {
          for (let i = 0; i < nPowerIterations; i++) {
            vv.copy_(normalize(T.mv(mat.t(), uu), 2, 0, eps));
            uu.copy_(normalize(T.mv(mat, vv), 2, 0, eps));
          }
          [uu, vv] = [uu.clone(), vv.clone()];
        });
      }
      return orig.div(T.dot(uu, T.mv(mat, vv)));
    });
  register(
    module,
    name,
    'spectral_norm',
    (m) => setComputed(m, name, compute(m, m.training)),
    (m) => compute(m, false),
  );
  return module;
}

/** Undoes spectralNorm: `name` is a parameter again, holding the current normalised weight. */
export function removeSpectralNorm<M extends Module>(module: M, name = 'weight'): M {
  return unregister(moduleArg(module, 'removeSpectralNorm'), name, 'spectral_norm', [`${name}_u`, `${name}_v`, `${name}_orig`]) as M;
}
