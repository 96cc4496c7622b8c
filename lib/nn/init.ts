/**
 * torch.nn.init: LibTorch's torch::nn::init where it has the initialiser (fans, gains and random draws are
 * PyTorch's), Python's own code where it has not. Each fills the tensor in place without recording gradients
 * and returns it.
 */
import { native } from '../core/native';
import { describe } from '../core/dtype';
import { Tensor, handleOf } from '../core/tensor';
import { numberArg } from '../core/args';
import { warnOnce } from '../core/errors';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import { emptyLike, eye as eyeMatrix, full, randperm, where } from '../generated/torch';
import { linalg } from '../core/surface';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu';
export type FanMode = 'fan_in' | 'fan_out';
export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function tensorArg(t: unknown): Tensor {
  handleOf(t, 'tensor');
  return t as Tensor;
}

function stringArg(v: unknown, name: string): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`${name} must be a string (got ${describe(v)})`);
}

function kaimingArgs(o: KaimingOptions): [number, string, string] {
  if (o === null || typeof o !== 'object') throw new TypeError(`options must be an object (got ${describe(o)})`);
  return [numberArg(o.a ?? 0, 'a'), stringArg(o.mode ?? 'fan_in', 'mode'), stringArg(o.nonlinearity ?? 'leaky_relu', 'nonlinearity')];
}

// As Python's init: a tensor with a zero-size dim is left as it is, with a warning (LibTorch's C++
// init has no such guard and would divide by a zero fan).
function zeroElement(tensor: Tensor): boolean {
  if (!tensorArg(tensor).shape.includes(0)) return false;
  process.emitWarning('Initializing zero-element tensors is a no-op', 'UserWarning');
  return true;
}

export function kaimingUniform_(tensor: Tensor, opts: KaimingOptions = {}): Tensor {
  if (!zeroElement(tensor)) native.initKaimingUniform_(tensor.handle, ...kaimingArgs(opts));
  return tensor;
}
export function kaimingNormal_(tensor: Tensor, opts: KaimingOptions = {}): Tensor {
  if (!zeroElement(tensor)) native.initKaimingNormal_(tensor.handle, ...kaimingArgs(opts));
  return tensor;
}
export function xavierUniform_(tensor: Tensor, opts: { gain?: number } = {}): Tensor {
  native.initXavierUniform_(tensorArg(tensor).handle, numberArg(opts.gain ?? 1, 'gain'));
  return tensor;
}
export function xavierNormal_(tensor: Tensor, opts: { gain?: number } = {}): Tensor {
  native.initXavierNormal_(tensorArg(tensor).handle, numberArg(opts.gain ?? 1, 'gain'));
  return tensor;
}
export function uniform_(tensor: Tensor, a = 0, b = 1): Tensor {
  native.initUniform_(tensorArg(tensor).handle, numberArg(a, 'a'), numberArg(b, 'b'));
  return tensor;
}
export function normal_(tensor: Tensor, mean = 0, std = 1): Tensor {
  native.initNormal_(tensorArg(tensor).handle, numberArg(mean, 'mean'), numberArg(std, 'std'));
  return tensor;
}
export function constant_(tensor: Tensor, value: number): Tensor {
  native.initConstant_(tensorArg(tensor).handle, numberArg(value, 'value'));
  return tensor;
}
export const zeros_ = (tensor: Tensor): Tensor => constant_(tensor, 0);
export const ones_ = (tensor: Tensor): Tensor => constant_(tensor, 1);

/** The recommended gain for a nonlinearity (param: leaky_relu's negative slope). */
export function calculateGain(nonlinearity: Nonlinearity | 'selu', param?: number): number {
  stringArg(nonlinearity, 'nonlinearity');
  if (param !== undefined) numberArg(param, 'param');
  // Python's value for selu (LibTorch's C++ init has no selu).
  if (nonlinearity === 'selu') return 3 / 4;
  return native.calculateGain(nonlinearity, param);
}
/** [fanIn, fanOut] of a weight, by PyTorch's rule (receptive field × channels). */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  return native.fanInAndFanOut(tensorArg(tensor).handle);
}

// ---- written as Python's torch.nn.init writes them (LibTorch's C++ init has none of these) ----

/** The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: trunc_normal_ only compares it with 0.3). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/**
 * Fills with N(mean, std²) truncated to [a, b], as Python's trunc_normal_: redrawing what falls outside when
 * most of the mass is inside, else rejection sampling from U(a, b) (the same draws, so Python's values).
 */
