/**
 * torch.nn.utils: gradient clipping and parameters as one vector, as Python's (torch/nn/utils/
 * clip_grad.py, convert_parameters.py), with the same arithmetic in the same order: the per-tensor norms
 * from `_foreach_norm` per (device, dtype) group, their norm, then `grad *= min(max / (norm + 1e-6), 1)`.
 *
 *     loss.backward();
 *     const norm = torch.nn.utils.clipGradNorm_(model.parameters(), 1.0);
 *     optimizer.step();
 */
import { Tensor } from '../core/tensor';
import { optionsArg } from '../core/args';
import { native } from '../core/native';
import { bindFunction } from '../core/dispatch';
import { noGrad } from '../core/autograd';
import { TorchError, warnOnce } from '../core/errors';
import { Module, type MemoryFormat } from './module';
import { Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d, type ConvNd } from './layers/conv';
import { describe } from '../core/dtype';
import { linalg, torchFunctions } from '../core/surface';

const op = (name: string, schema: string) => bindFunction(`torch.${name}`, [schema]);
const foreachNorm = op('_foreach_norm', '_foreach_norm.Scalar(Tensor[] self, Scalar ord=2, ScalarType? dtype=None) -> Tensor[]');
const foreachMul_ = op('_foreach_mul_', '_foreach_mul_.Tensor(Tensor(a!)[] self, Tensor other) -> ()');
const foreachClampMin_ = op('_foreach_clamp_min_', '_foreach_clamp_min_.Scalar(Tensor(a!)[] self, Scalar scalar) -> ()');
const foreachClampMax_ = op('_foreach_clamp_max_', '_foreach_clamp_max_.Scalar(Tensor(a!)[] self, Scalar scalar) -> ()');

/** A norm's order: a number, or 'inf' / '-inf' as Python's float('inf') spelling. */
export type NormType = number | 'inf' | '-inf';

export interface TotalNormOptions {
  /** An error when the total norm is NaN or infinite (default false). */
  errorIfNonfinite?: boolean;
  /** false: one norm per tensor instead of the _foreach kernels (Python's foreach=False; default: foreach). */
  foreach?: boolean | null;
}

/** Python's _tensor_or_tensors: one tensor, or any iterable of them (model.parameters()). */
export type TensorOrTensors = Tensor | Iterable<Tensor>;

function tensorsOf(params: TensorOrTensors, name: string): Tensor[] {
  const list = params instanceof Tensor ? [params] : typeof (params as Iterable<Tensor>)?.[Symbol.iterator] === 'function' ? [...params] : null;
  if (list === null) throw new TypeError(`${name}: parameters must be a Tensor or an iterable of Tensors (got ${describe(params)})`);
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${name}: parameters[${i}] must be a Tensor (got ${describe(t)})`);
  });
  return list;
}

function normOrder(normType: unknown, name: string): number {
  if (normType === 'inf') return Infinity;
  if (normType === '-inf') return -Infinity;
  if (typeof normType !== 'number' || Number.isNaN(normType))
    throw new TypeError(`${name}: normType must be a number, 'inf' or '-inf' (got ${describe(normType)})`);
  return normType;
}

function options(o: TotalNormOptions | undefined, name: string): { errorIfNonfinite: boolean; foreach: boolean | null } {
  const checked = optionsArg<TotalNormOptions>(o, name, ['errorIfNonfinite', 'foreach']);
  return { errorIfNonfinite: checked.errorIfNonfinite === true, foreach: checked.foreach ?? null };
}

/** Tensors grouped by (device, dtype) as Python's _group_tensors_by_device_and_dtype groups them, in ATen's group order. */
function groups(tensors: Tensor[]): Tensor[][] {
  return native.foreachGroups(tensors.map((t) => t.handle)).map((g) => g.map((i) => tensors[i]));
}

/** torch.nn.utils.get_total_norm(tensors, normType = 2): the norm of all of them as one vector. */
export function getTotalNorm(tensors: TensorOrTensors, normType: NormType = 2, opts?: TotalNormOptions): Tensor {
  const list = tensorsOf(tensors, 'getTotalNorm');
  const order = normOrder(normType, 'getTotalNorm');
  const o = options(opts, 'getTotalNorm');
  return noGrad(() => {
    if (list.length === 0) return torchFunctions.zeros([]); // Python's torch.tensor(0.0)
    const first = list[0].device;
    const norms: Tensor[] = [];
    for (const group of groups(list)) {
      if (o.foreach === false) norms.push(...group.map((g) => linalg.vectorNorm(g, order)));
      else norms.push(...(foreachNorm(group, order) as Tensor[]));
    }
    const total = linalg.vectorNorm(torchFunctions.stack(norms.map((n) => n.to(first))), order);
    if (o.errorIfNonfinite && !Number.isFinite(total.item() as number)) {
      throw new TorchError(
        `The total norm of order ${pyFloat(order)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
          'To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`',
      );
    }
    return total;
  });
}

