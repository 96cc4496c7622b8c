// Parity of torch.nn's layers with Python's: each module is built with the same (positional) arguments in
// both, Python's loads torchnode's state dict, and the same float64 inputs go through both. Compared:
// the repr, the state-dict keys, the output, the gradients of the inputs and of every parameter, and the
// state after the forward (running statistics). Random layers run from the same seed.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;
type Module = torch.nn.Module;

const py = usePyTorch();

torch.manualSeed(7);
const r = (...shape: number[]) => torch.randn(shape, { dtype: 'float64' });
const x1d = r(2, 4, 9); // N C L
const x2d = r(2, 4, 7, 8); // N C H W
const x3d = r(2, 4, 5, 6, 5); // N C D H W
const vec = r(3, 10);
const pos = torch.rand([2, 4, 7, 8], { dtype: 'float64' }).add(0.1);
const ids = torch.tensor([
  [1, 2, 4, 5],
  [4, 3, 2, 9],
]);
const flat = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]);
const offsets = torch.tensor([0, 3]);
const cls = torch.tensor([1, 0, 4]);
const sign = torch.tensor([1, -1, 1], { dtype: 'float64' });
const prob = torch.rand([3, 10], { dtype: 'float64' });
const multiLabel = torch.tensor([
  [3, 0, -1, 1, 5, 6, 7, 8, 9, 2],
  [1, -1, 0, 0, 0, 0, 0, 0, 0, 0],
  [0, 1, 2, 3, -1, 0, 0, 0, 0, 0],
]);
const binLabel = torch.tensor(
  [
    [1, 0, 1, 0, 1, 1, 0, 0, 0, 1],
    [0, 0, 1, 1, 0, 0, 0, 1, 1, 0],
    [1, 1, 1, 0, 0, 0, 0, 1, 0, 0],
  ],
  { dtype: 'float64' },
);
const seq = torch.randn([12, 2, 5], { dtype: 'float64' }).logSoftmax(2);
const ctcTargets = torch.tensor([
  [1, 2, 2, 3],
  [4, 1, 1, 0],
]);

