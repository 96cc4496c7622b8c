/** torch.nn.AdaptiveLogSoftmaxWithLoss: the efficient softmax of Grave et al. (a head over frequent classes and clusters, a tail per cluster). */
import { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { TorchError } from '../../core/errors';
import { scope } from '../../core/scope';
import { torchFunctions as T } from '../../core/surface';
import { Module } from '../module';
import { ModuleList, Sequential } from '../container';
import * as F from '../functional';
import { signature, type ArgsOf } from '../../core/signature';
import { Linear } from './linear';

export type AdaptiveLogSoftmaxFields = { divValue: number; headBias: boolean; device: string | null; dtype: Dtype | null };
const ALS = signature<AdaptiveLogSoftmaxFields>()('AdaptiveLogSoftmaxWithLoss', ['divValue', 'headBias', 'device', 'dtype'], {
  divValue: 4.0,
  headBias: false,
  device: null,
  dtype: null,
});
/** [output, loss], also as .output and .loss (Python's _ASMoutput namedtuple). */
export type ASMOutput = [Tensor, Tensor] & { output: Tensor; loss: Tensor };

/** As torch.nn.AdaptiveLogSoftmaxWithLoss(inFeatures, nClasses, cutoffs, divValue, headBias): forward(input, target) → [output, loss]. */
export class AdaptiveLogSoftmaxWithLoss extends Module {
  declare head: Linear;
  declare tail: ModuleList;
  readonly cutoffs: number[];
  readonly divValue: number;
  readonly headBias: boolean;
  readonly shortlistSize: number;
  readonly nClusters: number;
  readonly headSize: number;
  constructor(
    readonly inFeatures: number,
    readonly nClasses: number,
    cutoffs: number[],
    ...rest: ArgsOf<typeof ALS>
  ) {
    super();
    const a = ALS.bind(rest);
    const sorted = [...cutoffs].sort((x, y) => x - y);
    if (cutoffs.length === 0) throw new RangeError('cutoffs should be a sequence of length larger than 0');
    if (
      sorted.join() !== cutoffs.join() ||
      sorted[0] <= 0 ||
      sorted[sorted.length - 1] > nClasses - 1 ||
      new Set(cutoffs).size !== cutoffs.length ||
      !cutoffs.every(Number.isInteger)
    ) {
      throw new RangeError(
        'cutoffs should be a sequence of unique, positive integers sorted in an increasing order, where each value is between 1 and n_classes-1',
      );
    }
    this.cutoffs = [...cutoffs, nClasses];
    this.divValue = a.divValue;
    this.headBias = a.headBias;
    this.shortlistSize = this.cutoffs[0];
    this.nClusters = this.cutoffs.length - 1;
    this.headSize = this.shortlistSize + this.nClusters;
    const f = { device: a.device, dtype: a.dtype };
    this.head = new Linear(inFeatures, this.headSize, { bias: a.headBias, ...f });
    this.tail = new ModuleList(
      Array.from({ length: this.nClusters }, (_, i) => {
        const hsz = Math.floor(inFeatures / a.divValue ** (i + 1));
        return new Sequential(
          new Linear(inFeatures, hsz, { bias: false, ...f }),
          new Linear(hsz, this.cutoffs[i + 1] - this.cutoffs[i], { bias: false, ...f }),
        );
      }),
    );
  }
  resetParameters(): void {
    this.head.resetParameters();
    for (const seq of this.tail) for (const lin of seq as Sequential) (lin as Linear).resetParameters();
  }
  forward(input: Tensor, target: Tensor): ASMOutput {
    const targDim = target.ndim;
    if (targDim === 1) {
      if (input.shape[0] !== target.shape[0]) throw new TorchError('Input and target should have the same size in the batch dimension.');
      if (input.ndim !== 2) throw new TorchError(`1D target tensor expects 2D input tensors, but found inputs with size [${input.shape.join(', ')}]`);
    } else if (targDim === 0) {
      if (input.ndim !== 1) throw new TorchError(`0D target tensor expects 1D input tensors, but found inputs with size [${input.shape.join(', ')}]`);
    } else throw new TorchError('0D or 1D target tensor expected, multi-target not supported');
    const batched = targDim > 0;
    const [output, loss] = scope(() => {
      const x = batched ? input : input.unsqueeze(0);
      const t = batched ? target : target.unsqueeze(0);
      const n = t.shape[0];
      let out = x.newZeros([n]);
      const gather = t.newEmpty([n]);
      const bounds = [0, ...this.cutoffs];
      let used = 0;
      for (let i = 0; i < bounds.length - 1; i++) {
        const mask = t.ge(bounds[i]).logicalAnd(t.lt(bounds[i + 1]));
        const rows = mask.nonzero().squeeze();
        if (rows.numel() === 0) continue;
        if (i === 0) gather.indexCopy_(0, rows, t.index(mask));
        else {
          const relative = t.index(mask).sub(bounds[i]);
          const cluster = (this.tail.at(i - 1) as Module<[Tensor], Tensor>)(x.indexSelect(0, rows));
          gather.indexFill_(0, rows, this.shortlistSize + i - 1);
          const local = F.logSoftmax(cluster, 1).gather(1, relative.unsqueeze(1));
          out.indexCopy_(0, rows, local.squeeze(1));
        }
        used += rows.numel();
      }
      if (used !== n) {
        throw new TorchError(
          `Target values should be in [0, ${this.nClasses - 1}], but values in range [${t.min().item()}, ${t.max().item()}] were found. `,
        );
      }
      const headLogprob = F.logSoftmax(this.head(x), 1);
      out = out.add(headLogprob.gather(1, gather.unsqueeze(1)).squeeze());
      const l = out.neg().mean();
      return [batched ? out : out.squeeze(0), l];
    });
    return Object.assign([output, loss], { output, loss }) as ASMOutput;
  }
  /** log-probabilities of every class, [N, nClasses]. */
  logProb(input: Tensor): Tensor {
    return scope(() => this.fullLogProb(input, this.head(input)));
  }
  /** The most likely class of each row (the full distribution computed only where the head's best is a cluster). */
  predict(input: Tensor): Tensor {
    return scope(() => {
      const headOut = this.head(input);
      const output = T.argmax(headOut, 1);
      const outside = output.ge(this.shortlistSize);
      if (!outside.any().item()) return output;
      if (outside.all().item()) return T.argmax(this.fullLogProb(input, headOut), 1);
      output.indexPut_([outside], T.argmax(this.fullLogProb(input.index(outside), headOut.index(outside)), 1));
      return output;
    });
  }
  private fullLogProb(input: Tensor, headOutput: Tensor): Tensor {
    const out = input.newEmpty([headOutput.shape[0], this.nClasses]);
    const head = F.logSoftmax(headOutput, 1);
    out.narrow(1, 0, this.shortlistSize).copy_(head.narrow(1, 0, this.shortlistSize));
    for (let i = 0; i + 1 < this.cutoffs.length; i++) {
      const [start, stop] = [this.cutoffs[i], this.cutoffs[i + 1]];
      const cluster = F.logSoftmax((this.tail.at(i) as Module<[Tensor], Tensor>)(input), 1);
      out.narrow(1, start, stop - start).copy_(cluster.add(head.select(1, this.shortlistSize + i).unsqueeze(1)));
    }
    return out;
  }
}
