/** Normalisation functions (batch norm is in ./index, on its own native path), as torch.nn.functional has them. */
import type { Tensor } from '../../core/tensor';
import { scope } from '../../core/scope';
import { torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { avgPool2d, avgPool3d } from './pooling';
import { pad } from './misc';
import { tensorArg } from './args';

const shapeArg = (s: number | number[]) => (typeof s === 'number' ? [s] : s);

const LAYER_NORM = signature<{ weight: Tensor | null; bias: Tensor | null; eps: number }>()('F.layerNorm', ['weight', 'bias', 'eps'], {
  weight: null,
  bias: null,
  eps: 1e-5,
});
/** Normalises over the trailing normalizedShape dims, then scales and shifts. */
export function layerNorm(input: Tensor, normalizedShape: number | number[], ...rest: ArgsOf<typeof LAYER_NORM>): Tensor {
  const a = LAYER_NORM.bind(rest);
  return T.layerNorm(tensorArg(input), shapeArg(normalizedShape), a.weight, a.bias, a.eps);
}

const RMS_NORM = signature<{ weight: Tensor | null; eps: number | null }>()('F.rmsNorm', ['weight', 'eps'], { weight: null, eps: null });
/** x / √(mean(x²) + eps) over the trailing normalizedShape dims (eps null: the dtype's machine epsilon), times weight. */
export function rmsNorm(input: Tensor, normalizedShape: number | number[], ...rest: ArgsOf<typeof RMS_NORM>): Tensor {
  const a = RMS_NORM.bind(rest);
  return T.rmsNorm(tensorArg(input), shapeArg(normalizedShape), a.weight, a.eps);
}

const GROUP_NORM = signature<{ weight: Tensor | null; bias: Tensor | null; eps: number }>()('F.groupNorm', ['weight', 'bias', 'eps'], {
  weight: null,
  bias: null,
  eps: 1e-5,
});
/** Normalises each of numGroups channel groups. */
export function groupNorm(input: Tensor, numGroups: number, ...rest: ArgsOf<typeof GROUP_NORM>): Tensor {
  const a = GROUP_NORM.bind(rest);
  if (tensorArg(input).ndim < 2) throw new RangeError(`Expected at least 2 dimensions for input tensor but received ${input.ndim}`);
  // Python's _verify_batch_size([N·C/groups, groups, *spatial]): one value per channel is refused
  const size = input.shape;
  const shape = [Math.floor((size[0] * size[1]) / numGroups), numGroups, ...size.slice(2)];
  if (shape[0] * shape.slice(2).reduce((x, y) => x * y, 1) === 1) {
    throw new RangeError(`Expected more than 1 value per channel when training, got input size [${shape.join(', ')}]`);
  }
  return T.groupNorm(input, numGroups, a.weight, a.bias, a.eps);
}

export type InstanceFields = {
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  weight: Tensor | null;
  bias: Tensor | null;
  useInputStats: boolean;
  momentum: number;
  eps: number;
};
const INSTANCE_NORM = signature<InstanceFields>()(
  'F.instanceNorm',
  ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps'],
  { runningMean: null, runningVar: null, weight: null, bias: null, useInputStats: true, momentum: 0.1, eps: 1e-5 },
);
/** Normalises each channel of each sample over its spatial dims. */
export function instanceNorm(input: Tensor, ...rest: ArgsOf<typeof INSTANCE_NORM>): Tensor {
  const a = INSTANCE_NORM.bind(rest);
  if (a.useInputStats) {
    const spatial = tensorArg(input)
      .shape.slice(2)
      .reduce((x, y) => x * y, 1);
    if (spatial === 1) throw new RangeError(`Expected more than 1 spatial element when training, got input size [${input.shape.join(', ')}]`);
  }
  return T.instanceNorm(input, a.weight, a.bias, a.runningMean, a.runningVar, a.useInputStats, a.momentum, a.eps, true);
}

const LRN = signature<{ alpha: number; beta: number; k: number }>()('F.localResponseNorm', ['alpha', 'beta', 'k'], { alpha: 1e-4, beta: 0.75, k: 1 });
/** Normalises each element by the squares of its `size` neighbouring channels (AlexNet's LRN), as Python composes it. */
export function localResponseNorm(input: Tensor, size: number, ...rest: ArgsOf<typeof LRN>): Tensor {
  const a = LRN.bind(rest);
  const dim = tensorArg(input).ndim;
  if (dim < 3) throw new RangeError(`Expected 3D or higher dimensionality input (got ${dim} dimensions)`);
  if (input.numel() === 0) return input;
  return scope(() => {
    let div = input.mul(input);
    const [before, after] = [Math.floor(size / 2), Math.floor((size - 1) / 2)];
    if (dim === 3) {
      div = avgPool2d(pad(div.unsqueeze(1), [0, 0, before, after]), [size, 1], 1).squeeze(1);
    } else {
      const s = input.shape;
      div = div.view(s[0], 1, s[1], s[2], -1);
      div = avgPool3d(pad(div, [0, 0, 0, 0, before, after]), [size, 1, 1], 1)
        .squeeze(1)
        .view(s);
    }
    return input.div(div.mul(a.alpha).add(a.k).pow(a.beta));
  });
}