/** torch.nn.utils.clip_grads_with_norm_(parameters, maxNorm, totalNorm): scales the gradients by min(maxNorm / (totalNorm + 1e-6), 1). */
export function clipGradsWithNorm_(parameters: TensorOrTensors, maxNorm: number, totalNorm: Tensor, opts?: Pick<TotalNormOptions, 'foreach'>): void {
  const params = tensorsOf(parameters, 'clipGradsWithNorm_');
  if (typeof maxNorm !== 'number') throw new TypeError(`clipGradsWithNorm_: maxNorm must be a number (got ${describe(maxNorm)})`);
  if (!(totalNorm instanceof Tensor)) throw new TypeError(`clipGradsWithNorm_: totalNorm must be a Tensor (got ${describe(totalNorm)})`);
  const o = options(opts, 'clipGradsWithNorm_');
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return;
  noGrad(() => {
    const coef = torchFunctions.clamp(totalNorm.add(1e-6).reciprocal().mul(maxNorm), { max: 1.0 });
    for (const group of groups(grads)) {
      const c = coef.to(group[0].device);
      if (o.foreach === false) for (const g of group) g.mul_(c);
      else foreachMul_(group, c);
    }
  });
}

/**
 * torch.nn.utils.clip_grad_norm_(parameters, maxNorm, normType = 2, {errorIfNonfinite, foreach}):
 * scales the gradients so that their total norm is at most maxNorm; returns the total norm before.
 */
export function clipGradNorm_(parameters: TensorOrTensors, maxNorm: number, normType: NormType = 2, opts?: TotalNormOptions): Tensor {
  const params = tensorsOf(parameters, 'clipGradNorm_');
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  const total = getTotalNorm(grads, normType, opts);
  clipGradsWithNorm_(params, maxNorm, total, { foreach: opts?.foreach ?? null });
  return total;
}

/** torch.nn.utils.clip_grad_value_(parameters, clipValue): each gradient element into [-clipValue, clipValue]. */
export function clipGradValue_(parameters: TensorOrTensors, clipValue: number, opts?: Pick<TotalNormOptions, 'foreach'>): void {
  const params = tensorsOf(parameters, 'clipGradValue_');
  if (typeof clipValue !== 'number') throw new TypeError(`clipGradValue_: clipValue must be a number (got ${describe(clipValue)})`);
  const o = options(opts, 'clipGradValue_');
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  noGrad(() => {
    for (const group of groups(grads)) {
      if (o.foreach === false) {
        for (const g of group) g.clamp_(-clipValue, clipValue);
      } else {
        foreachClampMin_(group, -clipValue);
        foreachClampMax_(group, clipValue);
      }
    }
  });
}

/** torch.nn.utils.parameters_to_vector(parameters): every parameter flattened into one vector. */
export function parametersToVector(parameters: TensorOrTensors): Tensor {
  const params = tensorsOf(parameters, 'parametersToVector');
  checkOneDevice(params, 'parametersToVector');
  return torchFunctions.cat(params.map((p) => p.view(-1)));
}

/** torch.nn.utils.vector_to_parameters(vec, parameters): the vector's slices become the parameters' data. */
export function vectorToParameters(vec: Tensor, parameters: TensorOrTensors): void {
  if (!(vec instanceof Tensor)) throw new TypeError(`expected torch.Tensor, but got: ${describe(vec)}`);
  const params = tensorsOf(parameters, 'vectorToParameters');
  checkOneDevice([vec, ...params], 'vectorToParameters');
  const total = params.reduce((n, p) => n + p.numel(), 0);
  if (vec.ndim !== 1 || vec.numel() !== total) {
    throw new TorchError(
      `vectorToParameters: vec must be 1-D with ${total} elements, one per parameter element (got shape [${vec.shape.join(', ')}])`,
    );
  }
  let at = 0;
  for (const p of params) {
    const n = p.numel();
    native.setData(p.handle, vec.narrow(0, at, n).viewAs(p).handle); // Python's param.data = …: shares vec's memory
    at += n;
  }
}

