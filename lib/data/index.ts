/**
 * torch.data: datasets, the DataLoader and batched transforms (torch.utils.data and torchvision's
 * datasets and transforms, in one namespace).
 *
 *     const { DataLoader, CIFAR10, transforms: T } = torch.data;
 *     const train = new CIFAR10({ root: 'data', train: true, transform: T.Compose([
 *       T.ToTensor(), T.RandomCrop(32, { padding: 4 }), T.RandomHorizontalFlip(),
 *       T.Normalize([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])]) });
 *     for await (const [x, y] of new DataLoader(train, { batchSize: 128, shuffle: true, device: 'cuda' })) { ... }
 */
export { Dataset, TensorDataset, Subset, randomSplit } from './dataset';
export type { Target, TransformFn, TensorDatasetOptions } from './dataset';
export { DataLoader, DataLoaderIterator, AsyncDataLoaderIterator } from './dataloader';
export { DistributedSampler } from './distributed';
export type { Sampler, DistributedSamplerOptions } from './distributed';
export type { DataLoaderOptions, Batch, PrefetchState } from './dataloader';
export { VisionDataset } from './datasets/vision';
export { MNIST, FashionMNIST, parseIdx } from './datasets/mnist';
export type { MNISTOptions, MNISTPackageOptions } from './datasets/mnist';
export { CIFAR10 } from './datasets/cifar';
export type { CIFAR10Options } from './datasets/cifar';
export { ImageFolder, IMG_EXTENSIONS } from './datasets/imagefolder';
export type { ImageFolderOptions } from './datasets/imagefolder';
export { SyntheticDataset } from './datasets/synthetic';
export type { SyntheticOptions } from './datasets/synthetic';
export { DataFileError } from './errors';
export * as transforms from './transforms';
export { readImage } from './datasets/imagefolder';
export { datasetInfo, openDataset, standardTransform, DATASET_NAMES } from './presets';
export type { DatasetInfo, DatasetName } from './presets';