type Options = { train?: boolean; seed?: boolean; grads?: number; tol?: { rtol?: number; atol?: number } };
/** [name, torchnode module, Python constructor, inputs, options]: the first `grads` inputs (default all floating ones) require grad. */
type Case = [string, () => Module, string, Tensor[], Options?];
const cases: Case[] = [
  // convolutions: Python's positional order, every padding mode, transposes with output padding
  ['Conv1d', () => new nn.Conv1d(4, 6, 3), 'nn.Conv1d(4, 6, 3)', [x1d]],
  ['Conv1d positional', () => new nn.Conv1d(4, 6, 3, 2, 1, 1, 2, false), 'nn.Conv1d(4, 6, 3, 2, 1, 1, 2, False)', [x1d]],
  ['Conv1d reflect', () => new nn.Conv1d(4, 6, 3, 1, 2, { paddingMode: 'reflect' }), "nn.Conv1d(4, 6, 3, 1, 2, padding_mode='reflect')", [x1d]],
  ["Conv1d 'same'", () => new nn.Conv1d(4, 2, 4, { padding: 'same', dilation: 2 }), "nn.Conv1d(4, 2, 4, padding='same', dilation=2)", [x1d]],
  [
    'Conv2d circular',
    () => new nn.Conv2d(4, 3, [3, 2], 1, [1, 2], { paddingMode: 'circular' }),
    "nn.Conv2d(4, 3, (3, 2), 1, (1, 2), padding_mode='circular')",
    [x2d],
  ],
  ['Conv2d replicate', () => new nn.Conv2d(4, 3, 3, 2, 1, { paddingMode: 'replicate' }), "nn.Conv2d(4, 3, 3, 2, 1, padding_mode='replicate')", [x2d]],
  [
    "Conv2d 'same' even kernel reflect",
    () => new nn.Conv2d(4, 3, 4, { padding: 'same', paddingMode: 'reflect' }),
    "nn.Conv2d(4, 3, 4, padding='same', padding_mode='reflect')",
    [x2d],
  ],
  ['Conv3d', () => new nn.Conv3d(4, 2, 3, [1, 2, 1], 1), 'nn.Conv3d(4, 2, 3, (1, 2, 1), 1)', [x3d]],
  ['ConvTranspose1d', () => new nn.ConvTranspose1d(4, 3, 3, 2, 1, 1), 'nn.ConvTranspose1d(4, 3, 3, 2, 1, 1)', [x1d]],
  [
    'ConvTranspose2d groups dilation',
    () => new nn.ConvTranspose2d(4, 6, 3, 2, 1, 0, 2, true, 2),
    'nn.ConvTranspose2d(4, 6, 3, 2, 1, 0, 2, True, 2)',
    [x2d],
  ],
  [
    'ConvTranspose3d',
    () => new nn.ConvTranspose3d(4, 2, [2, 3, 2], { stride: 2, bias: false }),
    'nn.ConvTranspose3d(4, 2, (2, 3, 2), stride=2, bias=False)',
    [x3d],
  ],
  ['Unfold', () => new nn.Unfold([2, 3], 1, 1, 2), 'nn.Unfold((2, 3), 1, 1, 2)', [x2d]],
  ['Fold', () => new nn.Fold([4, 5], 2), 'nn.Fold((4, 5), 2)', [r(2, 12, 12)]],
  // linear and embeddings
  ['Linear positional', () => new nn.Linear(10, 4, false), 'nn.Linear(10, 4, False)', [vec]],
  ['Bilinear', () => new nn.Bilinear(10, 10, 3), 'nn.Bilinear(10, 10, 3)', [vec, prob]],
  ['Identity', () => new nn.Identity(54, { unused: true }), 'nn.Identity(54, unused=True)', [vec]],
  ['Embedding', () => new nn.Embedding(10, 3, 0), 'nn.Embedding(10, 3, 0)', [ids]],
  ['Embedding max_norm', () => new nn.Embedding(10, 3, { maxNorm: 1, paddingIdx: -1 }), 'nn.Embedding(10, 3, max_norm=1.0, padding_idx=-1)', [ids]],
  ['EmbeddingBag 2-D sum', () => new nn.EmbeddingBag(10, 3, { mode: 'sum' }), "nn.EmbeddingBag(10, 3, mode='sum')", [ids]],
  [
    'EmbeddingBag offsets max',
    () => new nn.EmbeddingBag(10, 3, null, 2, false, 'max'),
    "nn.EmbeddingBag(10, 3, None, 2, False, 'max')",
    [flat, offsets],
  ],
  // normalisation, in training (running statistics updated) and in eval
  ['BatchNorm1d 3-D', () => new nn.BatchNorm1d(4), 'nn.BatchNorm1d(4)', [x1d], { train: true }],
  ['BatchNorm1d 2-D cumulative', () => new nn.BatchNorm1d(10, 1e-3, null), 'nn.BatchNorm1d(10, 1e-3, None)', [vec], { train: true }],
  ['BatchNorm3d', () => new nn.BatchNorm3d(4, { momentum: 0.3 }), 'nn.BatchNorm3d(4, momentum=0.3)', [x3d], { train: true }],
  ['BatchNorm2d eval', () => new nn.BatchNorm2d(4, 1e-5, 0.1, false), 'nn.BatchNorm2d(4, 1e-5, 0.1, False)', [x2d]],
  ['InstanceNorm1d', () => new nn.InstanceNorm1d(4), 'nn.InstanceNorm1d(4)', [x1d], { train: true }],
  [
    'InstanceNorm2d affine tracked',
    () => new nn.InstanceNorm2d(4, 1e-5, 0.1, true, true),
    'nn.InstanceNorm2d(4, 1e-5, 0.1, True, True)',
    [x2d],
    { train: true },
  ],
  [
    'InstanceNorm3d unbatched',
    () => new nn.InstanceNorm3d(4, { affine: true }),
    'nn.InstanceNorm3d(4, affine=True)',
    [r(4, 3, 4, 5)],
    { train: true },
  ],
  ['LayerNorm', () => new nn.LayerNorm([7, 8]), 'nn.LayerNorm([7, 8])', [x2d]],
  ['LayerNorm no bias', () => new nn.LayerNorm(10, 1e-6, true, false), 'nn.LayerNorm(10, 1e-6, True, False)', [vec]],
  ['GroupNorm', () => new nn.GroupNorm(2, 4), 'nn.GroupNorm(2, 4)', [x2d]],
  ['RMSNorm', () => new nn.RMSNorm([8]), 'nn.RMSNorm([8])', [x2d]],
  ['RMSNorm eps', () => new nn.RMSNorm(10, 1e-4, false), 'nn.RMSNorm(10, 1e-4, False)', [vec]],
  ['LocalResponseNorm 4-D', () => new nn.LocalResponseNorm(3), 'nn.LocalResponseNorm(3)', [x2d]],
  ['CrossMapLRN2d', () => new nn.CrossMapLRN2d(3, 1e-2, 0.75, 2), 'nn.CrossMapLRN2d(3, 1e-2, 0.75, 2)', [x2d], { tol: { rtol: 1e-9, atol: 1e-12 } }],
  ['CrossMapLRN2d wide window', () => new nn.CrossMapLRN2d(6), 'nn.CrossMapLRN2d(6)', [x2d], { tol: { rtol: 1e-9, atol: 1e-12 } }],
  ['LocalResponseNorm 3-D', () => new nn.LocalResponseNorm(2, 1e-3, 0.5, 2), 'nn.LocalResponseNorm(2, 1e-3, 0.5, 2.0)', [x1d]],
  // pooling
  ['MaxPool1d', () => new nn.MaxPool1d(3, 2, 1), 'nn.MaxPool1d(3, 2, 1)', [x1d]],
  ['MaxPool2d ceil dilation', () => new nn.MaxPool2d(2, 2, 0, 2, false, true), 'nn.MaxPool2d(2, 2, 0, 2, False, True)', [x2d]],
  ['MaxPool3d', () => new nn.MaxPool3d([2, 3, 2]), 'nn.MaxPool3d((2, 3, 2))', [x3d]],
  ['AvgPool1d', () => new nn.AvgPool1d(3, 2, 1, false, false), 'nn.AvgPool1d(3, 2, 1, False, False)', [x1d]],
  ['AvgPool2d divisor', () => new nn.AvgPool2d(3, 1, 1, false, true, 4), 'nn.AvgPool2d(3, 1, 1, False, True, 4)', [x2d]],
  ['AvgPool3d', () => new nn.AvgPool3d(2, { ceilMode: true }), 'nn.AvgPool3d(2, ceil_mode=True)', [x3d]],
  ['AdaptiveAvgPool1d', () => new nn.AdaptiveAvgPool1d(4), 'nn.AdaptiveAvgPool1d(4)', [x1d]],
  ['AdaptiveAvgPool2d with None', () => new nn.AdaptiveAvgPool2d([3, null]), 'nn.AdaptiveAvgPool2d((3, None))', [x2d]],
  ['AdaptiveAvgPool3d', () => new nn.AdaptiveAvgPool3d([2, 3, 2]), 'nn.AdaptiveAvgPool3d((2, 3, 2))', [x3d]],
  ['AdaptiveMaxPool1d', () => new nn.AdaptiveMaxPool1d(4), 'nn.AdaptiveMaxPool1d(4)', [x1d]],
  ['AdaptiveMaxPool2d', () => new nn.AdaptiveMaxPool2d([3, 5]), 'nn.AdaptiveMaxPool2d((3, 5))', [x2d]],
  ['AdaptiveMaxPool3d', () => new nn.AdaptiveMaxPool3d(2), 'nn.AdaptiveMaxPool3d(2)', [x3d]],
  ['LPPool1d', () => new nn.LPPool1d(2, 3, 2), 'nn.LPPool1d(2, 3, 2)', [pos.flatten(2)]],
  ['LPPool2d', () => new nn.LPPool2d(1.5, 2), 'nn.LPPool2d(1.5, 2)', [pos]],
  ['LPPool3d inf', () => new nn.LPPool3d(Infinity, 2), "nn.LPPool3d(float('inf'), 2)", [x3d]],
  [
    'FractionalMaxPool2d',
    () => new nn.FractionalMaxPool2d(2, { outputRatio: 0.5 }),
    'nn.FractionalMaxPool2d(2, output_ratio=0.5)',
    [x2d],
    { seed: true },
  ],
  ['FractionalMaxPool3d', () => new nn.FractionalMaxPool3d(2, [3, 3, 3]), 'nn.FractionalMaxPool3d(2, (3, 3, 3))', [x3d], { seed: true }],
  // padding
  ['ZeroPad1d', () => new nn.ZeroPad1d([1, 2]), 'nn.ZeroPad1d((1, 2))', [x1d]],
  ['ZeroPad2d', () => new nn.ZeroPad2d(1), 'nn.ZeroPad2d(1)', [x2d]],
  ['ZeroPad3d', () => new nn.ZeroPad3d([1, 0, 2, 1, 0, 1]), 'nn.ZeroPad3d((1, 0, 2, 1, 0, 1))', [x3d]],
  ['ConstantPad1d', () => new nn.ConstantPad1d(2, 3.5), 'nn.ConstantPad1d(2, 3.5)', [x1d]],
  ['ConstantPad2d', () => new nn.ConstantPad2d([1, 2, 0, 1], -1), 'nn.ConstantPad2d((1, 2, 0, 1), -1.0)', [x2d]],
  ['ConstantPad3d', () => new nn.ConstantPad3d(1, 0.5), 'nn.ConstantPad3d(1, 0.5)', [x3d]],
  ['ReflectionPad1d', () => new nn.ReflectionPad1d([2, 1]), 'nn.ReflectionPad1d((2, 1))', [x1d]],
  ['ReflectionPad2d', () => new nn.ReflectionPad2d(2), 'nn.ReflectionPad2d(2)', [x2d]],
  ['ReflectionPad3d', () => new nn.ReflectionPad3d(1), 'nn.ReflectionPad3d(1)', [x3d]],
  ['ReplicationPad1d', () => new nn.ReplicationPad1d(3), 'nn.ReplicationPad1d(3)', [x1d]],
  ['ReplicationPad2d', () => new nn.ReplicationPad2d([1, 0, 2, 3]), 'nn.ReplicationPad2d((1, 0, 2, 3))', [x2d]],
  ['ReplicationPad3d', () => new nn.ReplicationPad3d(2), 'nn.ReplicationPad3d(2)', [x3d]],
  ['CircularPad1d', () => new nn.CircularPad1d(2), 'nn.CircularPad1d(2)', [x1d]],
  ['CircularPad2d', () => new nn.CircularPad2d([1, 2, 2, 1]), 'nn.CircularPad2d((1, 2, 2, 1))', [x2d]],
  ['CircularPad3d', () => new nn.CircularPad3d(1), 'nn.CircularPad3d(1)', [x3d]],
  // activations (positional arguments as Python takes them)
  ...(
    [
      ['ELU', 'nn.ELU(0.5)', () => new nn.ELU(0.5)],
      ['CELU', 'nn.CELU(1.5)', () => new nn.CELU(1.5)],
      ['SELU', 'nn.SELU()', () => new nn.SELU()],
      ['GELU tanh', "nn.GELU('tanh')", () => new nn.GELU('tanh')],
      ['GLU', 'nn.GLU(1)', () => new nn.GLU(1)],
      ['Hardshrink', 'nn.Hardshrink(0.8)', () => new nn.Hardshrink(0.8)],
      ['Softshrink', 'nn.Softshrink()', () => new nn.Softshrink()],
      ['Hardtanh', 'nn.Hardtanh(-0.5, 1.5)', () => new nn.Hardtanh(-0.5, 1.5)],
      ['ReLU6', 'nn.ReLU6()', () => new nn.ReLU6()],
      ['LeakyReLU', 'nn.LeakyReLU(0.2)', () => new nn.LeakyReLU(0.2)],
      ['LogSigmoid', 'nn.LogSigmoid()', () => new nn.LogSigmoid()],
      ['Softplus', 'nn.Softplus(2.0, 1.5)', () => new nn.Softplus(2, 1.5)],
      ['Softsign', 'nn.Softsign()', () => new nn.Softsign()],
      ['Tanhshrink', 'nn.Tanhshrink()', () => new nn.Tanhshrink()],
      ['Threshold', 'nn.Threshold(0.1, 20)', () => new nn.Threshold(0.1, 20)],
      ['Mish', 'nn.Mish()', () => new nn.Mish()],
      ['SiLU', 'nn.SiLU()', () => new nn.SiLU()],
      ['Hardswish', 'nn.Hardswish()', () => new nn.Hardswish()],
      ['Hardsigmoid', 'nn.Hardsigmoid()', () => new nn.Hardsigmoid()],
      ['Sigmoid', 'nn.Sigmoid()', () => new nn.Sigmoid()],
      ['Tanh', 'nn.Tanh()', () => new nn.Tanh()],
      ['ReLU', 'nn.ReLU()', () => new nn.ReLU()],
      ['Softmax', 'nn.Softmax(1)', () => new nn.Softmax(1)],
      ['Softmin', 'nn.Softmin(0)', () => new nn.Softmin(0)],
      ['LogSoftmax', 'nn.LogSoftmax(-1)', () => new nn.LogSoftmax(-1)],
      ['PReLU', 'nn.PReLU()', () => new nn.PReLU()],
      ['RReLU eval', 'nn.RReLU(0.1, 0.3)', () => new nn.RReLU(0.1, 0.3)],
    ] as [string, string, () => Module][]
  ).map(([name, pyc, js]): Case => [name, js, pyc, [vec]]),
  ['PReLU per channel', () => new nn.PReLU(4, 0.1), 'nn.PReLU(4, 0.1)', [x2d]],
  ['RReLU training', () => new nn.RReLU(), 'nn.RReLU()', [vec], { train: true, seed: true }],
  ['Softmax2d', () => new nn.Softmax2d(), 'nn.Softmax2d()', [x2d]],
  // dropout: the same masks from the same seed
  ['Dropout', () => new nn.Dropout(0.3), 'nn.Dropout(0.3)', [x2d], { train: true, seed: true }],
  ['Dropout1d', () => new nn.Dropout1d(), 'nn.Dropout1d()', [x1d], { train: true, seed: true }],
  ['Dropout2d', () => new nn.Dropout2d(0.4), 'nn.Dropout2d(0.4)', [x2d], { train: true, seed: true }],
  ['Dropout3d', () => new nn.Dropout3d(0.2), 'nn.Dropout3d(0.2)', [x3d], { train: true, seed: true }],
  ['AlphaDropout', () => new nn.AlphaDropout(0.2), 'nn.AlphaDropout(0.2)', [vec], { train: true, seed: true }],
  ['FeatureAlphaDropout', () => new nn.FeatureAlphaDropout(0.3), 'nn.FeatureAlphaDropout(0.3)', [x2d], { train: true, seed: true }],
  // reshaping and resampling
  ['Flatten', () => new nn.Flatten(2), 'nn.Flatten(2)', [x3d]],
  ['Unflatten', () => new nn.Unflatten(1, [2, 5]), 'nn.Unflatten(1, (2, 5))', [vec]],
  ['PixelShuffle', () => new nn.PixelShuffle(2), 'nn.PixelShuffle(2)', [x2d]],
  ['PixelUnshuffle', () => new nn.PixelUnshuffle(2), 'nn.PixelUnshuffle(2)', [r(1, 2, 4, 6)]],
  ['ChannelShuffle', () => new nn.ChannelShuffle(2), 'nn.ChannelShuffle(2)', [x2d]],
  ['Upsample nearest', () => new nn.Upsample(null, 2), 'nn.Upsample(None, 2)', [x2d]],
  ['Upsample linear', () => new nn.Upsample(13, null, 'linear', true), "nn.Upsample(13, None, 'linear', True)", [x1d]],
  [
    'Upsample bicubic',
    () => new nn.Upsample({ scaleFactor: [1.5, 2], mode: 'bicubic' }),
    "nn.Upsample(scale_factor=(1.5, 2.0), mode='bicubic')",
    [x2d],
  ],
  ['Upsample trilinear', () => new nn.Upsample([6, 7, 8], null, 'trilinear'), "nn.Upsample((6, 7, 8), None, 'trilinear')", [x3d]],
  [
    'Upsample nearest-exact',
    () => new nn.Upsample({ size: [5, 11], mode: 'nearest-exact' }),
    "nn.Upsample(size=(5, 11), mode='nearest-exact')",
    [x2d],
  ],
  ['Upsample area', () => new nn.Upsample({ scaleFactor: 0.5, mode: 'area' }), "nn.Upsample(scale_factor=0.5, mode='area')", [x2d]],
  ['UpsamplingNearest2d', () => new nn.UpsamplingNearest2d([9, 9]), 'nn.UpsamplingNearest2d((9, 9))', [x2d]],
  ['UpsamplingBilinear2d', () => new nn.UpsamplingBilinear2d(null, 2), 'nn.UpsamplingBilinear2d(None, 2)', [x2d]],
  ['CosineSimilarity', () => new nn.CosineSimilarity(0), 'nn.CosineSimilarity(0)', [vec, prob]],
  ['PairwiseDistance', () => new nn.PairwiseDistance(1, 1e-6, true), 'nn.PairwiseDistance(1, 1e-6, True)', [vec, prob]],
  // recurrent layers (the output sequence; the final states are checked below)
  ['RNN', () => new nn.RNN(4, 6), 'nn.RNN(4, 6)', [x1d.permute(2, 0, 1)]],
  [
    'RNN relu, 2 layers, bidirectional, batch first',
    () => new nn.RNN(4, 5, 2, 'relu', true, true, 0, true),
    "nn.RNN(4, 5, 2, 'relu', True, True, 0.0, True)",
    [x1d.transpose(1, 2)],
  ],
  ['LSTM', () => new nn.LSTM(4, 6), 'nn.LSTM(4, 6)', [x1d.permute(2, 0, 1)]],
  [
    'LSTM 2 layers, proj, bidirectional, no bias',
    () => new nn.LSTM(4, 6, 2, false, false, 0, true, 3),
    'nn.LSTM(4, 6, 2, False, False, 0.0, True, 3)',
    [x1d.permute(2, 0, 1)],
  ],
  ['LSTM unbatched', () => new nn.LSTM(4, 3, { batchFirst: true }), 'nn.LSTM(4, 3, batch_first=True)', [x1d.select(0, 0).t()]],
  [
    'LSTM dropout in training',
    () => new nn.LSTM(4, 5, 3, true, false, 0.4),
    'nn.LSTM(4, 5, 3, True, False, 0.4)',
    [x1d.permute(2, 0, 1)],
    { train: true, seed: true },
  ],
  ['GRU', () => new nn.GRU(4, 6, 2, true, true), 'nn.GRU(4, 6, 2, True, True)', [x1d.transpose(1, 2)]],
  ['GRU bidirectional', () => new nn.GRU(4, 3, { bidirectional: true }), 'nn.GRU(4, 3, bidirectional=True)', [x1d.permute(2, 0, 1)]],
  ['RNNCell', () => new nn.RNNCell(10, 4, true, 'relu'), "nn.RNNCell(10, 4, True, 'relu')", [vec]],
  ['LSTMCell', () => new nn.LSTMCell(10, 4), 'nn.LSTMCell(10, 4)', [vec]],
  ['GRUCell unbatched', () => new nn.GRUCell(10, 4, false), 'nn.GRUCell(10, 4, False)', [vec.select(0, 1)]],
  // attention and transformers (eval: Python's reference path, as its parameters need gradients)
  ['MultiheadAttention', () => new nn.MultiheadAttention(8, 2), 'nn.MultiheadAttention(8, 2)', [r(5, 2, 8), r(7, 2, 8), r(7, 2, 8)]],
  [
    'MultiheadAttention kdim/vdim, bias_kv, zero attn, batch first',
    () => new nn.MultiheadAttention(8, 4, 0, true, true, true, 6, 4, true),
    'nn.MultiheadAttention(8, 4, 0.0, True, True, True, 6, 4, True)',
    [r(2, 5, 8), r(2, 7, 6), r(2, 7, 4)],
  ],
  [
    'MultiheadAttention dropout in training',
    () => new nn.MultiheadAttention(8, 2, 0.3, false),
    'nn.MultiheadAttention(8, 2, 0.3, False)',
    [r(5, 2, 8), r(5, 2, 8), r(5, 2, 8)],
    { train: true, seed: true },
  ],
  ['TransformerEncoderLayer', () => new nn.TransformerEncoderLayer(8, 2, 16, 0), 'nn.TransformerEncoderLayer(8, 2, 16, 0.0)', [r(5, 2, 8)]],
  [
    'TransformerEncoderLayer gelu, batch first, norm first',
    () => new nn.TransformerEncoderLayer(8, 2, 16, 0.1, 'gelu', 1e-6, true, true),
    "nn.TransformerEncoderLayer(8, 2, 16, 0.1, 'gelu', 1e-6, True, True)",
    [r(2, 5, 8)],
    { train: true, seed: true },
  ],
  [
    'TransformerDecoderLayer',
    () => new nn.TransformerDecoderLayer(8, 2, 16, 0),
    'nn.TransformerDecoderLayer(8, 2, 16, 0.0)',
    [r(4, 2, 8), r(5, 2, 8)],
  ],
  [
    'TransformerEncoder',
    () => new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, 16, 0), 2, new nn.LayerNorm(8)),
    'nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2, nn.LayerNorm(8))',
    [r(5, 2, 8)],
  ],
  // (a module as activation is tested on a bare layer: Python's deepcopy of a layer turns one into relu, a PyTorch bug not copied here)
  [
    'TransformerDecoderLayer with an activation module',
    () => new nn.TransformerDecoderLayer(8, 2, 16, 0, new nn.GELU()),
    'nn.TransformerDecoderLayer(8, 2, 16, 0.0, nn.GELU())',
    [r(4, 2, 8), r(5, 2, 8)],
  ],
  [
    'TransformerDecoder',
    () => new nn.TransformerDecoder(new nn.TransformerDecoderLayer(8, 2, 16, 0, 'gelu'), 2),
    "nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0, 'gelu'), 2)",
    [r(4, 2, 8), r(5, 2, 8)],
  ],
  ['Transformer', () => new nn.Transformer(8, 2, 2, 1, 16, 0), 'nn.Transformer(8, 2, 2, 1, 16, 0.0)', [r(5, 2, 8), r(4, 2, 8)]],
  // losses
  ['L1Loss', () => new nn.L1Loss(), 'nn.L1Loss()', [vec, prob]],
  ['MSELoss sum', () => new nn.MSELoss({ reduction: 'sum' }), "nn.MSELoss(reduction='sum')", [vec, prob]],
  [
    'CrossEntropyLoss weighted',
    () => new nn.CrossEntropyLoss(prob.select(0, 0).float().double(), null, 2, null, 'mean', 0.1),
    "nn.CrossEntropyLoss(weight, None, 2, None, 'mean', 0.1)",
    [vec, cls],
  ],
  ['NLLLoss', () => new nn.NLLLoss(), 'nn.NLLLoss()', [vec.logSoftmax(1), cls]],
  ['BCELoss', () => new nn.BCELoss(), 'nn.BCELoss()', [prob, binLabel]],
  [
    'BCEWithLogitsLoss posWeight',
    () => new nn.BCEWithLogitsLoss({ posWeight: prob.select(0, 1) }),
    'nn.BCEWithLogitsLoss(pos_weight=pw)',
    [vec, binLabel],
  ],
  ['HuberLoss', () => new nn.HuberLoss('sum', 0.5), "nn.HuberLoss('sum', 0.5)", [vec, prob]],
  ['SmoothL1Loss', () => new nn.SmoothL1Loss(null, null, 'mean', 0.3), "nn.SmoothL1Loss(None, None, 'mean', 0.3)", [vec, prob]],
  ['KLDivLoss batchmean', () => new nn.KLDivLoss({ reduction: 'batchmean' }), "nn.KLDivLoss(reduction='batchmean')", [vec.logSoftmax(1), prob]],
  ['KLDivLoss logTarget', () => new nn.KLDivLoss(null, null, 'sum', true), "nn.KLDivLoss(None, None, 'sum', True)", [vec.logSoftmax(1), prob.log()]],
  ['PoissonNLLLoss', () => new nn.PoissonNLLLoss(false, true), 'nn.PoissonNLLLoss(False, True)', [prob.add(0.5), prob.mul(3)]],
  ['GaussianNLLLoss', () => new nn.GaussianNLLLoss({ full: true }), 'nn.GaussianNLLLoss(full=True)', [vec, prob, prob.add(0.2)]],
  ['GaussianNLLLoss homoscedastic', () => new nn.GaussianNLLLoss(), 'nn.GaussianNLLLoss()', [vec, prob, prob.select(1, 0).add(0.1)]],
  ['CTCLoss', () => new nn.CTCLoss(0, 'sum'), "nn.CTCLoss(0, 'sum')", [seq, ctcTargets, torch.tensor([12, 10]), torch.tensor([4, 3])]],
  ['MarginRankingLoss', () => new nn.MarginRankingLoss(0.2), 'nn.MarginRankingLoss(0.2)', [vec.select(1, 0), prob.select(1, 0), sign]],
  ['HingeEmbeddingLoss', () => new nn.HingeEmbeddingLoss(0.5), 'nn.HingeEmbeddingLoss(0.5)', [vec.select(1, 0), sign]],
  ['CosineEmbeddingLoss', () => new nn.CosineEmbeddingLoss(0.1), 'nn.CosineEmbeddingLoss(0.1)', [vec, prob, sign]],
  ['TripletMarginLoss', () => new nn.TripletMarginLoss(1, 2, 1e-6, true), 'nn.TripletMarginLoss(1.0, 2.0, 1e-6, True)', [vec, prob, prob.flip(0)]],
  [
    'TripletMarginWithDistanceLoss',
    () => new nn.TripletMarginWithDistanceLoss({ swap: true, margin: 0.5 }),
    'nn.TripletMarginWithDistanceLoss(swap=True, margin=0.5)',
    [vec, prob, prob.flip(0)],
  ],
  ['MultiLabelMarginLoss', () => new nn.MultiLabelMarginLoss(), 'nn.MultiLabelMarginLoss()', [vec, multiLabel]],
  ['MultiLabelSoftMarginLoss', () => new nn.MultiLabelSoftMarginLoss(), 'nn.MultiLabelSoftMarginLoss()', [vec, binLabel]],
  ['MultiMarginLoss', () => new nn.MultiMarginLoss(2, 0.5), 'nn.MultiMarginLoss(2, 0.5)', [vec, cls]],
  ['SoftMarginLoss', () => new nn.SoftMarginLoss(), 'nn.SoftMarginLoss()', [vec.select(1, 0), sign], { grads: 1 }],
  [
    'AdaptiveLogSoftmaxWithLoss',
    () => new nn.AdaptiveLogSoftmaxWithLoss(10, 12, [3, 7], 2, true),
    'nn.AdaptiveLogSoftmaxWithLoss(10, 12, [3, 7], 2.0, True)',
    [r(6, 10), torch.tensor([0, 5, 11, 2, 8, 6])],
  ],
  [
    'LinearCrossEntropyLoss',
    () => new nn.LinearCrossEntropyLoss(10, 5, { bias: true, labelSmoothing: 0.1 }),
    'nn.LinearCrossEntropyLoss(10, 5, bias=True, label_smoothing=0.1)',
    [vec, cls],
  ],
  [
    'LinearCrossEntropyLoss K-dimensional',
    () => new nn.LinearCrossEntropyLoss(10, 5, { outFeatures: [2], reduction: 'sum', ignoreIndex: 0 }),
    "nn.LinearCrossEntropyLoss(10, 5, out_features=(2,), reduction='sum', ignore_index=0)",
    [
      vec,
      torch.tensor([
        [1, 0],
        [4, 2],
        [3, 3],
      ]),
    ],
  ],
];
const extras = { weight: prob.select(0, 0).float().double(), pw: prob.select(0, 1) };

