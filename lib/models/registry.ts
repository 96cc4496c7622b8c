/**
 * The models by their Python names (torchvision's `resnet18`, and `se_resnet18` for the SE family), as
 * `torchvision.models.get_model(name)` finds them: the `torchnode` command and scripts read this table.
 */
import { TorchValueError } from '../core/errors';
import {
  seResNet18,
  seResNet34,
  seResNet50,
  seResNet101,
  seResNet152,
  resNet18,
  resNet34,
  resNet50,
  resNet101,
  resNet152,
  type SEResNet,
  type SEResNetOptions,
} from './resnet';

/** The names `getModel` knows. */
export type ModelName =
  'se_resnet18' | 'se_resnet34' | 'se_resnet50' | 'se_resnet101' | 'se_resnet152' | 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101' | 'resnet152';

const BUILDERS: Record<ModelName, (opts?: SEResNetOptions) => SEResNet> = {
  se_resnet18: seResNet18,
  se_resnet34: seResNet34,
  se_resnet50: seResNet50,
  se_resnet101: seResNet101,
  se_resnet152: seResNet152,
  resnet18: resNet18,
  resnet34: resNet34,
  resnet50: resNet50,
  resnet101: resNet101,
  resnet152: resNet152,
};

/** Every registered model name, in the table's order. */
export function listModels(): ModelName[] {
  return Object.keys(BUILDERS) as ModelName[];
}

/** The model registered as `name`, built with `options` (as torchvision's `get_model(name, **config)`). */
export function getModel(name: string, options: SEResNetOptions = {}): SEResNet {
  if (!Object.hasOwn(BUILDERS, name)) throw new TorchValueError(`Unknown model ${name}: the registered models are ${listModels().join(', ')}`);
  return BUILDERS[name as ModelName](options);
}
