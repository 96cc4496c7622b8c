/** The base of the image datasets: a TensorDataset of uint8 images [N, C, H, W] and int64 class indices. */
import type { Tensor } from '../../core/tensor';
import { TensorDataset, type TensorDatasetOptions } from '../dataset';

/**
 * Images as one uint8 tensor [N, C, H, W] (`data`, channels first, so transforms.ToTensor() only
 * scales) and class indices as int64 [N] (`targets`). get(i) gives [image [C, H, W], class number].
 */
export class VisionDataset extends TensorDataset<number> {
  /** Class names, by index. */
  readonly classes: string[];
  /** Class name → index. */
  readonly classToIdx: Record<string, number>;

  constructor(data: Tensor, targets: Tensor, classes: string[], opts: TensorDatasetOptions = {}) {
    super(data, targets, opts);
    this.classes = classes.slice();
    this.classToIdx = Object.fromEntries(classes.map((c, i) => [c, i]));
  }

  /** @internal */
  protected override target(i: number): number {
    return this.targets.select(0, i).item() as number;
  }
}