const PY = `
torch.manual_seed(seed)
m = eval(ctor, {'nn': torch.nn, 'torch': torch, **extras}).double()
info = [repr(m), list(m.state_dict().keys())]
m.load_state_dict(state, strict=True)
m.train(train)
xs = [x.clone().requires_grad_(x.is_floating_point() and i < grads) for i, x in enumerate(xs)]
if reseed: torch.manual_seed(1234)
o = m(*xs)
o = o[0] if isinstance(o, tuple) else o
if o.requires_grad: o.sum().backward()
out = info + [o.detach(), [x.grad for x in xs], [p.grad for _, p in m.named_parameters()], m.state_dict()]
`;

describe("torch.nn layers equal Python's", () => {
  it.each(cases)('%s', async (_name, make, ctor, xs, opts = {}) => {
    torch.manualSeed(3);
    const m = make().to('float64');
    m.train(!!opts.train);
    // a copy: the forward may update the state in place (running statistics, max_norm renormalisation)
    const state = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.clone()]));
    const needGrad = opts.grads ?? xs.length;
    const inputs = xs.map((x, i) => (x.isFloatingPoint() && i < needGrad ? x.clone().requiresGrad_(true) : x));
    if (opts.seed) torch.manualSeed(1234);
    let o = (m as torch.nn.AnyModule)(...inputs) as Tensor | Tensor[];
    o = Array.isArray(o) ? o[0] : o;
    if (o.requiresGrad) o.sum().backward();
    const [repr, keys, out, grads, paramGrads, after] = await py.run<
      [string, string[], Tensor, (Tensor | null)[], (Tensor | null)[], Record<string, Tensor>]
    >(PY, { seed: 3, ctor, state, xs, grads: needGrad, train: !!opts.train, reseed: !!opts.seed, extras });
    expect(String(m), 'repr').toBe(repr);
    expect(Object.keys(state), 'state-dict keys').toEqual(keys);
    const tol = opts.tol ?? { rtol: 1e-10, atol: 1e-12 };
    expectClose(o.detach(), out, tol);
    inputs.forEach((x, i) => {
      if (grads[i] === null) expect(x.grad ?? null, `input ${i} grad`).toBeNull();
      else expectClose(x.grad!, grads[i]!, tol);
    });
    const params = [...m.namedParameters()];
    expect(params.length, 'parameter count').toBe(paramGrads.length);
    params.forEach(([name, p], i) => {
      if (paramGrads[i] === null) expect(p.grad ?? null, `${name} grad`).toBeNull();
      else expectClose(p.grad!, paramGrads[i]!, tol);
    });
    const now = m.stateDict();
    for (const [k, v] of Object.entries(after)) expectClose(now[k], v, tol);
  });
});

