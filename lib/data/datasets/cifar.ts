/**
 * CIFAR-10 from the "binary version" batches (cifar-10-batches-bin: data_batch_1.bin … data_batch_5.bin,
 * test_batch.bin). Each record is 1 label byte then 3072 pixel bytes: the 1024 red, 1024 green and 1024
 * blue values of a 32 × 32 image, row-major, which is already channels-first.
 */
import * as path from 'node:path';
import { native } from '../native';
import { wrap } from '../../core/tensor';
import { optionsArg } from '../../core/args';
import { dtypeCode, describe } from '../../core/dtype';
import { scope } from '../../core/scope';
import { DataFileError } from '../errors';
import { transformArg, type TransformFn } from '../dataset';
import { VisionDataset } from './vision';
import { findFile, readBytes, readBytesAsync, rootArg } from './files';

export interface CIFAR10Options {
  /** The folder holding cifar-10-batches-bin/ (or the .bin files themselves). */
  root: string;
  /** The 50,000 training images (default) or the 10,000 test images. */
  train?: boolean;
  /** Batched transform of the inputs, e.g. the CIFAR recipe's Compose([ToTensor(), RandomCrop(32, {padding: 4}), ...]). */
  transform?: TransformFn;
}

const RECORD = 1 + 3 * 32 * 32;
const PARSED: unique symbol = Symbol('parsed');
type Internal = { [PARSED]?: Uint8Array };

function files(o: CIFAR10Options, train: boolean): string[] {
  const root = rootArg('CIFAR10', o.root);
  const dirs = [path.join(root, 'cifar-10-batches-bin'), root];
  const names = train ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
  return names.map((name) => findFile('CIFAR10', dirs, name, false));
}

function check(file: string, buf: Uint8Array): void {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    throw new DataFileError(
      `CIFAR10: ${file} is damaged: ${buf.length} bytes is not a whole number of ${RECORD}-byte records ` +
        '(1 label byte + 3 × 32 × 32 pixel bytes)',
      file,
    );
  }
  for (let at = 0, k = 0; at < buf.length; at += RECORD, k++) {
    if (buf[at] > 9) throw new DataFileError(`CIFAR10: ${file} is damaged: record ${k} has label ${buf[at]} (expected a class 0–9)`, file);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function trainArg(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') throw new TypeError(`train must be a boolean (got ${describe(v)})`);
  return v;
}

/** The options object, its keys checked (a misspelt one is a TypeError naming it) before any file is read. */
function datasetOptions(o: unknown): CIFAR10Options & Internal {
  if (o === undefined) throw new TypeError('CIFAR10: options must be an object like {root, train} (got undefined)');
  return optionsArg<CIFAR10Options & Internal>(o, 'CIFAR10', ['root', 'train', 'transform'], '{root, train}');
}

/**
 * CIFAR-10: `data` uint8 [N, 3, 32, 32] (channels first, unlike torchvision's NumPy [N, 32, 32, 3]),
 * `targets` int64 [N]; get(i) gives [image [3, 32, 32], class]. `new CIFAR10({root, train})` reads the
 * batches synchronously, `await CIFAR10.load({root, train})` without blocking the event loop.
 */
export class CIFAR10 extends VisionDataset {
  static readonly classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  readonly root: string;
  readonly train: boolean;

  constructor(opts: CIFAR10Options) {
    const o = datasetOptions(opts);
    const train = trainArg(o.train);
    const transform = transformArg(o.transform, 'transform');
    const raw =
      o[PARSED] ??
      concat(
        files(o, train).map((f) => {
          const buf = readBytes('CIFAR10', f);
          check(f, buf);
          return buf;
        }),
      );
    const n = raw.length / RECORD;
    // Split label bytes from pixels with tensor ops: records [N, 3073] → labels [N], images [N, 3, 32, 32].
    const [data, targets] = scope(() => {
      const records = wrap(native.fromData(raw, [n, RECORD], dtypeCode('uint8'), undefined, false));
      return [
        records
          .narrow(1, 1, RECORD - 1)
          .contiguous()
          .view(n, 3, 32, 32),
        records.select(1, 0).to('int64'),
      ];
    });
    try {
      super(data, targets, CIFAR10.classes, { transform });
    } finally {
      data.dispose();
      targets.dispose();
    }
    this.root = path.resolve(o.root);
    this.train = train;
  }

  /** Reads the batches without blocking the event loop. */
  static async load(opts: CIFAR10Options): Promise<CIFAR10> {
    const o = datasetOptions(opts);
    const list = files(o, trainArg(o.train));
    const bufs = await Promise.all(list.map((f) => readBytesAsync('CIFAR10', f)));
    bufs.forEach((b, k) => check(list[k], b));
    return new CIFAR10({ ...o, [PARSED]: concat(bufs) } as CIFAR10Options);
  }
}
