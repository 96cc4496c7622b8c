/** torch.models: the SE-ResNet family. */
export * from './se';
export * from './resnet';
export { getModel, listModels, type ModelName } from './registry';