// The functionals, called directly with Python's positional arguments (those the modules above reach,
// and those no module wraps): [name, torchnode, Python code computing `out`].
const [pooled2, indices2] = F.maxPool2dWithIndices(x2d, 2);
const [pooled1, indices1] = F.maxPool1dWithIndices(x1d, 2, null, 0, 1, false);
const [pooled1b] = F.maxPool1d(x1d, 2, null, 0, 1, false, true) as unknown as Tensor[];
const [pooled3, indices3] = F.maxPool3dWithIndices(x3d, 2);
const theta = torch.tensor(
  [
    [
      [0.9, -0.2, 0.1],
      [0.3, 1.1, -0.1],
    ],
    [
      [1, 0, 0],
      [0, 1, 0],
    ],
  ],
  { dtype: 'float64' },
);
const grid = F.affineGrid(theta, [2, 4, 5, 6], false);
const fx = {
  x1d,
  x2d,
  x3d,
  vec,
  prob,
  pos,
  ids,
  flat,
  offsets,
  cls,
  sign,
  binLabel,
  multiLabel,
  seq,
  ctcTargets,
  pooled1,
  indices1,
  pooled2,
  indices2,
  pooled3,
  indices3,
  theta,
  grid,
  w1: r(6, 4, 3),
  w3: r(2, 4, 3, 3, 3),
  wt: r(4, 3, 3),
  table: r(10, 3),
  wb: r(3, 10, 10),
  g: r(7, 8),
  c4: r(4),
  q: r(5, 2, 4),
  inW: r(12, 4),
  inB: r(12),
  outW: r(4, 4),
  outB: r(4),
};
type FnCase = [string, () => Tensor | Tensor[], string];
const fnCases: FnCase[] = [
  ['selu', () => F.selu(vec), 'F.selu(vec)'],
  ['logsigmoid', () => F.logsigmoid(vec), 'F.logsigmoid(vec)'],
  ['tanhshrink', () => F.tanhshrink(vec), 'F.tanhshrink(vec)'],
  ['softsign', () => F.softsign(vec), 'F.softsign(vec)'],
  ['hardshrink', () => F.hardshrink(vec, 0.7), 'F.hardshrink(vec, 0.7)'],
  ['softshrink', () => F.softshrink(vec, 0.3), 'F.softshrink(vec, 0.3)'],
  ['prelu', () => F.prelu(x2d, fx.c4), 'F.prelu(x2d, c4)'],
  ['softmin', () => F.softmin(vec, 1), 'F.softmin(vec, 1)'],
  ['celu', () => F.celu(vec, 0.7), 'F.celu(vec, 0.7)'],
  ['rrelu eval', () => F.rrelu(vec, 0.1, 0.2), 'F.rrelu(vec, 0.1, 0.2)'],
  ['threshold', () => F.threshold(vec, 0.2, -3), 'F.threshold(vec, 0.2, -3.0)'],
  ['glu', () => F.glu(vec, 1), 'F.glu(vec, 1)'],
  [
    'gumbelSoftmax hard',
    () => (torch.manualSeed(5), F.gumbelSoftmax(vec, 0.5, true)),
    'torch.manual_seed(5); out = F.gumbel_softmax(vec, 0.5, True)',
  ],
  ['normalize', () => F.normalize(vec, 1, 0), 'F.normalize(vec, 1.0, 0)'],
  ['oneHot', () => F.oneHot(cls, 6), 'F.one_hot(cls, 6)'],
  ['conv1d', () => F.conv1d(x1d, fx.w1, null, 2, 1), 'F.conv1d(x1d, w1, None, 2, 1)'],
  ['conv3d', () => F.conv3d(x3d, fx.w3, null, 1, 'same'), "F.conv3d(x3d, w3, None, 1, 'same')"],
  ['convTranspose1d', () => F.convTranspose1d(x1d, fx.wt, null, 2, 1, 1), 'F.conv_transpose1d(x1d, wt, None, 2, 1, 1)'],
  ['convTranspose2d', () => F.convTranspose2d(x2d, fx.wt.unsqueeze(-1), null, [2, 1]), 'F.conv_transpose2d(x2d, wt.unsqueeze(-1), None, (2, 1))'],
  ['convTranspose3d', () => F.convTranspose3d(x3d, fx.wt.unsqueeze(-1).unsqueeze(-1)), 'F.conv_transpose3d(x3d, wt[..., None, None])'],
  ['unfold', () => F.unfold(x2d, 3, 1, 1, 2), 'F.unfold(x2d, 3, 1, 1, 2)'],
  ['fold', () => F.fold(F.unfold(x2d, 2), [7, 8], 2), 'F.fold(F.unfold(x2d, 2), (7, 8), 2)'],
  ['maxPool1d indices', () => [pooled1b, indices1], 'F.max_pool1d(x1d, 2, None, 0, 1, False, True)'],
  ['maxPool2dWithIndices', () => [pooled2, indices2], 'F.max_pool2d_with_indices(x2d, 2)'],
  ['maxPool3dWithIndices', () => [pooled3, indices3], 'F.max_pool3d_with_indices(x3d, 2)'],
  ['maxPool1d', () => F.maxPool1d(x1d, 3, 2), 'F.max_pool1d(x1d, 3, 2)'],
  ['maxPool3d', () => F.maxPool3d(x3d, 2, 1), 'F.max_pool3d(x3d, 2, 1)'],
  ['avgPool1d', () => F.avgPool1d(x1d, 3, 2, 1), 'F.avg_pool1d(x1d, 3, 2, 1)'],
  ['avgPool3d', () => F.avgPool3d(x3d, 2, null, 1, true), 'F.avg_pool3d(x3d, 2, None, 1, True)'],
  ['adaptiveAvgPool1d', () => F.adaptiveAvgPool1d(x1d, 5), 'F.adaptive_avg_pool1d(x1d, 5)'],
  ['adaptiveMaxPool1d indices', () => F.adaptiveMaxPool1d(x1d, 4, true), 'F.adaptive_max_pool1d(x1d, 4, True)'],
  ['adaptiveMaxPool3d', () => F.adaptiveMaxPool3d(x3d, [2, null, 3]), 'F.adaptive_max_pool3d(x3d, (2, None, 3))'],
  ['lpPool1d', () => F.lpPool1d(pos.flatten(2), 3, 2), 'F.lp_pool1d(pos.flatten(2), 3, 2)'],
  ['lpPool2d', () => F.lpPool2d(pos, 2, 3, 2), 'F.lp_pool2d(pos, 2, 3, 2)'],
  ['lpPool3d', () => F.lpPool3d(x3d.abs(), 1, 2), 'F.lp_pool3d(x3d.abs(), 1, 2)'],
  ['maxUnpool1d', () => F.maxUnpool1d(pooled1, indices1, 2), 'F.max_unpool1d(pooled1, indices1, 2)'],
  ['maxUnpool2d output size', () => F.maxUnpool2d(pooled2, indices2, 2, null, 0, [7, 8]), 'F.max_unpool2d(pooled2, indices2, 2, None, 0, (7, 8))'],
  ['maxUnpool3d', () => F.maxUnpool3d(pooled3, indices3, 2, null, 0, [5, 6, 5]), 'F.max_unpool3d(pooled3, indices3, 2, None, 0, (5, 6, 5))'],
  [
    'fractionalMaxPool2d indices',
    () => (torch.manualSeed(9), F.fractionalMaxPool2d(x2d, 2, [3, 4], null, true)),
    'torch.manual_seed(9); out = F.fractional_max_pool2d(x2d, 2, (3, 4), None, True)',
  ],
  [
    'fractionalMaxPool3d',
    () => (torch.manualSeed(9), F.fractionalMaxPool3d(x3d, 2, null, 0.5)),
    'torch.manual_seed(9); out = F.fractional_max_pool3d(x3d, 2, None, 0.5)',
  ],
  ['layerNorm', () => F.layerNorm(x2d, [8], fx.g.select(0, 0), null, 1e-3), 'F.layer_norm(x2d, [8], g[0], None, 1e-3)'],
  ['rmsNorm', () => F.rmsNorm(x2d, [7, 8], fx.g), 'F.rms_norm(x2d, [7, 8], g)'],
  ['groupNorm', () => F.groupNorm(x2d, 4, fx.c4, fx.c4), 'F.group_norm(x2d, 4, c4, c4)'],
  ['instanceNorm', () => F.instanceNorm(x1d, null, null, fx.c4), 'F.instance_norm(x1d, None, None, c4)'],
  ['localResponseNorm', () => F.localResponseNorm(x3d, 3, 1e-2), 'F.local_response_norm(x3d, 3, 1e-2)'],
  ['dropout1d', () => (torch.manualSeed(4), F.dropout1d(x1d.select(0, 0), 0.5)), 'torch.manual_seed(4); out = F.dropout1d(x1d[0], 0.5)'],
  ['dropout2d', () => (torch.manualSeed(4), F.dropout2d(x2d, 0.3, true)), 'torch.manual_seed(4); out = F.dropout2d(x2d, 0.3, True)'],
  ['dropout3d', () => (torch.manualSeed(4), F.dropout3d(x3d, 0.3)), 'torch.manual_seed(4); out = F.dropout3d(x3d, 0.3)'],
  ['alphaDropout', () => (torch.manualSeed(4), F.alphaDropout(vec, 0.3, true)), 'torch.manual_seed(4); out = F.alpha_dropout(vec, 0.3, True)'],
  [
    'featureAlphaDropout',
    () => (torch.manualSeed(4), F.featureAlphaDropout(x2d, 0.3, true)),
    'torch.manual_seed(4); out = F.feature_alpha_dropout(x2d, 0.3, True)',
  ],
  ['pixelShuffle', () => F.pixelShuffle(x2d, 2), 'F.pixel_shuffle(x2d, 2)'],
  ['pixelUnshuffle', () => F.pixelUnshuffle(x2d.narrow(3, 0, 6).narrow(2, 0, 6), 3), 'F.pixel_unshuffle(x2d[..., :6, :6], 3)'],
  ['channelShuffle', () => F.channelShuffle(x2d, 2), 'F.channel_shuffle(x2d, 2)'],
  ['bilinear', () => F.bilinear(vec, prob, fx.wb), 'F.bilinear(vec, prob, wb)'],
  ['cosineSimilarity', () => F.cosineSimilarity(vec, prob, 0), 'F.cosine_similarity(vec, prob, 0)'],
  ['pairwiseDistance', () => F.pairwiseDistance(vec, prob, 3), 'F.pairwise_distance(vec, prob, 3)'],
  ['pdist', () => F.pdist(vec, 1), 'F.pdist(vec, 1)'],
  ['upsample', () => F.upsample(x1d, null, 2, 'linear'), "F.upsample(x1d, None, 2, 'linear')"],
  ['upsampleNearest', () => F.upsampleNearest(x2d, [9, 10]), 'F.upsample_nearest(x2d, (9, 10))'],
  ['upsampleBilinear', () => F.upsampleBilinear(x2d, null, 2), 'F.upsample_bilinear(x2d, None, 2)'],
  [
    'interpolate antialias',
    () => F.interpolate(x2d, [4, 5], null, 'bilinear', false, null, true),
    "F.interpolate(x2d, (4, 5), None, 'bilinear', False, None, True)",
  ],
  [
    'interpolate bicubic antialias',
    () => F.interpolate(x2d, { size: [3, 3], mode: 'bicubic', antialias: true }),
    "F.interpolate(x2d, size=(3, 3), mode='bicubic', antialias=True)",
  ],
  ['interpolate recompute', () => F.interpolate(x2d, null, 1.7, 'bilinear', true, true), "F.interpolate(x2d, None, 1.7, 'bilinear', True, True)"],
  ['affineGrid', () => grid, 'F.affine_grid(theta, [2, 4, 5, 6], False)'],
  [
    'gridSample',
    () => F.gridSample(x2d, grid.narrow(1, 0, 3), 'bilinear', 'reflection', true),
    "F.grid_sample(x2d, grid[:, :3], 'bilinear', 'reflection', True)",
  ],
  ['gridSample nearest', () => F.gridSample(x2d, grid, 'nearest'), "F.grid_sample(x2d, grid, 'nearest')"],
  ['huberLoss', () => F.huberLoss(vec, prob, 'none', 0.4), "F.huber_loss(vec, prob, 'none', 0.4)"],
  ['huberLoss weight', () => F.huberLoss(vec, prob, 'mean', 1, binLabel), "F.huber_loss(vec, prob, 'mean', 1.0, binLabel)"],
  ['klDiv', () => F.klDiv(vec.logSoftmax(1), prob, null, null, 'sum'), "F.kl_div(vec.log_softmax(1), prob, None, None, 'sum')"],
  ['poissonNllLoss', () => F.poissonNllLoss(vec, prob), 'F.poisson_nll_loss(vec, prob)'],
  [
    'gaussianNllLoss float var',
    () => F.gaussianNllLoss(vec, prob, 0.5, false, 1e-6, 'sum'),
    "F.gaussian_nll_loss(vec, prob, 0.5, False, 1e-6, 'sum')",
  ],
  ['ctcLoss lists', () => F.ctcLoss(seq, ctcTargets, [12, 11], [4, 2], 0, 'none'), "F.ctc_loss(seq, ctcTargets, [12, 11], [4, 2], 0, 'none')"],
  [
    'marginRankingLoss',
    () => F.marginRankingLoss(vec.select(1, 0), prob.select(1, 0), sign, 0.1),
    'F.margin_ranking_loss(vec[:, 0], prob[:, 0], sign, 0.1)',
  ],
  ['hingeEmbeddingLoss', () => F.hingeEmbeddingLoss(vec.select(1, 0), sign, 2), 'F.hinge_embedding_loss(vec[:, 0], sign, 2.0)'],
  [
    'cosineEmbeddingLoss',
    () => F.cosineEmbeddingLoss(vec, prob, sign, 0.3, null, null, 'none'),
    "F.cosine_embedding_loss(vec, prob, sign, 0.3, None, None, 'none')",
  ],
  ['tripletMarginLoss', () => F.tripletMarginLoss(vec, prob, prob.flip(0), 2, 1), 'F.triplet_margin_loss(vec, prob, prob.flip(0), 2.0, 1.0)'],
  [
    'tripletMarginWithDistanceLoss',
    () => F.tripletMarginWithDistanceLoss(vec, prob, prob.flip(0), { distanceFunction: (a, b) => F.cosineSimilarity(a, b).neg().add(1) }),
    'F.triplet_margin_with_distance_loss(vec, prob, prob.flip(0), distance_function=lambda a, b: 1 - F.cosine_similarity(a, b))',
  ],
  ['multilabelMarginLoss', () => F.multilabelMarginLoss(vec, multiLabel), 'F.multilabel_margin_loss(vec, multiLabel)'],
  [
    'softMarginLoss',
    () => F.softMarginLoss(vec, binLabel.mul(2).sub(1), null, null, 'sum'),
    "F.soft_margin_loss(vec, binLabel * 2 - 1, None, None, 'sum')",
  ],
  [
    'multilabelSoftMarginLoss',
    () => F.multilabelSoftMarginLoss(vec, binLabel, prob.select(0, 0)),
    'F.multilabel_soft_margin_loss(vec, binLabel, prob[0])',
  ],
  ['multiMarginLoss', () => F.multiMarginLoss(vec, cls, 1, 0.5, prob.select(0, 1)), 'F.multi_margin_loss(vec, cls, 1, 0.5, prob[1])'],
  ['embedding', () => F.embedding(ids, fx.table, 2), 'F.embedding(ids, table, 2)'],
  // the in-place forms, on copies
  ['relu_', () => F.relu_(vec.clone()), 'F.relu_(vec.clone())'],
  ['elu_', () => F.elu_(vec.clone(), 0.5), 'F.elu_(vec.clone(), 0.5)'],
  ['celu_', () => F.celu_(vec.clone(), 2), 'F.celu_(vec.clone(), 2.0)'],
  ['selu_', () => F.selu_(vec.clone()), 'F.selu_(vec.clone())'],
  ['leakyRelu_', () => F.leakyRelu_(vec.clone(), 0.2), 'F.leaky_relu_(vec.clone(), 0.2)'],
  ['hardtanh_', () => F.hardtanh_(vec.clone(), -0.5, 0.5), 'F.hardtanh_(vec.clone(), -0.5, 0.5)'],
  ['rrelu_', () => F.rrelu_(vec.clone(), 0.1, 0.3), 'F.rrelu_(vec.clone(), 0.1, 0.3)'],
  ['threshold_', () => F.threshold_(vec.clone(), 0.1, 9), 'F.threshold_(vec.clone(), 0.1, 9.0)'],
  [
    'convTbc',
    () => F.convTbc(x1d.permute(2, 0, 1).contiguous(), fx.w1.permute(2, 1, 0).contiguous(), fx.c4.narrow(0, 0, 4).repeat(2).narrow(0, 0, 6), 1),
    'F.conv_tbc(x1d.permute(2, 0, 1).contiguous(), w1.permute(2, 1, 0).contiguous(), c4[:4].repeat(2)[:6], 1)',
  ],
  ['adaptiveMaxPool1dWithIndices', () => F.adaptiveMaxPool1dWithIndices(x1d, 4), 'F.adaptive_max_pool1d_with_indices(x1d, 4)'],
  ['adaptiveMaxPool2dWithIndices', () => F.adaptiveMaxPool2dWithIndices(x2d, [3, 4]), 'F.adaptive_max_pool2d_with_indices(x2d, (3, 4))'],
  ['adaptiveMaxPool3dWithIndices', () => F.adaptiveMaxPool3dWithIndices(x3d, 2), 'F.adaptive_max_pool3d_with_indices(x3d, 2)'],
  [
    'fractionalMaxPool2dWithIndices',
    () => (torch.manualSeed(9), F.fractionalMaxPool2dWithIndices(x2d, 2, [3, 4])),
    'torch.manual_seed(9); out = F.fractional_max_pool2d_with_indices(x2d, 2, (3, 4))',
  ],
  [
    'fractionalMaxPool3dWithIndices',
    () => (torch.manualSeed(9), F.fractionalMaxPool3dWithIndices(x3d, 2, null, 0.5)),
    'torch.manual_seed(9); out = F.fractional_max_pool3d_with_indices(x3d, 2, None, 0.5)',
  ],
  ['nativeChannelShuffle', () => F.nativeChannelShuffle(x2d, 2), 'F.native_channel_shuffle(x2d, 2)'],
  [
    'linearCrossEntropy',
    () => F.linearCrossEntropy(vec, fx.wb.select(0, 0), cls, { linearBias: fx.wb.select(0, 1).select(0, 0), labelSmoothing: 0.2 }),
    'F.linear_cross_entropy(vec, wb[0], cls, linear_bias=wb[1, 0], label_smoothing=0.2)',
  ],
  [
    'multiHeadAttentionForward',
    () => F.multiHeadAttentionForward(fx.q, fx.q, fx.q, 4, 2, fx.inW, fx.inB, null, null, false, 0, fx.outW, fx.outB) as Tensor[],
    'F.multi_head_attention_forward(q, q, q, 4, 2, inW, inB, None, None, False, 0.0, outW, outB)',
  ],
  [
    'embeddingBag offsets',
    () => F.embeddingBag(flat, fx.table, offsets, null, 2, false, 'sum', false, null, true),
    "F.embedding_bag(flat, table, offsets, None, 2, False, 'sum', False, None, True)",
  ],
];

