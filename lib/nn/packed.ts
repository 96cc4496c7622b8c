/**
 * torch.nn.utils.rnn: PackedSequence and the functions that make and undo it (pack_padded_sequence,
 * pad_packed_sequence, pad_sequence, pack_sequence, unpad_sequence, unpack_sequence), over ATen's
 * _pack_padded_sequence / _pad_packed_sequence as Python calls them.
 */
import { Tensor, isTensor } from '../core/tensor';
import { describe } from '../core/dtype';
import { bindFunction } from '../core/dispatch';
import { scope } from '../core/scope';
import { tensor } from '../core/creation';
import { nnFunctions as NN, torchFunctions as T } from '../core/surface';
import { signature, type ArgsOf } from '../core/signature';

const packPadded = bindFunction('torch._VF._pack_padded_sequence', [
  '_pack_padded_sequence(Tensor input, Tensor lengths, bool batch_first) -> (Tensor, Tensor)',
]) as (...a: unknown[]) => [Tensor, Tensor];
const padPacked = bindFunction('torch._VF._pad_packed_sequence', [
  '_pad_packed_sequence(Tensor data, Tensor batch_sizes, bool batch_first, Scalar padding_value, int total_length) -> (Tensor, Tensor)',
]) as (...a: unknown[]) => [Tensor, Tensor];

/** The permutation that undoes `permutation`. */
export function invertPermutation(permutation: Tensor | null): Tensor | null {
  if (permutation === null) return null;
  return scope(() => T.emptyLike(permutation).scatter_(0, permutation, T.arange(0, permutation.numel(), { device: permutation.device })));
}

/**
 * Sequences of different lengths packed time step by time step, as torch.nn.utils.rnn.PackedSequence:
 * `data` (the steps of every sequence), `batchSizes` (how many sequences each step has), and the
 * permutation that sorted the batch by length (and its inverse).
 */
export class PackedSequence {
  readonly unsortedIndices: Tensor | null;
  constructor(
    readonly data: Tensor,
    readonly batchSizes: Tensor,
    readonly sortedIndices: Tensor | null = null,
    unsortedIndices: Tensor | null = null,
  ) {
    if (!isTensor(data) || !isTensor(batchSizes))
      throw new TypeError(`PackedSequence(data, batchSizes): both must be Tensors (got ${describe(data)}, ${describe(batchSizes)})`);
    if (!batchSizes.device.startsWith('cpu')) {
      throw new RangeError(
        'batch_sizes should always be on CPU. Instances of PackedSequence should never be created manually. They should be ' +
          'instantiated by functions like pack_sequence and pack_padded_sequences in nn.utils.rnn.',
      );
    }
    this.unsortedIndices = unsortedIndices ?? invertPermutation(sortedIndices);
  }
  /** [data, batchSizes, sortedIndices, unsortedIndices], as Python's namedtuple unpacks (and what a scope keeps of it). */
  *[Symbol.iterator](): IterableIterator<Tensor | null> {
    yield this.data;
    yield this.batchSizes;
    yield this.sortedIndices;
    yield this.unsortedIndices;
  }
  /** The same packing with data moved or cast (batch sizes stay on the CPU), as PackedSequence.to. */
  to(...args: Parameters<Tensor['to']>): PackedSequence {
    const data = this.data.to(...args);
    if (data === this.data) return this;
    const device = data.device;
    const move = (t: Tensor | null) => (t === null ? null : t.to({ device }));
    return new PackedSequence(data, this.batchSizes, move(this.sortedIndices), move(this.unsortedIndices));
  }
}

const PACK_PADDED = signature<{ batchFirst: boolean; enforceSorted: boolean }>()('packPaddedSequence', ['batchFirst', 'enforceSorted'], {
  batchFirst: false,
  enforceSorted: true,
});
/** Packs a padded batch of sequences of the given lengths (sorted longest first unless enforceSorted is false). */
export function packPaddedSequence(input: Tensor, lengths: Tensor | number[], ...rest: ArgsOf<typeof PACK_PADDED>): PackedSequence {
  const a = PACK_PADDED.bind(rest);
  return scope(() => {
    let len = isTensor(lengths) ? lengths.to({ dtype: 'int64' }) : tensor(lengths, { dtype: 'int64', device: 'cpu' });
    let x = input;
    let sortedIndices: Tensor | null = null;
    if (!a.enforceSorted) {
      const sorted = len.sort(0, true);
      len = sorted[0];
      sortedIndices = sorted[1].to({ device: input.device });
      x = input.indexSelect(a.batchFirst ? 0 : 1, sortedIndices);
    }
    const [data, batchSizes] = packPadded(x, len, a.batchFirst);
    return new PackedSequence(data, batchSizes, sortedIndices);
  }) as PackedSequence;
}

