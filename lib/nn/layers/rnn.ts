/**
 * Recurrent layers, as torch.nn's rnn.py: RNN, LSTM and GRU (multi-layer, bidirectional, batchFirst,
 * dropout between layers, LSTM's projSize, initial states, unbatched input, PackedSequence input) over
 * ATen's rnn_tanh / rnn_relu / lstm / gru, and their cells. Parameters are named and initialised as
 * Python's (weight_ih_l0, weight_hh_l0_reverse, …; U(±1/√hidden)), so state dicts move both ways.
 */
import { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { warnOnce } from '../../core/errors';
import { scope } from '../../core/scope';
import { empty, zeros } from '../../generated/torch';
import { torchFunctions as T } from '../../core/surface';
import { Module, Parameter, getattr, setattr } from '../module';
import * as init from '../init';
import { pyFloat } from '../repr';
import { signature, type ArgsOf } from '../../core/signature';
import { PackedSequence } from '../packed';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };
export type RNNFactory = { device: string | null; dtype: Dtype | null };
export type RNNFields = {
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  projSize: number;
} & RNNFactory;
const DEFAULTS: RNNFields = { numLayers: 1, bias: true, batchFirst: false, dropout: 0, bidirectional: false, projSize: 0, device: null, dtype: null };
const LSTM_ARGS = signature<RNNFields>()(
  'LSTM',
  ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'projSize', 'device', 'dtype'],
  DEFAULTS,
);
// RNN and GRU know projSize only to refuse it with Python's message
export type NoProj = Omit<RNNFields, 'projSize'> & { projSize: null };
const GRU_ARGS = signature<NoProj>()('GRU', ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'device', 'dtype'], {
  ...DEFAULTS,
  projSize: null,
});
const RNN_ARGS = signature<NoProj & { nonlinearity: 'tanh' | 'relu' }>()(
  'RNN',
  ['numLayers', 'nonlinearity', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'device', 'dtype'],
  { ...DEFAULTS, projSize: null, nonlinearity: 'tanh' },
);
function noProj<A extends { projSize: null }>(a: A): Omit<A, 'projSize'> & { projSize: 0 } {
  if (a.projSize !== null) throw new RangeError('proj_size argument is only supported for LSTM, not RNN or GRU');
  return { ...a, projSize: 0 };
}

/** A hidden state: h, or LSTM's [h, c]. */
export type Hidden = Tensor | [Tensor, Tensor];