describe("torch.nn.functional equals Python's, called with positional arguments", () => {
  it.each(fnCases)('%s', async (_name, js, code) => {
    const got = js();
    const want = await py.run<Tensor | Tensor[]>(code.includes('out =') ? code : `out = ${code}`, fx);
    const list = Array.isArray(got) ? got : [got];
    const wants = Array.isArray(want) ? want : [want];
    expect(list.length).toBe(wants.length);
    list.forEach((t, i) => expectClose(t.detach(), wants[i], { rtol: 1e-10, atol: 1e-12 }));
  });
});

describe('max unpooling modules', () => {
  it.each([
    ['MaxUnpool1d', () => new nn.MaxUnpool1d(2), 'nn.MaxUnpool1d(2)', pooled1, indices1, null],
    ['MaxUnpool2d', () => new nn.MaxUnpool2d(2, 2), 'nn.MaxUnpool2d(2, 2)', pooled2, indices2, [7, 8]],
    ['MaxUnpool3d', () => new nn.MaxUnpool3d([2, 2, 2]), 'nn.MaxUnpool3d((2, 2, 2))', pooled3, indices3, [5, 6, 5]],
  ] as [string, () => Module, string, Tensor, Tensor, number[] | null][])('%s', async (_name, make, ctor, input, indices, size) => {
    const m = make();
    const [repr, out] = await py.run<[string, Tensor]>('m = eval(ctor, {"nn": torch.nn}); out = [repr(m), m(x, i, size)]', {
      ctor,
      x: input,
      i: indices,
      size,
    });
    expect(String(m)).toBe(repr);
    expectClose((m as unknown as (x: Tensor, i: Tensor, s: number[] | null) => Tensor)(input, indices, size), out, { rtol: 0, atol: 0 });
  });
});