const PAD_PACKED = signature<{ batchFirst: boolean; paddingValue: number; totalLength: number | null }>()(
  'padPackedSequence',
  ['batchFirst', 'paddingValue', 'totalLength'],
  { batchFirst: false, paddingValue: 0, totalLength: null },
);
/** The padded batch and the lengths of a PackedSequence: the inverse of packPaddedSequence. */
export function padPackedSequence(sequence: PackedSequence, ...rest: ArgsOf<typeof PAD_PACKED>): [Tensor, Tensor] {
  const a = PAD_PACKED.bind(rest);
  if (!(sequence instanceof PackedSequence)) throw new TypeError(`sequence must be a PackedSequence (got ${describe(sequence)})`);
  let maxLength = sequence.batchSizes.shape[0];
  if (a.totalLength !== null) {
    if (a.totalLength < maxLength) {
      throw new RangeError(
        'Expected total_length to be at least the length of the longest sequence in input, but got ' +
          `total_length=${a.totalLength} and max sequence length being ${maxLength}`,
      );
    }
    maxLength = a.totalLength;
  }
  return scope(() => {
    const [padded, lengths] = padPacked(sequence.data, sequence.batchSizes, a.batchFirst, a.paddingValue, maxLength);
    const order = sequence.unsortedIndices;
    if (order === null) return [padded, lengths];
    return [padded.indexSelect(a.batchFirst ? 0 : 1, order), lengths.indexSelect(0, order.to({ device: 'cpu' }))];
  }) as [Tensor, Tensor];
}

const PAD = signature<{ batchFirst: boolean; paddingValue: number; paddingSide: 'right' | 'left' }>()(
  'padSequence',
  ['batchFirst', 'paddingValue', 'paddingSide'],
  { batchFirst: false, paddingValue: 0, paddingSide: 'right' },
);
/** Stacks sequences of different lengths into one padded batch. */
export function padSequence(sequences: Tensor[], ...rest: ArgsOf<typeof PAD>): Tensor {
  const a = PAD.bind(rest);
  if (!Array.isArray(sequences))
    throw new TypeError(`pad_sequence: Expected iterable for input sequences, but got arg of type: ${describe(sequences)}`);
  return NN.padSequence(sequences, a.batchFirst, a.paddingValue, a.paddingSide);
}

const PACK = signature<{ enforceSorted: boolean }>()('packSequence', ['enforceSorted'], { enforceSorted: true });
/** Packs a list of sequences (longest first unless enforceSorted is false). */
export function packSequence(sequences: Tensor[], ...rest: ArgsOf<typeof PACK>): PackedSequence {
  const { enforceSorted } = PACK.bind(rest);
  return scope(() =>
    packPaddedSequence(
      padSequence(sequences),
      sequences.map((s) => s.shape[0]),
      { enforceSorted },
    ),
  );
}

const UNPAD = signature<{ batchFirst: boolean }>()('unpadSequence', ['batchFirst'], { batchFirst: false });
/** The sequences of a padded batch, each cut to its length. */
export function unpadSequence(paddedSequences: Tensor, lengths: Tensor, ...rest: ArgsOf<typeof UNPAD>): Tensor[] {
  const { batchFirst } = UNPAD.bind(rest);
  return scope(() => {
    const padded = batchFirst ? paddedSequences : paddedSequences.transpose(0, 1);
    const idx = T.arange(padded.shape[1], { device: lengths.device });
    const lens = lengths.tolist() as number[];
    return lens.map((n, i) => padded.select(0, i).index(idx.lt(n)));
  });
}

/** The sequences of a PackedSequence. */
export function unpackSequence(packed: PackedSequence): Tensor[] {
  return scope(() => {
    const [padded, lengths] = padPackedSequence(packed, true);
    return unpadSequence(padded, lengths, true);
  });
}