/** What RNN, LSTM and GRU share (PyTorch's RNNBase): the parameters, their names and order, the checks and the ATen call. */
export abstract class RNNBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly projSize: number;
  /** The parameters' names in the order ATen takes them (PyTorch's _flat_weights_names). */
  readonly flatWeightsNames: string[] = [];

  protected constructor(
    readonly mode: RNNMode,
    inputSize: number,
    hiddenSize: number,
    a: RNNFields,
  ) {
    super();
    const who = mode.startsWith('RNN') ? 'RNN' : mode;
    if (!(Number.isInteger(hiddenSize) && hiddenSize > 0)) throw new RangeError('hidden_size must be greater than zero');
    if (!(Number.isInteger(a.numLayers) && a.numLayers > 0)) throw new RangeError('num_layers must be greater than zero');
    if (typeof a.dropout !== 'number' || a.dropout < 0 || a.dropout > 1) {
      throw new RangeError('dropout should be a number in range [0, 1] representing the probability of an element being zeroed');
    }
    if (a.dropout > 0 && a.numLayers === 1) {
      warnOnce(
        `${who}.dropout`,
        'dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, ' +
          `but got dropout=${a.dropout} and num_layers=${a.numLayers}`,
      );
    }
    if (a.projSize < 0) throw new RangeError('proj_size should be a positive integer or zero to disable projections');
    if (a.projSize >= hiddenSize) throw new RangeError('proj_size has to be smaller than hidden_size');
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    ({
      numLayers: this.numLayers,
      bias: this.bias,
      batchFirst: this.batchFirst,
      dropout: this.dropout,
      bidirectional: this.bidirectional,
      projSize: this.projSize,
    } = a);
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? undefined };
    const directions = this.bidirectional ? 2 : 1;
    const gateSize = GATES[mode] * hiddenSize;
    const realHidden = this.projSize > 0 ? this.projSize : hiddenSize;
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let d = 0; d < directions; d++) {
        const layerInput = layer === 0 ? inputSize : realHidden * directions;
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const params: [string, number[]][] = [
          [`weight_ih${suffix}`, [gateSize, layerInput]],
          [`weight_hh${suffix}`, [gateSize, realHidden]],
        ];
        if (this.bias) params.push([`bias_ih${suffix}`, [gateSize]], [`bias_hh${suffix}`, [gateSize]]);
        if (this.projSize > 0) params.push([`weight_hr${suffix}`, [this.projSize, hiddenSize]]);
        for (const [name, shape] of params) {
          setattr(this, name, new Parameter(empty(shape, f)));
          this.flatWeightsNames.push(name);
        }
      }
    }
    this.resetParameters();
  }

  /** U(±1/√hiddenSize) for every parameter, as PyTorch's. */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) init.uniform_(p, -stdv, stdv);
  }

  private get flatWeights(): Tensor[] {
    return this.flatWeightsNames.map((n) => getattr(this, n) as Tensor); // the parameters the constructor registered
  }

  /** The hidden state's expected shape for a batch of `batch`: [layers × directions, batch, hidden or proj size]. */
  protected expectedHidden(batch: number, cell = false): number[] {
    const size = !cell && this.projSize > 0 ? this.projSize : this.hiddenSize;
    return [this.numLayers * (this.bidirectional ? 2 : 1), batch, size];
  }

  /** The output sequence and the final hidden state (LSTM: [h, c]); a PackedSequence in gives one out. */
  forward(input: Tensor | PackedSequence, hx: Hidden | null = null): [Tensor | PackedSequence, Hidden] {
    const who = this.mode.startsWith('RNN') ? 'RNN' : this.mode;
    const lstm = this.mode === 'LSTM';
    const packed = input instanceof PackedSequence;
    return scope(() => {
      let x: Tensor;
      let batch: number;
      let batched = true;
      let sorted: Tensor | null = null;
      let unsorted: Tensor | null = null;
      if (packed) {
        x = input.data;
        batch = Number(input.batchSizes.select(0, 0).item());
        sorted = input.sortedIndices;
        unsorted = input.unsortedIndices;
      } else {
        if (!(input instanceof Tensor)) throw new TypeError(`${who}: input must be a Tensor or a PackedSequence`);
        if (input.ndim !== 2 && input.ndim !== 3) throw new RangeError(`${who}: Expected input to be 2D or 3D, got ${input.ndim}D instead`);
        batched = input.ndim === 3;
        x = batched ? input : input.unsqueeze(this.batchFirst ? 0 : 1);
        batch = this.batchFirst ? x.shape[0] : x.shape[1];
      }
      if (x.dtype !== this.flatWeights[0].dtype) {
        throw new RangeError(
          `RNN input dtype (${x.dtype}) does not match weight dtype (${this.flatWeights[0].dtype}). ` +
            `Convert input: input.to('${this.flatWeights[0].dtype}'), or convert model: model.to('${x.dtype}')`,
        );
      }
      const expectedDim = packed ? 2 : 3;
      if (x.ndim !== expectedDim) throw new RangeError(`input must have ${expectedDim} dimensions, got ${x.ndim}`);
      if (x.shape[x.ndim - 1] !== this.inputSize) {
        throw new RangeError(`input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${x.shape[x.ndim - 1]}`);
      }
      let states: Tensor[];
      const f = { dtype: x.dtype, device: x.device };
      if (hx === null) {
        states = lstm ? [zeros(this.expectedHidden(batch), f), zeros(this.expectedHidden(batch, true), f)] : [zeros(this.expectedHidden(batch), f)];
      } else {
        states = Array.isArray(hx) ? [...hx] : [hx];
        if (lstm !== Array.isArray(hx) || states.length !== (lstm ? 2 : 1))
          throw new TypeError(`${who}: hx must be ${lstm ? '[h0, c0]' : 'a Tensor'}`);
        const want = batched ? 3 : 2;
        if (states.some((s) => s.ndim !== want)) {
          throw new RangeError(
            lstm
              ? `For ${batched ? 'batched 3-D' : 'unbatched 2-D'} input, hx and cx should also be ${want}-D but got ` +
                  `(${states[0].ndim}-D, ${states[1].ndim}-D) tensors`
              : `For ${batched ? 'batched 3-D' : 'unbatched 2-D'} input, hx should also be ${want}-D ` + `but got ${states[0].ndim}-D tensor`,
          );
        }
        if (!batched) states = states.map((s) => s.unsqueeze(1));
        states.forEach((s, i) => {
          const expected = this.expectedHidden(batch, i === 1);
          if (s.shape.join() !== expected.join()) {
            const label = lstm ? `hidden[${i}] size` : 'hidden size';
            throw new RangeError(`Expected ${label} (${expected.join(', ')}), got [${s.shape.join(', ')}]`);
          }
        });
        if (sorted !== null) states = states.map((s) => s.indexSelect(1, sorted!));
      }
      const weights = this.flatWeights;
      const common = [this.bias, this.numLayers, this.dropout, this.training, this.bidirectional] as const;
      const op = { RNN_TANH: T.rnnTanh, RNN_RELU: T.rnnRelu, LSTM: T.lstm, GRU: T.gru }[this.mode] as (...a: unknown[]) => Tensor[];
      const hxArg = lstm ? states : states[0];
      const result = packed
        ? op(x, (input as PackedSequence).batchSizes, hxArg, weights, ...common)
        : op(x, hxArg, weights, ...common, this.batchFirst);
      let output = result[0];
      let hidden = result.slice(1);
      if (unsorted !== null) hidden = hidden.map((h) => h.indexSelect(1, unsorted!));
      if (!packed && !batched) {
        output = output.squeeze(this.batchFirst ? 0 : 1);
        hidden = hidden.map((h) => h.squeeze(1));
      }
      const out = packed ? new PackedSequence(output, (input as PackedSequence).batchSizes, sorted, unsorted) : output;
      return [out, lstm ? [hidden[0], hidden[1]] : hidden[0]] as [Tensor | PackedSequence, Hidden];
    });
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${pyFloat(this.dropout)}`;
    if (this.bidirectional) s += ', bidirectional=True';
    return s;
  }
}

/** An Elman RNN, as torch.nn.RNN(inputSize, hiddenSize, numLayers, nonlinearity, bias, batchFirst, dropout, bidirectional). */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, ...rest: ArgsOf<typeof RNN_ARGS>) {
    const a = RNN_ARGS.bind(rest);
    if (a.nonlinearity !== 'tanh' && a.nonlinearity !== 'relu')
      throw new RangeError(`Unknown nonlinearity '${String(a.nonlinearity)}'. Select from 'tanh' or 'relu'.`);
    super(a.nonlinearity === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, noProj(a));
    this.nonlinearity = a.nonlinearity;
  }
  override forward(input: Tensor | PackedSequence, hx: Tensor | null = null): [Tensor | PackedSequence, Tensor] {
    return super.forward(input, hx) as [Tensor | PackedSequence, Tensor];
  }
}
/** Long short-term memory, as torch.nn.LSTM(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize); forward(x, [h0, c0]). */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, ...rest: ArgsOf<typeof LSTM_ARGS>) {
    super('LSTM', inputSize, hiddenSize, LSTM_ARGS.bind(rest));
  }
  override forward(input: Tensor | PackedSequence, hx: [Tensor, Tensor] | null = null): [Tensor | PackedSequence, [Tensor, Tensor]] {
    return super.forward(input, hx) as [Tensor | PackedSequence, [Tensor, Tensor]];
  }
}
/** Gated recurrent units, as torch.nn.GRU(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional). */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, ...rest: ArgsOf<typeof GRU_ARGS>) {
    super('GRU', inputSize, hiddenSize, noProj(GRU_ARGS.bind(rest)));
  }
  override forward(input: Tensor | PackedSequence, hx: Tensor | null = null): [Tensor | PackedSequence, Tensor] {
    return super.forward(input, hx) as [Tensor | PackedSequence, Tensor];
  }
}

export type CellFields = { bias: boolean } & RNNFactory;
const CELL = (who: string) => signature<CellFields>()(who, ['bias', 'device', 'dtype'], { bias: true, device: null, dtype: null });
const RNN_CELL = signature<CellFields & { nonlinearity: 'tanh' | 'relu' }>()('RNNCell', ['bias', 'nonlinearity', 'device', 'dtype'], {
  bias: true,
  nonlinearity: 'tanh',
  device: null,
  dtype: null,
});

/** What the cells share (PyTorch's RNNCellBase): weight_ih, weight_hh, bias_ih, bias_hh, U(±1/√hidden). */
export abstract class RNNCellBase extends Module {
  declare weight_ih: Parameter;
  declare weight_hh: Parameter;
  declare bias_ih: Parameter | null;
  declare bias_hh: Parameter | null;
  readonly bias: boolean;
  protected constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    a: CellFields,
  ) {
    super();
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? undefined };
    this.bias = a.bias;
    this.weight_ih = new Parameter(empty([gates * hiddenSize, inputSize], f));
    this.weight_hh = new Parameter(empty([gates * hiddenSize, hiddenSize], f));
    this.bias_ih = a.bias ? new Parameter(empty([gates * hiddenSize], f)) : null;
    this.bias_hh = a.bias ? new Parameter(empty([gates * hiddenSize], f)) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) init.uniform_(p, -stdv, stdv);
  }
  /** Python's checks and its unbatched handling, around the ATen cell. */
  protected step(
    who: string,
    input: Tensor,
    states: Tensor[] | null,
    cell: (x: Tensor, states: Tensor[]) => Tensor | Tensor[],
    count: number,
  ): Tensor | Tensor[] {
    if (input.ndim !== 1 && input.ndim !== 2) throw new RangeError(`${who}: Expected input to be 1D or 2D, got ${input.ndim}D instead`);
    if (states && states.some((s) => s.ndim !== 1 && s.ndim !== 2)) {
      throw new RangeError(`${who}: Expected hidden to be 1D or 2D, got ${states[0].ndim}D instead`);
    }
    const batched = input.ndim === 2;
    return scope(() => {
      const x = batched ? input : input.unsqueeze(0);
      const h = states
        ? states.map((s) => (batched ? s : s.unsqueeze(0)))
        : new Array(count).fill(0).map(() => zeros([x.shape[0], this.hiddenSize], { dtype: x.dtype, device: x.device }));
      const out = cell(x, h);
      if (batched) return out;
      return Array.isArray(out) ? out.map((o) => o.squeeze(0)) : out.squeeze(0);
    });
  }
  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (!this.bias) s += ', bias=False';
    const nl = (this as { nonlinearity?: string }).nonlinearity;
    if (nl !== undefined && nl !== 'tanh') s += `, nonlinearity=${nl}`;
    return s;
  }
}
/** One Elman RNN step, as torch.nn.RNNCell(inputSize, hiddenSize, bias, nonlinearity). */
export class RNNCell extends RNNCellBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, ...rest: ArgsOf<typeof RNN_CELL>) {
    const a = RNN_CELL.bind(rest);
    super(inputSize, hiddenSize, 1, a);
    if (a.nonlinearity !== 'tanh' && a.nonlinearity !== 'relu') throw new RangeError(`Unknown nonlinearity: ${String(a.nonlinearity)}`);
    this.nonlinearity = a.nonlinearity;
  }
  forward(input: Tensor, hx: Tensor | null = null): Tensor {
    const op = this.nonlinearity === 'tanh' ? T.rnnTanhCell : T.rnnReluCell;
    return this.step('RNNCell', input, hx && [hx], (x, [h]) => op(x, h, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh), 1) as Tensor;
  }
}
/** One LSTM step, as torch.nn.LSTMCell(inputSize, hiddenSize, bias); forward(x, [h, c]) → [h', c']. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, ...rest: ArgsOf<ReturnType<typeof CELL>>) {
    super(inputSize, hiddenSize, 4, CELL('LSTMCell').bind(rest));
  }
  forward(input: Tensor, hx: [Tensor, Tensor] | null = null): [Tensor, Tensor] {
    const out = this.step('LSTMCell', input, hx, (x, [h, c]) => T.lstmCell(x, [h, c], this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh), 2);
    return out as [Tensor, Tensor];
  }
}
/** One GRU step, as torch.nn.GRUCell(inputSize, hiddenSize, bias). */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, ...rest: ArgsOf<ReturnType<typeof CELL>>) {
    super(inputSize, hiddenSize, 3, CELL('GRUCell').bind(rest));
  }
  forward(input: Tensor, hx: Tensor | null = null): Tensor {
    return this.step(
      'GRUCell',
      input,
      hx && [hx],
      (x, [h]) => T.gruCell(x, h, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh),
      1,
    ) as Tensor;
  }
}