export function truncNormal_(tensor: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  tensorArg(tensor);
  const cdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  if (mean < a - 2 * std || mean > b + 2 * std) {
    process.emitWarning('mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.', 'UserWarning');
  }
  noGrad(() =>
    scope(() => {
      const p = cdf((b - mean) / std) - cdf((a - mean) / std);
      if (p > 0.3) {
        // the bounds as the tensor's dtype holds them
        const [lo, hi] = [a, b].map((v) => full([], v, { dtype: tensor.dtype }).item() as number);
        let result = tensor.normal_(mean, std);
        for (;;) {
          const mask = result.lt(lo).logicalOr(result.gt(hi));
          if (!mask.any().item()) break;
          result = where(mask, emptyLike(result).normal_(mean, std), result);
        }
        if (result !== tensor) tensor.copy_(result);
        return;
      }
      const mode = Math.max(a, Math.min(mean, b));
      const logPeak = -0.5 * ((mode - mean) / std) ** 2;
      const candidates = emptyLike(tensor);
      const accept = emptyLike(tensor);
      tensor.uniform_(a, b);
      candidates.copy_(tensor);
      candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(logPeak);
      let pending = accept.uniform_().log_().gt(candidates);
      if (!pending.any().item()) return;
      let result: Tensor = tensor;
      for (;;) {
        candidates.uniform_(a, b);
        result = where(pending, candidates, result);
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(logPeak);
        pending = where(pending, accept.uniform_().log_().gt(candidates), pending);
        if (!pending.any().item()) break;
      }
      tensor.copy_(result);
    }),
  );
  return tensor;
}

/** A (semi-)orthogonal matrix (reshaped to the tensor) times gain, from the QR of a normal draw, as Python's orthogonal_. */
export function orthogonal_(tensor: Tensor, gain = 1): Tensor {
  if (tensorArg(tensor).ndim < 2) throw new RangeError('Only tensors with 2 or more dimensions are supported');
  if (tensor.numel() === 0) return tensor;
  const rows = tensor.shape[0];
  const cols = tensor.numel() / rows;
  noGrad(() =>
    scope(() => {
      const flattened = tensor.newEmpty([rows, cols]).normal_(0, 1);
      if (rows < cols) flattened.t_();
      const [q, r] = linalg.qr(flattened);
      q.mul_(r.diag(0).sign());
      if (rows < cols) q.t_();
      tensor.viewAs(q).copy_(q);
      tensor.mul_(gain);
    }),
  );
  return tensor;
}

/** The identity of a convolution (3-D, 4-D or 5-D weight): 1 at each kernel's centre for d → d, per group, as Python's dirac_. */
export function dirac_(tensor: Tensor, groups = 1): Tensor {
  const dims = tensorArg(tensor).ndim;
  if (dims < 3 || dims > 5) throw new RangeError('Only tensors with 3, 4, or 5 dimensions are supported');
  const sizes = tensor.shape;
  if (sizes[0] % groups !== 0) throw new RangeError('dim 0 must be divisible by groups');
  const perGroup = sizes[0] / groups;
  const centre = sizes.slice(2).map((s) => Math.floor(s / 2));
  noGrad(() =>
    scope(() => {
      tensor.zero_();
      for (let g = 0; g < groups; g++) {
        for (let d = 0; d < Math.min(perGroup, sizes[1]); d++) tensor.index(g * perGroup + d, d, ...centre).fill_(1);
      }
    }),
  );
  return tensor;
}

/** The identity matrix (2-D only), as Python's eye_. */
export function eye_(tensor: Tensor): Tensor {
  if (tensorArg(tensor).ndim !== 2) throw new RangeError('Only tensors with 2 dimensions are supported');
  noGrad(() => scope(() => tensor.copy_(eyeMatrix(tensor.shape[0], tensor.shape[1], { dtype: tensor.dtype }))));
  return tensor;
}

/** N(0, std²) with a `sparsity` fraction of each column zeroed, as Python's sparse_ (the same random draws). */
export function sparse_(tensor: Tensor, sparsity: number, std = 0.01): Tensor {
  if (tensorArg(tensor).ndim !== 2) throw new RangeError('Only tensors with 2 dimensions are supported');
  const [rows, cols] = tensor.shape;
  const zeros = Math.ceil(sparsity * rows);
  noGrad(() =>
    scope(() => {
      tensor.normal_(0, std);
      // the permutation drawn on the CPU, as Python's torch.randperm(rows) (the same draws), then moved to the tensor
      for (let c = 0; c < cols; c++) tensor.select(1, c).indexFill_(0, randperm(rows).narrow(0, 0, zeros).to({ device: tensor.device }), 0);
    }),
  );
  return tensor;
}

// Python's deprecated names without the trailing underscore, with its FutureWarning.
function deprecated<A extends unknown[]>(oldName: string, fn: (tensor: Tensor, ...rest: A) => Tensor) {
  return (tensor: Tensor, ...rest: A): Tensor => {
    warnOnce(`nn.init.${oldName}`, `\`nn.init.${oldName}\` is now deprecated in favor of \`nn.init.${oldName}_\`.`);
    return fn(tensor, ...rest);
  };
}
export const uniform = deprecated('uniform', uniform_);
export const normal = deprecated('normal', normal_);
export const constant = deprecated('constant', constant_);
export const eye = deprecated('eye', eye_);
export const dirac = deprecated('dirac', dirac_);
export const xavierUniform = deprecated('xavierUniform', xavierUniform_);
export const xavierNormal = deprecated('xavierNormal', xavierNormal_);
export const kaimingUniform = deprecated('kaimingUniform', kaimingUniform_);
export const kaimingNormal = deprecated('kaimingNormal', kaimingNormal_);
export const orthogonal = deprecated('orthogonal', orthogonal_);
export const sparse = deprecated('sparse', sparse_);
