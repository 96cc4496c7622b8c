/**
 * The datasets the `torchnode` command knows by name, with their standard transforms: what a training
 * script would otherwise write out (the usual recipes: CIFAR's crop + flip + normalize, MNIST's
 * normalize).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe } from '../core/dtype';
import { randomSplit, type Dataset } from './dataset';
import { DataFileError } from './errors';
import { MNIST } from './datasets/mnist';
import { CIFAR10 } from './datasets/cifar';
import { ImageFolder, findClasses } from './datasets/imagefolder';
import { SyntheticDataset } from './datasets/synthetic';
import { Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor } from './transforms';
import type { TransformFn } from './dataset';

export const DATASET_NAMES = ['mnist', 'cifar10', 'imagefolder', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** What a model and its transforms need to know about a dataset. */
export interface DatasetInfo {
  name: DatasetName;
  classes: string[];
  channels: number;
  /** Images are size × size. */
  size: number;
  /** Filled in by openDataset's caller once the sets are open (0 until then). */
  trainSize: number;
  testSize: number;
  /** Per-channel mean and std for Normalize. */
  mean: number[];
  std: number[];
}

/** Images of an ImageFolder given by name are resized to this. */
export const IMAGEFOLDER_SIZE = 64;
/** SyntheticDataset sizes and shape used by the named 'synthetic' dataset. */
export const SYNTHETIC = { train: 256, test: 64, shape: [3, 32, 32], numClasses: 10 };

function nameArg(name: unknown): DatasetName {
  if (typeof name !== 'string' || !(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`dataset must be one of ${DATASET_NAMES.join(', ')} (got ${describe(name)})`);
  }
  return name as DatasetName;
}

function imageFolderSplit(dir: string): { train: string; test: string | null } {
  const train = path.join(dir, 'train');
  if (fs.existsSync(train) && fs.statSync(train).isDirectory()) {
    const test = ['test', 'val'].map((d) => path.join(dir, d)).find((d) => fs.existsSync(d) && fs.statSync(d).isDirectory());
    return { train, test: test ?? null };
  }
  return { train: dir, test: null };
}

function folderClasses(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DataFileError(`imagefolder: the folder ${dir} does not exist`, dir);
  return findClasses(dir); // as ImageFolder finds them, so the model is built for the classes it will see
}

/** The facts of a named dataset (for imagefolder, its classes are read from dataDir). */
export function datasetInfo(name: DatasetName, dataDir?: string): DatasetInfo {
  const n = nameArg(name);
  const base = { name: n, trainSize: 0, testSize: 0 };
  switch (n) {
    case 'mnist':
      return { ...base, classes: MNIST.classes.slice(), channels: 1, size: 28, mean: [0.1307], std: [0.3081] };
    case 'cifar10':
      return { ...base, classes: CIFAR10.classes.slice(), channels: 3, size: 32, mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
    case 'synthetic':
      return {
        ...base,
        classes: Array.from({ length: SYNTHETIC.numClasses }, (_, k) => String(k)),
        channels: 3,
        size: SYNTHETIC.shape[1],
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
      };
    case 'imagefolder': {
      if (!dataDir) throw new TypeError('the imagefolder dataset needs a data folder (one subfolder per class, or train/ and test/ ones)');
      return {
        ...base,
        classes: folderClasses(imageFolderSplit(path.resolve(dataDir)).train),
        channels: 3,
        size: IMAGEFOLDER_SIZE,
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
      };
    }
  }
}

/**
 * Opens the training and test sets of a named dataset: mnist from dataDir's IDX files, or without
 * dataDir the digits of the `mnist` package; cifar10 from dataDir's binary batches; imagefolder from
 * dataDir/train and dataDir/test (or val), or one folder split 85/15 with seed 0; synthetic made up.
 */
export async function openDataset(name: DatasetName, dataDir?: string): Promise<{ train: Dataset<number>; test: Dataset<number> }> {
  switch (nameArg(name)) {
    case 'mnist':
      if (!dataDir) return { train: MNIST.fromPackage({ train: true }), test: MNIST.fromPackage({ train: false }) };
      return { train: await MNIST.load({ root: dataDir, train: true }), test: await MNIST.load({ root: dataDir, train: false }) };
    case 'cifar10':
      if (!dataDir) throw new TypeError('the cifar10 dataset needs a data folder holding cifar-10-batches-bin/');
      return { train: await CIFAR10.load({ root: dataDir, train: true }), test: await CIFAR10.load({ root: dataDir, train: false }) };
    case 'synthetic': {
      const { shape, numClasses } = SYNTHETIC;
      return {
        train: new SyntheticDataset({ size: SYNTHETIC.train, shape, numClasses, seed: 0 }),
        test: new SyntheticDataset({ size: SYNTHETIC.test, shape, numClasses, seed: 1 }),
      };
    }
    case 'imagefolder': {
      if (!dataDir) throw new TypeError('the imagefolder dataset needs a data folder');
      const split = imageFolderSplit(path.resolve(dataDir));
      const train = await ImageFolder.load({ root: split.train, size: IMAGEFOLDER_SIZE });
      if (split.test) return { train, test: await ImageFolder.load({ root: split.test, size: IMAGEFOLDER_SIZE }) };
      const [a, b] = randomSplit(train, [0.85, 0.15], { seed: 0 });
      return { train: a, test: b };
    }
  }
}

/**
 * ToTensor, then (augment) RandomCrop(size, padding 4) and RandomHorizontalFlip, then Normalize(mean, std):
 * the usual CIFAR recipe, and plain ToTensor + Normalize for evaluation.
 */
export function standardTransform(info: Pick<DatasetInfo, 'size' | 'mean' | 'std'>, augment: boolean): TransformFn {
  return Compose([ToTensor(), ...(augment ? [RandomCrop(info.size, { padding: 4 }), RandomHorizontalFlip()] : []), Normalize(info.mean, info.std)]);
}
