/** torch.models: the SE-ResNet family. */
export { SEModule } from './se';
export type { SEOptions } from './se';
export {
  SEBasicBlock,
  SEBottleneck,
  SEResNet,
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
} from './resnet';
export type { SEResNetOptions, ResNetOptions, BlockOptions, BottleneckOptions, BlockType } from './resnet';
export { getModel, listModels, type ModelName } from './registry';