describe('recurrent layers: states, packed sequences, and the LSTM helpers', () => {
  const seqs = [r(5, 4), r(3, 4), r(6, 4)];
  const fixed = { seqs, h0: r(4, 2, 6), c0: r(4, 2, 6), x: x1d.permute(2, 0, 1) };

  it("LSTM with initial states: output, h_n, c_n and every gradient equal Python's", async () => {
    torch.manualSeed(1);
    const lstm = new nn.LSTM(4, 6, 2, { bidirectional: true }).to('float64');
    const [h0, c0] = [fixed.h0.clone().requiresGrad_(true), fixed.c0.clone().requiresGrad_(true)];
    const [out, [hn, cn]] = lstm(fixed.x, [h0, c0]) as unknown as [Tensor, [Tensor, Tensor]];
    out.sum().add(hn.mul(2).sum()).add(cn.mul(3).sum()).backward();
    const ref = await py.run<Tensor[]>(
      `m = torch.nn.LSTM(4, 6, 2, bidirectional=True).double()
m.load_state_dict(state)
h0 = h0.clone().requires_grad_(); c0 = c0.clone().requires_grad_()
out, (hn, cn) = m(x, (h0, c0))
(out.sum() + (hn * 2).sum() + (cn * 3).sum()).backward()
out = [out, hn, cn, h0.grad, c0.grad] + [p.grad for p in m.parameters()]`,
      { ...fixed, state: lstm.stateDict() },
    );
    const got = [out, hn, cn, h0.grad!, c0.grad!, ...[...lstm.parameters()].map((p) => p.grad!)];
    got.forEach((t, i) => expectClose(t.detach(), ref[i], { rtol: 1e-10, atol: 1e-12 }));
  });

  it("a PackedSequence through a GRU, unsorted, and back: Python's outputs, lengths and states", async () => {
    torch.manualSeed(2);
    const gru = new nn.GRU(4, 5, { batchFirst: true }).to('float64');
    const padded = nn.utils.rnn.padSequence(seqs, true);
    const packed = nn.utils.rnn.packPaddedSequence(padded, [5, 3, 6], true, false);
    const [out, hn] = gru(packed) as unknown as [torch.nn.utils.rnn.PackedSequence, Tensor];
    const [unpacked, lengths] = nn.utils.rnn.padPackedSequence(out, true, -1);
    const again = nn.utils.rnn.unpackSequence(nn.utils.rnn.packSequence(seqs, false));
    const ref = await py.run<Tensor[]>(
      `from torch.nn.utils.rnn import *
m = torch.nn.GRU(4, 5, batch_first=True).double()
m.load_state_dict(state)
packed = pack_padded_sequence(pad_sequence(seqs, True), [5, 3, 6], True, False)
out, hn = m(packed)
unpacked, lengths = pad_packed_sequence(out, True, -1.0)
out = [packed.data, packed.batch_sizes, packed.sorted_indices, out.data, hn, unpacked, lengths]`,
      { seqs, state: gru.stateDict() },
    );
    const got = [packed.data, packed.batchSizes, packed.sortedIndices!, out.data, hn, unpacked, lengths];
    got.forEach((t, i) => expectClose(t, ref[i], { rtol: 1e-10, atol: 1e-12 }));
    again.forEach((t, i) => expectClose(t, seqs[i], { rtol: 0, atol: 0 }));
  });

  it("bad input is Python's error", () => {
    const lstm = new nn.LSTM(4, 6);
    expect(() => lstm(torch.randn(3, 2, 5))).toThrow('input.size(-1) must be equal to input_size. Expected 4, got 5');
    expect(() => lstm(torch.randn(3, 2, 4), [torch.zeros(1, 3, 6), torch.zeros(1, 2, 6)] as never)).toThrow(
      'Expected hidden[0] size (1, 2, 6), got [1, 3, 6]',
    );
    expect(() => new nn.GRU(4, 6, { projSize: 2 } as never)).toThrow('proj_size argument is only supported for LSTM, not RNN or GRU');
    expect(() => new nn.LSTM(4, 6, { projSize: 6 })).toThrow('proj_size has to be smaller than hidden_size');
    expect(() => new nn.RNN(4, 6, 1, 'sigmoid' as never)).toThrow("Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'.");
    expect(() => nn.utils.rnn.padPackedSequence(nn.utils.rnn.packSequence([torch.ones(3, 1)]), false, 0, 2)).toThrow(
      /total_length=2 and max sequence length being 3/,
    );
  });
});