function checkOneDevice(tensors: Tensor[], name: string): void {
  const device = tensors[0]?.device;
  const other = tensors.find((t) => t.device !== device);
  if (other)
    throw new TypeError(`${name}: Found two parameters on different devices, this is currently not supported (${device} and ${other.device})`);
}

/** Python's str() of a float, for the message: 2.0, inf. */
function pyFloat(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
/**
 * nn.utils.skip_init(ModuleClass, ...args): the module built on the 'meta' device (so its initialisation
 * neither runs nor draws random numbers), then given uninitialised memory on the device its options name
 * ('cpu' by default), as Python's. The class must take a `device` option, as PyTorch's layers do.
 */
export function skipInit<C extends abstract new (...args: never) => Module<never>>(
  moduleClass: C,
  ...args: ConstructorParameters<C>
): InstanceType<C> {
  if (typeof moduleClass !== 'function' || !(moduleClass.prototype instanceof Module)) {
    throw new TorchError(`Expected a Module; got ${describe(moduleClass)}`);
  }
  const given: unknown[] = [...args];
  const last = given[given.length - 1];
  const hasOptions = last !== null && typeof last === 'object' && Object.getPrototypeOf(last) === Object.prototype;
  const options: Record<string, unknown> = hasOptions ? { ...(last as Record<string, unknown>) } : {};
  const device = options.device ?? 'cpu';
  options.device = 'meta';
  if (hasOptions) given[given.length - 1] = options;
  else given.push(options);
  const unsupported = () => new TorchError("Module must support a 'device' arg to skip initialization");
  let module: Module;
  try {
    module = Reflect.construct(moduleClass, given) as Module;
  } catch (e) {
    throw e instanceof TypeError && /\bdevice\b/.test(e.message) ? unsupported() : e;
  }
  if ([...module.parameters(), ...module.buffers()].some((t) => t.device !== 'meta')) throw unsupported();
  return module.toEmpty({ device: String(device) }) as InstanceType<C>;
}

export * as rnn from './packed';
export { fuseConvBnEval, fuseConvBnWeights, fuseLinearBnEval, fuseLinearBnWeights } from './fusion';
export { weightNorm, removeWeightNorm, spectralNorm, removeSpectralNorm } from './reparam';

/** Python's deprecated name of clipGradNorm_, with its warning. */
export function clipGradNorm(parameters: TensorOrTensors, maxNorm: number, normType: NormType = 2, opts?: TotalNormOptions): Tensor {
  warnOnce('nn.utils.clipGradNorm', '`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.');
  return clipGradNorm_(parameters, maxNorm, normType, opts);
}

/** Gives every Conv2d / ConvTranspose2d weight under `module` the memory format (channels_last), as Python's convert_conv2d_weight_memory_format. */
export function convertConv2dWeightMemoryFormat<M extends Module>(module: M, memoryFormat: MemoryFormat): M {
  return convertConvWeights(module, memoryFormat, [Conv2d, ConvTranspose2d]);
}
/** Gives every Conv3d / ConvTranspose3d weight under `module` the memory format (channels_last_3d), as Python's convert_conv3d_weight_memory_format. */
export function convertConv3dWeightMemoryFormat<M extends Module>(module: M, memoryFormat: MemoryFormat | 'channels_last_3d'): M {
  return convertConvWeights(module, memoryFormat, [Conv3d, ConvTranspose3d]);
}
function convertConvWeights<M extends Module>(module: M, memoryFormat: string, kinds: { prototype: ConvNd }[]): M {
  const isKind = (m: Module): m is ConvNd => kinds.some((k) => Object.prototype.isPrototypeOf.call(k.prototype, m));
  for (const conv of module.modules()) {
    if (isKind(conv)) {
      noGrad(() => {
        const converted = conv.weight.contiguous({ memoryFormat: memoryFormat as 'channels_last' | 'channels_last_3d' | 'contiguous_format' });
        conv.weight.set_(converted);
        converted.dispose();
      });
    }
  }
  return module;
}
/** torch.nn.utils.parametrize: registerParametrization, removeParametrizations, isParametrized, ParametrizationList. */
export * as parametrize from './parametrize';
/** torch.nn.utils.parametrizations: weightNorm and spectralNorm as parametrisations. */
import { weightNorm as parametrizedWeightNorm, spectralNorm as parametrizedSpectralNorm } from './parametrize';
const parametrizations = { weightNorm: parametrizedWeightNorm, spectralNorm: parametrizedSpectralNorm };
export { parametrizations };