describe('attention: masks, weights and causal decoding', () => {
  it('MultiheadAttention weights per head, with a padding mask and a causal mask', async () => {
    torch.manualSeed(4);
    const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true }).to('float64');
    const x = r(2, 5, 8);
    const kpm = torch.tensor([
      [false, false, false, true, true],
      [false, false, false, false, false],
    ]);
    const causal = nn.Transformer.generateSquareSubsequentMask(5, { dtype: 'float64' });
    const [out, w] = mha(x, x, x, { keyPaddingMask: kpm, attnMask: causal, averageAttnWeights: false }) as unknown as [Tensor, Tensor];
    const ref = await py.run<Tensor[]>(
      `m = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
m.load_state_dict(state)
causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
out, w = m(x, x, x, key_padding_mask=kpm, attn_mask=causal, average_attn_weights=False)
out = [out, w, causal]`,
      { state: mha.stateDict(), x, kpm },
    );
    [out, w, causal].forEach((t, i) => expectClose(t.detach(), ref[i], { rtol: 1e-10, atol: 1e-12 }));
  });

  it("a Transformer with a causal target mask (detected, as Python does) equals Python's", async () => {
    torch.manualSeed(5);
    const t = new nn.Transformer({
      dModel: 8,
      nhead: 2,
      numEncoderLayers: 1,
      numDecoderLayers: 2,
      dimFeedforward: 16,
      dropout: 0,
      batchFirst: true,
    }).to('float64');
    const [src, tgt] = [r(2, 6, 8), r(2, 4, 8)];
    const mask = nn.Transformer.generateSquareSubsequentMask(4, { dtype: 'float64' });
    const out = t(src, tgt, { tgtMask: mask }) as unknown as Tensor;
    const ref = await py.run<Tensor>(
      `m = torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16,
  dropout=0.0, batch_first=True).double()
m.load_state_dict(state)
out = m(src, tgt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64))`,
      { state: t.stateDict(), src, tgt },
    );
    expectClose(out.detach(), ref, { rtol: 1e-10, atol: 1e-12 });
  });

  it('F.scaledDotProductAttention and F.multiHeadAttentionForward', async () => {
    const [q, k, v] = [r(2, 3, 5, 4), r(2, 3, 6, 4), r(2, 3, 6, 4)];
    const got = [F.scaledDotProductAttention(q, k, v), F.scaledDotProductAttention(q, k, v, null, 0, true, { scale: 0.3 })];
    const ref = await py.run<Tensor[]>(
      `out = [F.scaled_dot_product_attention(q, k, v), F.scaled_dot_product_attention(q, k, v, None, 0.0, True, scale=0.3)]`,
      { q, k, v },
    );
    got.forEach((t, i) => expectClose(t, ref[i], { rtol: 1e-10, atol: 1e-12 }));
  });
});

describe('ParameterList and ParameterDict', () => {
  it('register their parameters as Python does: keys, repr, a model using them loads into Python and computes the same', async () => {
    class Mix extends nn.Module {
      ws = new nn.ParameterList([torch.randn(3, 4, { dtype: 'float64' }), new nn.Parameter(torch.randn(4, 2, { dtype: 'float64' }))]);
      scales = new nn.ParameterDict({ a: torch.ones(2, { dtype: 'float64' }), b: torch.full([2], 0.5, { dtype: 'float64' }) });
      forward(x: Tensor): Tensor {
        let y = x;
        for (const w of this.ws) y = y.matmul(w);
        return y.mul(this.scales.get('a')!).add(this.scales.get('b')!);
      }
    }
    const m = new Mix();
    expect(Object.keys(m.stateDict())).toEqual(['ws.0', 'ws.1', 'scales.a', 'scales.b']);
    expect(m.parameters().length).toBe(4);
    const x = r(5, 3);
    const ref = await py.run<[string, Tensor]>(
      `class Mix(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ws = torch.nn.ParameterList([torch.randn(3, 4, dtype=torch.float64), torch.nn.Parameter(torch.randn(4, 2, dtype=torch.float64))])
        self.scales = torch.nn.ParameterDict({'a': torch.ones(2, dtype=torch.float64), 'b': torch.full((2,), 0.5, dtype=torch.float64)})
    def forward(self, x):
        y = x
        for w in self.ws: y = y @ w
        return y * self.scales['a'] + self.scales['b']
m = Mix(); m.load_state_dict(state)
out = [repr(m), m(x)]`,
      { state: m.stateDict(), x },
    );
    expect(String(m)).toBe(ref[0]);
    expectClose(m(x) as Tensor, ref[1], { rtol: 1e-12, atol: 1e-14 });
    expect(() => m.ws.append('w' as never)).toThrow(/expected a Tensor or Parameter/);
  });
});

describe('lazy layers', () => {
  it.each([
    ['LazyLinear', () => new nn.LazyLinear(3), 'nn.LazyLinear(3)', r(4, 6), 'Linear'],
    ['LazyConv2d', () => new nn.LazyConv2d(4, 3, 1, 1), 'nn.LazyConv2d(4, 3, 1, 1)', x2d, 'Conv2d'],
    ['LazyConv1d unbatched', () => new nn.LazyConv1d(2, 3, { groups: 2 }), 'nn.LazyConv1d(2, 3, groups=2)', x1d.select(0, 0), 'Conv1d'],
    ['LazyConvTranspose3d', () => new nn.LazyConvTranspose3d(2, 2, 2), 'nn.LazyConvTranspose3d(2, 2, 2)', x3d, 'ConvTranspose3d'],
    ['LazyBatchNorm2d', () => new nn.LazyBatchNorm2d(), 'nn.LazyBatchNorm2d()', x2d, 'BatchNorm2d'],
    ['LazyInstanceNorm1d', () => new nn.LazyInstanceNorm1d(1e-3), 'nn.LazyInstanceNorm1d(1e-3)', x1d, 'InstanceNorm1d'],
  ] as [string, () => Module, string, Tensor, string][])(
    "%s sizes itself at its first call, initialised as Python's, and becomes %s",
    async (_name, make, ctor, x, becomes) => {
      torch.manualSeed(8);
      const m = make().to('float64');
      const before = String(m);
      torch.manualSeed(9);
      const out = (m as torch.nn.AnyModule)(x) as Tensor;
      const ref = await py.run<[string, string, Tensor, Record<string, Tensor>]>(
        `torch.manual_seed(8)
m = eval(ctor, {'nn': torch.nn}).double()
before = repr(m)
torch.manual_seed(9)
y = m(x)
out = [before, repr(m), y, m.state_dict()]`,
        { ctor, x },
      );
      expect(before).toBe(ref[0]);
      expect(String(m)).toBe(ref[1]);
      expect(m.constructor.name).toBe(becomes);
      expectClose(out.detach(), ref[2], { rtol: 1e-12, atol: 1e-14 });
      const state = m.stateDict();
      expect(Object.keys(state)).toEqual(Object.keys(ref[3]));
      for (const [k, v] of Object.entries(ref[3])) expectClose(state[k], v, { rtol: 0, atol: 0 });
    },
  );
});

describe('lazy layers sized by a state dict', () => {
  it.each([
    ['nn.LazyLinear(3)', () => new nn.LazyLinear(3), 'nn.Linear(6, 3)', r(4, 6)],
    ['nn.LazyConv2d(5, 3, 1, 1)', () => new nn.LazyConv2d(5, 3, 1, 1), 'nn.Conv2d(4, 5, 3, 1, 1)', x2d],
    ['nn.LazyBatchNorm2d()', () => new nn.LazyBatchNorm2d(), 'nn.BatchNorm2d(4)', x2d],
  ] as [string, () => Module, string, Tensor][])(
    '%s takes its sizes from a state dict loaded before its first call',
    async (ctor, make, sized, x) => {
      const lazy = make().to('float64');
      const ref = await py.run<[Record<string, Tensor>, string, string, Tensor, Record<string, Tensor>]>(
        `torch.manual_seed(3)
src = eval(sized, {'nn': torch.nn}).double()
with torch.no_grad():
    for b in src.buffers():
        if b.is_floating_point(): b.uniform_(0.5, 1.5)
m = eval(ctor, {'nn': torch.nn}).double()
m.load_state_dict(src.state_dict())
loaded = repr(m)
y = m(x)
out = [src.state_dict(), loaded, repr(src), y, m.state_dict()]`,
        { sized, x, ctor },
      );
      expect(lazy.loadStateDict(ref[0])).toEqual({ missingKeys: [], unexpectedKeys: [] });
      expect(String(lazy)).toBe(ref[1]);
      const y = (lazy as torch.nn.AnyModule)(x) as Tensor;
      // the layer it became prints its sizes, as the layer the state dict came from (Python's conv and
      // norm layers keep in_channels / num_features 0 here; its LazyLinear sets in_features, as all do here)
      expect(String(lazy)).toBe(ref[2]);
      expectClose(y.detach(), ref[3], { rtol: 1e-12, atol: 1e-14 });
      for (const [k, v] of Object.entries(lazy.stateDict())) expectClose(v, ref[4][k], { rtol: 1e-12, atol: 1e-14 });
    },
  );

  it('a refused load leaves the layer lazy; a load that sizes only part of it is refused at the first call', () => {
    const m = new nn.LazyLinear(3);
    const src = new nn.Linear(6, 3);
    const bad = { ...src.stateDict(), extra: torch.zeros(1) };
    expect(() => m.loadStateDict(bad)).toThrow(/Unexpected key\(s\) in state_dict: "extra"/);
    expect(m.weight.shape).toEqual([3, 0]);
    expect((m(torch.randn(2, 5)) as Tensor).shape).toEqual([2, 3]);
    expect(m.constructor.name).toBe('Linear');

    const part = new nn.LazyLinear(3);
    expect(part.loadStateDict({ weight: src.weight }, { strict: false }).missingKeys).toEqual(['bias']);
    expect(() => part(torch.randn(2, 6))).toThrow(/LazyLinear: weight came from a state dict but bias did not/);
    const wrong = new nn.LazyLinear(3);
    wrong.loadStateDict(src.stateDict());
    expect(() => wrong(torch.randn(2, 5))).toThrow('The in_features inferred from input: 5 is not equal to in_features from self.weight: 6');
  });
});

describe('grouped and scaled matrix multiplies', () => {
  it("F.groupedMm: one GEMM per jagged group, equal to Python's (bfloat16 and float32), with Python's errors", async () => {
    torch.manualSeed(4);
    const x = torch.randn([16, 32]);
    const w = torch.randn([2, 16, 32]);
    const offs = torch.tensor([8, 16], { dtype: 'int32' });
    const [xb, wb] = [x.to('bfloat16'), w.to('bfloat16')];
    const got = [F.groupedMm(xb, wb.transpose(-2, -1), { offs }), F.groupedMm(x, w.transpose(-2, -1), { offs })];
    const ref = await py.run<Tensor[]>(
      `import torch.nn.functional as F
out = [F.grouped_mm(x.bfloat16(), w.bfloat16().transpose(-2, -1), offs=offs).float(), F.grouped_mm(x, w.transpose(-2, -1), offs=offs)]`,
      { x, w, offs },
    );
    expect(got.map((t) => t.dtype)).toEqual(['bfloat16', 'float32']);
    got.forEach((t, i) => expectClose(t.float(), ref[i], { rtol: 0, atol: 0 }));
    expect(() => F.groupedMm(xb, wb.transpose(-2, -1), { offs: torch.tensor([8, 16]) })).toThrow('Offsets have to be int32');
    expect(() => F.groupedMm(xb, wb.transpose(-2, -1), { offs, outDtype: 'float32' })).toThrow('Grouped gemm output dtype must match `mat_a` dtype');
    expect(() => F.groupedMm(xb, wb, { offset: offs } as never)).toThrow(/offset/);
  });

  it("F.scaledMm: float8 operands decoded by tensor-wise and row-wise scales, equal to Python's", async () => {
    torch.manualSeed(6);
    const a = torch.randn([16, 32]).to('float8_e4m3fn');
    const b = torch.randn([16, 32]).to('float8_e4m3fn').t();
    const { TensorWise, RowWise } = F.ScalingType;
    const [sa, sb] = [torch.rand([16, 1]), torch.rand([1, 16])];
    const got = [
      F.scaledMm(a, b, torch.tensor(0.5), TensorWise, torch.tensor(2, { dtype: 'float32' }), TensorWise),
      F.scaledMm(a, b, sa, RowWise, sb, [RowWise], { outputDtype: 'float32' }),
    ];
    const ref = await py.run<Tensor[]>(
      `import torch.nn.functional as F
T, R = F.ScalingType.TensorWise, F.ScalingType.RowWise
out = [F.scaled_mm(a, b, torch.tensor(0.5), T, torch.tensor(2.0), T).float(), F.scaled_mm(a, b, sa, R, sb, [R], output_dtype=torch.float32)]`,
      { a, b, sa, sb },
    );
    expect(got.map((t) => t.dtype)).toEqual(['bfloat16', 'float32']);
    got.forEach((t, i) => expectClose(t.float(), ref[i], { rtol: 0, atol: 0 }));
  });

  // LibTorch 2.14 reaches the kernel through the .out overload, so its message names that one
  it("F.scaledGroupedMm on the CPU: Python's error (its kernel is CUDA's only)", () => {
    const x = torch.randn([16, 32]).to('bfloat16');
    const w = torch.randn([2, 32, 16]).to('bfloat16');
    const { RowWise } = F.ScalingType;
    expect(() =>
      F.scaledGroupedMm(x, w, torch.ones([16]), RowWise, torch.ones([2, 16]), RowWise, { offs: torch.tensor([8, 16], { dtype: 'int32' }) }),
    ).toThrow(/Could not run 'aten::_scaled_grouped_mm_v2(\.out)?' with arguments from the 'CPU' backend/);
  });
});

describe('DataParallel', () => {
  const hasCuda = torch.cuda.isAvailable();
  it.skipIf(hasCuda)("without CUDA runs the module as it is, with Python's repr, `module.` keys, and Python's checkpoint loading", async () => {
    torch.manualSeed(5);
    const dp = new nn.DataParallel(new nn.Linear(4, 2).to('float64'));
    const x = r(3, 4);
    const ref = await py.run<[string, string[], Tensor, Record<string, Tensor>]>(
      `torch.manual_seed(6)
m = torch.nn.DataParallel(torch.nn.Linear(4, 2).double())
out = [repr(m), list(m.state_dict().keys()), m(x), m.state_dict()]`,
      { x },
    );
    expect(dp.deviceIds).toEqual([]);
    expect(String(dp)).toBe(ref[0]);
    expect(Object.keys(dp.stateDict())).toEqual(ref[1]);
    dp.loadStateDict(ref[3]);
    expectClose((dp(x) as Tensor).detach(), ref[2], { rtol: 1e-12, atol: 1e-14 });
  });

  it('bad arguments are clear errors', () => {
    expect(() => new nn.DataParallel({} as never)).toThrow('DataParallel: module must be an nn.Module (got a Object)');
    expect(() => new nn.DataParallel(new nn.Linear(2, 2), 0 as never)).toThrow('DataParallel: deviceIds must be an array (got 0)');
    expect(() => new nn.DataParallel(new nn.Linear(2, 2), { device_ids: [0] } as never)).toThrow(/device_ids/);
  });
});

describe('AdaptiveLogSoftmaxWithLoss', () => {
  it("logProb, predict and the loss equal Python's", async () => {
    torch.manualSeed(12);
    const m = new nn.AdaptiveLogSoftmaxWithLoss(10, 12, [3, 7]).to('float64');
    const x = r(5, 10);
    const t = torch.tensor([1, 4, 9, 11, 0]);
    const got = [m.logProb(x), m.predict(x), (m(x, t) as unknown as torch.nn.ASMOutput).loss];
    const ref = await py.run<Tensor[]>(
      `m = torch.nn.AdaptiveLogSoftmaxWithLoss(10, 12, [3, 7]).double()
m.load_state_dict(state)
out = [m.log_prob(x), m.predict(x), m(x, t).loss]`,
      { state: m.stateDict(), x, t },
    );
    got.forEach((v, i) => expectClose((v as Tensor).detach(), ref[i], { rtol: 1e-12, atol: 1e-14 }));
    expect(() => m(x, torch.tensor([1, 2, 3, 4, 12]))).toThrow(/Target values should be in \[0, 11\]/);
  });
});

describe("bad arguments are Python's errors", () => {
  // [what, torchnode call, the same in Python]: torchnode's message contains Python's
  const cases: [string, () => unknown, string][] = [
    ['Conv1d groups', () => new nn.Conv1d(4, 6, 3, { groups: 4 }), 'nn.Conv1d(4, 6, 3, groups=4)'],
    ['Conv2d padding string', () => new nn.Conv2d(4, 6, 3, { padding: 'full' as never }), "nn.Conv2d(4, 6, 3, padding='full')"],
    ['Conv2d same and strided', () => new nn.Conv2d(4, 6, 3, 2, 'same'), "nn.Conv2d(4, 6, 3, 2, 'same')"],
    ['Conv2d padding mode', () => new nn.Conv2d(4, 6, 3, { paddingMode: 'mirror' as never }), "nn.Conv2d(4, 6, 3, padding_mode='mirror')"],
    [
      'ConvTranspose2d padding mode',
      () => new nn.ConvTranspose2d(4, 6, 3, { paddingMode: 'reflect' }),
      "nn.ConvTranspose2d(4, 6, 3, padding_mode='reflect')",
    ],
    ['GroupNorm divisibility', () => new nn.GroupNorm(3, 4), 'nn.GroupNorm(3, 4)'],
    ['MultiheadAttention heads', () => new nn.MultiheadAttention(8, 3), 'nn.MultiheadAttention(8, 3)'],
    ['MultiheadAttention zero', () => new nn.MultiheadAttention(0, 2), 'nn.MultiheadAttention(0, 2)'],
    ['LSTM proj size', () => new nn.LSTM(4, 3, { projSize: 3 }), 'nn.LSTM(4, 3, proj_size=3)'],
    ['RNN nonlinearity', () => new nn.RNN(4, 3, 1, 'gelu' as never), "nn.RNN(4, 3, 1, 'gelu')"],
    ['Dropout p', () => new nn.Dropout(1.5), 'nn.Dropout(1.5)'],
    ['FractionalMaxPool2d neither', () => new nn.FractionalMaxPool2d(2), 'nn.FractionalMaxPool2d(2)'],
    ['FractionalMaxPool2d ratio', () => new nn.FractionalMaxPool2d(2, { outputRatio: 1.5 }), 'nn.FractionalMaxPool2d(2, output_ratio=1.5)'],
    ['AdaptiveLogSoftmaxWithLoss cutoffs', () => new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]), 'nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3])'],
    ['Softmax2d rank', () => new nn.Softmax2d()(torch.zeros(2, 3)), 'nn.Softmax2d()(torch.zeros(2, 3))'],
    ['BatchNorm1d rank', () => new nn.BatchNorm1d(3)(torch.zeros(2, 3, 4, 5)), 'nn.BatchNorm1d(3)(torch.zeros(2, 3, 4, 5))'],
    [
      'InstanceNorm1d affine channels',
      () => new nn.InstanceNorm1d(3, { affine: true })(torch.zeros(2, 4, 5)),
      'nn.InstanceNorm1d(3, affine=True)(torch.zeros(2, 4, 5))',
    ],
    ['LSTM input size', () => new nn.LSTM(4, 3)(torch.zeros(5, 2, 6)), 'nn.LSTM(4, 3)(torch.zeros(5, 2, 6))'],
    ['MultiMarginLoss p', () => new nn.MultiMarginLoss(3), 'nn.MultiMarginLoss(3)'],
    ['TripletMarginWithDistanceLoss margin', () => new nn.TripletMarginWithDistanceLoss({ margin: 0 }), 'nn.TripletMarginWithDistanceLoss(margin=0)'],
    ['F.interpolate size and scale', () => F.interpolate(x2d, 3, 2), 'F.interpolate(x2d, 3, 2)'],
    ['F.interpolate align corners', () => F.interpolate(x2d, 3, null, 'nearest', true), "F.interpolate(x2d, 3, None, 'nearest', True)"],
    ['F.glu of a scalar', () => F.glu(torch.tensor(1)), 'F.glu(torch.tensor(1.))'],
  ];
  it("each message contains Python's", async () => {
    const messages = cases.map(([, call]) => {
      try {
        call();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    const python = await py.run<string[]>(
      `msgs = []
for code in codes:
    try:
        eval(code, {'nn': torch.nn, 'F': torch.nn.functional, 'torch': torch, 'x2d': x2d})
        msgs.append('no error')
    except Exception as e:
        msgs.append(str(e))
out = msgs`,
      { codes: cases.map(([, , code]) => code), x2d },
    );
    // Python prints some choices as a set, whose order changes from run to run: compare choices sorted
    const sorted = (m: string) => m.replace(/[[{]('[^\]}]*')[\]}]/g, (_all, inner: string) => `[${inner.split(', ').sort().join(', ')}]`);
    cases.forEach(([what], i) => {
      expect(python[i], `${what}: Python raised`).not.toBe('no error');
      expect(sorted(messages[i]), what).toContain(sorted(python[i]));
    });
  });
});
