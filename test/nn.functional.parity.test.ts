// Parity of torch.nn.functional and the nn modules that wrap it with Python's PyTorch (the same
// LibTorch): the same inputs through torchnode and through torch.nn.functional, compared within dtype
// tolerance. Each case is [name, torchnode(), Python code computing `out` from the same inputs].
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;
type Tol = { rtol?: number; atol?: number };

const py = usePyTorch();

// Reductions over many products (conv, linear, pooling sums) may round differently from Python's
// single-threaded run in the last bits; elementwise ops are compared at the float32 default.
const SUMS: Tol = { rtol: 1e-5, atol: 1e-5 };
const EXACT: Tol = { rtol: 0, atol: 0 };

torch.manualSeed(2024);
const x4 = torch.randn([2, 4, 9, 10]); // NCHW
const w = torch.randn([6, 4, 3, 3]);
const b = torch.randn([6]);
const wg = torch.randn([6, 2, 3, 3]); // groups = 2
const wdw = torch.randn([4, 1, 3, 3]); // depthwise, groups = 4
const wodd = torch.randn([6, 4, 2, 4]); // even kernel sizes: 'same' pads asymmetrically
const x2 = torch.randn([5, 8]);
const x3 = torch.randn([2, 5, 8]); // batched linear input
const lw = torch.randn([7, 8]);
const lb = torch.randn([7]);
const x5 = torch.randn([2, 3, 5, 7, 6]); // N C D H W
const c4 = torch.randn([4]);
const rm = torch.randn([4]).mul(0.2); // running mean
const rv = torch.rand([4]).add(0.5); // running var
const gamma = torch.rand([4]).add(0.5);
const beta = torch.randn([4]);
const act = torch.randn([3, 7]).mul(4); // spans hardsigmoid/hardswish's linear pieces and both saturations
const logits = torch.randn([6, 4]);
const target = torch.tensor([1, 0, 3, 3, 2, 1]); // int64 class indices
const targetIgn = torch.tensor([1, -100, 3, 0, -100, 2]); // with PyTorch's default ignore_index
const probs = torch.randn([6, 4]).softmax(1); // class probabilities
const classW = torch.rand([4]).add(0.5);
const logits4 = torch.randn([2, 4, 3, 5]); // N C d1 d2 (K-dimensional cross entropy)
const target4 = torch.randint(0, 4, [2, 3, 5]);
const probs4 = torch.randn([2, 4, 3, 5]).softmax(1);
const pred = torch.randn([3, 5]);
const tgt = torch.randn([3, 5]);
const bin = torch.rand([3, 5]); // targets in [0, 1]
const elemW = torch.rand([3, 5]);
const posW = torch.rand([5]).add(0.5);
const inputs = {
  x4,
  w,
  b,
  wg,
  wdw,
  wodd,
  x2,
  x3,
  lw,
  lb,
  x5,
  c4,
  rm,
  rv,
  gamma,
  beta,
  act,
  logits,
  target,
  targetIgn,
  probs,
  classW,
  logits4,
  target4,
  probs4,
  pred,
  tgt,
  bin,
  elemW,
  posW,
};

type Out = Tensor | Tensor[];
type Case = [string, () => Out, string, Tol?];

function compare(actual: Out, expected: Out, tol?: Tol): void {
  if (Array.isArray(actual)) {
    expect(Array.isArray(expected), 'Python returned a list').toBe(true);
    expect(actual.length).toBe((expected as Tensor[]).length);
    actual.forEach((a, i) => expectClose(a.detach(), (expected as Tensor[])[i], tol));
  } else {
    expectClose(actual.detach(), expected as Tensor, tol);
  }
}

const convCases: Case[] = [
  ['conv2d default', () => F.conv2d(x4, w), 'out = F.conv2d(x4, w)'],
  ['conv2d bias', () => F.conv2d(x4, w, { bias: b }), 'out = F.conv2d(x4, w, b)'],
  ['conv2d stride 2 padding 1', () => F.conv2d(x4, w, { bias: b, stride: 2, padding: 1 }), 'out = F.conv2d(x4, w, b, stride=2, padding=1)'],
  ['conv2d stride/padding pairs', () => F.conv2d(x4, w, { stride: [2, 3], padding: [0, 2] }), 'out = F.conv2d(x4, w, stride=(2, 3), padding=(0, 2))'],
  ['conv2d dilation', () => F.conv2d(x4, w, { bias: b, dilation: 2, padding: 2 }), 'out = F.conv2d(x4, w, b, dilation=2, padding=2)'],
  ['conv2d dilation pair', () => F.conv2d(x4, w, { dilation: [1, 3] }), 'out = F.conv2d(x4, w, dilation=(1, 3))'],
  ['conv2d groups 2', () => F.conv2d(x4, wg, { bias: b, groups: 2, padding: 1 }), 'out = F.conv2d(x4, wg, b, groups=2, padding=1)'],
  ['conv2d depthwise', () => F.conv2d(x4, wdw, { groups: 4, stride: 2 }), 'out = F.conv2d(x4, wdw, groups=4, stride=2)'],
  ["conv2d padding 'same'", () => F.conv2d(x4, w, { bias: b, padding: 'same' }), "out = F.conv2d(x4, w, b, padding='same')"],
  ["conv2d 'same' even kernel", () => F.conv2d(x4, wodd, { padding: 'same' }), "out = F.conv2d(x4, wodd, padding='same')"],
  [
    "conv2d 'same' dilation",
    () => F.conv2d(x4, wodd, { padding: 'same', dilation: [2, 1] }),
    "out = F.conv2d(x4, wodd, padding='same', dilation=(2, 1))",
  ],
  ["conv2d padding 'valid'", () => F.conv2d(x4, w, { bias: b, padding: 'valid' }), "out = F.conv2d(x4, w, b, padding='valid')"],
  [
    'conv2d float64',
    () => F.conv2d(x4.double(), w.double(), { bias: b.double(), stride: 2 }),
    'out = F.conv2d(x4.double(), w.double(), b.double(), stride=2)',
  ],
  ['conv2d unbatched (C, H, W)', () => F.conv2d(x4.select(0, 1), w, { bias: b }), 'out = F.conv2d(x4[1], w, b)'],
];

const linearCases: Case[] = [
  ['linear', () => F.linear(x2, lw, lb), 'out = F.linear(x2, lw, lb)'],
  ['linear no bias', () => F.linear(x2, lw), 'out = F.linear(x2, lw)'],
  ['linear null bias', () => F.linear(x2, lw, null), 'out = F.linear(x2, lw, None)'],
  ['linear batched 3-D', () => F.linear(x3, lw, lb), 'out = F.linear(x3, lw, lb)'],
  ['linear batched 3-D no bias', () => F.linear(x3, lw), 'out = F.linear(x3, lw)'],
  ['linear 1-D input', () => F.linear(x2.select(0, 0), lw, lb), 'out = F.linear(x2[0], lw, lb)'],
];

const poolCases: Case[] = [
  ['maxPool2d 2', () => F.maxPool2d(x4, 2), 'out = F.max_pool2d(x4, 2)'],
  ['maxPool2d 3 stride 2 padding 1', () => F.maxPool2d(x4, 3, { stride: 2, padding: 1 }), 'out = F.max_pool2d(x4, 3, stride=2, padding=1)'],
  ['maxPool2d stride null = kernel', () => F.maxPool2d(x4, 3, { stride: null }), 'out = F.max_pool2d(x4, 3, stride=None)'],
  ['maxPool2d dilation', () => F.maxPool2d(x4, 2, { stride: 1, dilation: 2 }), 'out = F.max_pool2d(x4, 2, stride=1, dilation=2)'],
  [
    'maxPool2d dilation + padding',
    () => F.maxPool2d(x4, 3, { stride: 2, padding: 1, dilation: [2, 1] }),
    'out = F.max_pool2d(x4, 3, stride=2, padding=1, dilation=(2, 1))',
  ],
  ['maxPool2d ceilMode', () => F.maxPool2d(x4, 2, { ceilMode: true }), 'out = F.max_pool2d(x4, 2, ceil_mode=True)'],
  ['maxPool2d ceilMode stride 2 k 3', () => F.maxPool2d(x4, 3, { stride: 2, ceilMode: true }), 'out = F.max_pool2d(x4, 3, stride=2, ceil_mode=True)'],
  [
    'maxPool2d pair kernel',
    () => F.maxPool2d(x4, [2, 3], { stride: [1, 2], padding: [1, 1] }),
    'out = F.max_pool2d(x4, (2, 3), stride=(1, 2), padding=(1, 1))',
  ],
  ['avgPool2d 2', () => F.avgPool2d(x4, 2), 'out = F.avg_pool2d(x4, 2)'],
  ['avgPool2d 3 stride 2 padding 1', () => F.avgPool2d(x4, 3, { stride: 2, padding: 1 }), 'out = F.avg_pool2d(x4, 3, stride=2, padding=1)'],
  ['avgPool2d ceilMode', () => F.avgPool2d(x4, 3, { stride: 2, ceilMode: true }), 'out = F.avg_pool2d(x4, 3, stride=2, ceil_mode=True)'],
  [
    'avgPool2d ceilMode + padding',
    () => F.avgPool2d(x4, 3, { stride: 2, padding: 1, ceilMode: true }),
    'out = F.avg_pool2d(x4, 3, stride=2, padding=1, ceil_mode=True)',
  ],
  [
    'avgPool2d countIncludePad false',
    () => F.avgPool2d(x4, 3, { stride: 2, padding: 1, countIncludePad: false }),
    'out = F.avg_pool2d(x4, 3, stride=2, padding=1, count_include_pad=False)',
  ],
  [
    'avgPool2d countIncludePad false + ceilMode',
    () => F.avgPool2d(x4, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    'out = F.avg_pool2d(x4, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)',
  ],
  [
    'avgPool2d divisorOverride',
    () => F.avgPool2d(x4, 3, { stride: 2, padding: 1, divisorOverride: 5 }),
    'out = F.avg_pool2d(x4, 3, stride=2, padding=1, divisor_override=5)',
  ],
  ['avgPool2d divisorOverride null', () => F.avgPool2d(x4, 2, { divisorOverride: null }), 'out = F.avg_pool2d(x4, 2, divisor_override=None)'],
  ['avgPool2d pair kernel', () => F.avgPool2d(x4, [3, 2], { stride: [2, 1] }), 'out = F.avg_pool2d(x4, (3, 2), stride=(2, 1))'],
  ['adaptiveAvgPool2d 1', () => F.adaptiveAvgPool2d(x4, 1), 'out = F.adaptive_avg_pool2d(x4, 1)'],
  ['adaptiveAvgPool2d [2, 3]', () => F.adaptiveAvgPool2d(x4, [2, 3]), 'out = F.adaptive_avg_pool2d(x4, (2, 3))'],
  ['adaptiveAvgPool2d non-divisible [4, 3]', () => F.adaptiveAvgPool2d(x4, [4, 3]), 'out = F.adaptive_avg_pool2d(x4, (4, 3))'],
  ['adaptiveAvgPool2d larger than input', () => F.adaptiveAvgPool2d(x4, [11, 13]), 'out = F.adaptive_avg_pool2d(x4, (11, 13))'],
  ['adaptiveAvgPool2d 7', () => F.adaptiveAvgPool2d(x4, 7), 'out = F.adaptive_avg_pool2d(x4, 7)'],
  ['adaptiveAvgPool2d unbatched', () => F.adaptiveAvgPool2d(x4.select(0, 0), [2, 3]), 'out = F.adaptive_avg_pool2d(x4[0], (2, 3))'],
  ['adaptiveAvgPool3d 1', () => F.adaptiveAvgPool3d(x5, 1), 'out = F.adaptive_avg_pool3d(x5, 1)'],
  ['adaptiveAvgPool3d [2, 3, 4]', () => F.adaptiveAvgPool3d(x5, [2, 3, 4]), 'out = F.adaptive_avg_pool3d(x5, (2, 3, 4))'],
  ['adaptiveAvgPool3d 3 (non-divisible)', () => F.adaptiveAvgPool3d(x5, 3), 'out = F.adaptive_avg_pool3d(x5, 3)'],
  ['adaptiveMaxPool2d [2, 3]', () => F.adaptiveMaxPool2d(x4, [2, 3]), 'out = F.adaptive_max_pool2d(x4, (2, 3))'],
  ['adaptiveMaxPool2d 4', () => F.adaptiveMaxPool2d(x4, 4), 'out = F.adaptive_max_pool2d(x4, 4)'],
];

const batchNormCases: Case[] = [
  // training=true updates the running stats in place: compare the output and both updated buffers.
  [
    'batchNorm training updates running stats',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      return [F.batchNorm(x4, m, v, { weight: gamma, bias: beta, training: true }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x4, m, v, gamma, beta, training=True); out = [o, m, v]',
  ],
  [
    'batchNorm training momentum 0.3 eps 1e-3',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      return [F.batchNorm(x4, m, v, { weight: gamma, bias: beta, training: true, momentum: 0.3, eps: 1e-3 }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x4, m, v, gamma, beta, training=True, momentum=0.3, eps=1e-3); out = [o, m, v]',
  ],
  [
    'batchNorm training momentum 1 (stats replaced)',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      return [F.batchNorm(x4, m, v, { training: true, momentum: 1 }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x4, m, v, training=True, momentum=1.0); out = [o, m, v]',
  ],
  [
    'batchNorm training momentum 0 (stats kept)',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      return [F.batchNorm(x4, m, v, { training: true, momentum: 0 }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x4, m, v, training=True, momentum=0.0); out = [o, m, v]',
  ],
  [
    'batchNorm training twice accumulates',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      F.batchNorm(x4, m, v, { training: true, momentum: 0.2 });
      return [F.batchNorm(x4.mul(2).add(1), m, v, { training: true, momentum: 0.2 }), m, v];
    },
    `m = rm.clone(); v = rv.clone(); F.batch_norm(x4, m, v, training=True, momentum=0.2)
o = F.batch_norm(x4 * 2 + 1, m, v, training=True, momentum=0.2); out = [o, m, v]`,
  ],
  [
    'batchNorm training without running stats',
    () => F.batchNorm(x4, null, null, { weight: gamma, bias: beta, training: true }),
    'out = F.batch_norm(x4, None, None, gamma, beta, training=True)',
  ],
  [
    'batchNorm eval uses running stats (unchanged)',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      return [F.batchNorm(x4, m, v, { weight: gamma, bias: beta, training: false }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x4, m, v, gamma, beta, training=False); out = [o, m, v]',
  ],
  ['batchNorm default is eval', () => F.batchNorm(x4, rm, rv), 'out = F.batch_norm(x4, rm, rv)'],
  ['batchNorm eval eps', () => F.batchNorm(x4, rm, rv, { weight: gamma, eps: 0.5 }), 'out = F.batch_norm(x4, rm, rv, gamma, eps=0.5)'],
  [
    'batchNorm 2-D (N, C) training',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      const x = x2.narrow(1, 0, 4);
      return [F.batchNorm(x, m, v, { weight: gamma, bias: beta, training: true, momentum: 0.25 }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x2[:, :4], m, v, gamma, beta, training=True, momentum=0.25); out = [o, m, v]',
  ],
  [
    'batchNorm 3-D (N, C, L) training',
    () => {
      const m = rm.clone(),
        v = rv.clone();
      const x = x3.narrow(1, 0, 4);
      return [F.batchNorm(x, m, v, { training: true }), m, v];
    },
    'm = rm.clone(); v = rv.clone(); o = F.batch_norm(x3[:, :4], m, v, training=True); out = [o, m, v]',
  ],
  [
    'batchNorm float64 training',
    () => {
      const m = rm.double(),
        v = rv.double();
      return [F.batchNorm(x4.double(), m, v, { weight: gamma.double(), bias: beta.double(), training: true, momentum: 0.4 }), m, v];
    },
    'm = rm.double(); v = rv.double(); o = F.batch_norm(x4.double(), m, v, gamma.double(), beta.double(), training=True, momentum=0.4); out = [o, m, v]',
  ],
];

const dropoutCases: Case[] = [
  ['dropout training false is identity', () => F.dropout(x4, { training: false }), 'out = F.dropout(x4, training=False)'],
  ['dropout training false p 0.9', () => F.dropout(x4, { p: 0.9, training: false }), 'out = F.dropout(x4, p=0.9, training=False)'],
  ['dropout p 0 training', () => F.dropout(x4, { p: 0, training: true }), 'out = F.dropout(x4, p=0.0, training=True)'],
  ['dropout p 1 training', () => F.dropout(x4, { p: 1, training: true }), 'out = F.dropout(x4, p=1.0, training=True)'],
];

// The same seed gives the same mask (the same generator calls as Python's F.dropout).
const seededDropout: [string, () => Tensor, string][] = [
  ['default p (0.5), training default true', () => F.dropout(x4), 'F.dropout(x4)'],
  ['p 0.3', () => F.dropout(x4, { p: 0.3, training: true }), 'F.dropout(x4, p=0.3, training=True)'],
  ['p 0.8 float64', () => F.dropout(x4.double(), { p: 0.8 }), 'F.dropout(x4.double(), p=0.8)'],
  [
    'inplace',
    () => {
      const t = x4.clone();
      const r = F.dropout(t, { p: 0.4, inplace: true });
      expect(r).toBe(t);
      return t;
    },
    'F.dropout(x4.clone(), p=0.4, inplace=True)',
  ],
  // Large enough to be split across threads here (Python's reference runs on one).
  [
    'large tensor (mask independent of thread count)',
    () => {
      const big = torch.randn([300, 1000]);
      return F.dropout(big, { p: 0.25 });
    },
    'F.dropout(torch.randn(300, 1000), p=0.25)',
  ],
];

const activationCases: Case[] = [
  ['relu', () => F.relu(act), 'out = F.relu(act)'],
  [
    'relu inplace',
    () => {
      const t = act.clone();
      const r = F.relu(t, { inplace: true });
      expect(r).toBe(t);
      return t;
    },
    'out = F.relu(act.clone(), inplace=True)',
  ],
  ['sigmoid', () => F.sigmoid(act), 'out = F.sigmoid(act)'],
  ['tanh', () => F.tanh(act), 'out = F.tanh(act)'],
  ['hardsigmoid', () => F.hardsigmoid(act), 'out = F.hardsigmoid(act)'],
  ['hardswish', () => F.hardswish(act), 'out = F.hardswish(act)'],
  ['silu', () => F.silu(act), 'out = F.silu(act)'],
  ['mish', () => F.mish(act), 'out = F.mish(act)'],
  ['relu6', () => F.relu6(act), 'out = F.relu6(act)'],
  ['gelu', () => F.gelu(act), 'out = F.gelu(act)'],
  ["gelu approximate 'none'", () => F.gelu(act, { approximate: 'none' }), "out = F.gelu(act, approximate='none')"],
  ["gelu approximate 'tanh'", () => F.gelu(act, { approximate: 'tanh' }), "out = F.gelu(act, approximate='tanh')"],
  ['gelu float64', () => F.gelu(act.double(), { approximate: 'tanh' }), "out = F.gelu(act.double(), approximate='tanh')"],
  ['leakyRelu default slope', () => F.leakyRelu(act), 'out = F.leaky_relu(act)'],
  ['leakyRelu slope 0.2', () => F.leakyRelu(act, 0.2), 'out = F.leaky_relu(act, 0.2)'],
  ['leakyRelu slope -1.5', () => F.leakyRelu(act, -1.5), 'out = F.leaky_relu(act, -1.5)'],
  ['elu', () => F.elu(act), 'out = F.elu(act)'],
  ['elu alpha 0.5', () => F.elu(act, { alpha: 0.5 }), 'out = F.elu(act, alpha=0.5)'],
  ['softplus', () => F.softplus(act), 'out = F.softplus(act)'],
  ['softplus beta 2 threshold 3', () => F.softplus(act, { beta: 2, threshold: 3 }), 'out = F.softplus(act, beta=2, threshold=3)'],
  ['hardtanh', () => F.hardtanh(act), 'out = F.hardtanh(act)'],
  ['hardtanh -2..0.5', () => F.hardtanh(act, { minVal: -2, maxVal: 0.5 }), 'out = F.hardtanh(act, min_val=-2, max_val=0.5)'],
  ['interpolate nearest up', () => F.interpolate(x4, { size: [13, 17] }), 'out = F.interpolate(x4, size=(13, 17))'],
  ['interpolate nearest down', () => F.interpolate(x4, { size: 4 }), 'out = F.interpolate(x4, size=4)'],
  ['interpolate bilinear', () => F.interpolate(x4, { size: [5, 21], mode: 'bilinear' }), "out = F.interpolate(x4, size=(5, 21), mode='bilinear')"],
  [
    'interpolate bilinear alignCorners',
    () => F.interpolate(x4, { size: [12, 7], mode: 'bilinear', alignCorners: true }),
    "out = F.interpolate(x4, size=(12, 7), mode='bilinear', align_corners=True)",
  ],
  [
    'interpolate bilinear antialias down',
    () => F.interpolate(x4, { size: [4, 3], mode: 'bilinear', antialias: true }),
    "out = F.interpolate(x4, size=(4, 3), mode='bilinear', antialias=True)",
  ],
  ['softmax float64', () => F.softmax(act, 1, { dtype: 'float64' }), 'out = F.softmax(act, 1, dtype=torch.float64)'],
  ['softmax dim 1', () => F.softmax(act, 1), 'out = F.softmax(act, 1)'],
  ['softmax dim 0', () => F.softmax(act, 0), 'out = F.softmax(act, 0)'],
  ['softmax dim -1 4-D', () => F.softmax(x4, -1), 'out = F.softmax(x4, -1)'],
  ['softmax channels', () => F.softmax(x4, 1), 'out = F.softmax(x4, 1)'],
  ['logSoftmax dim 1', () => F.logSoftmax(act, 1), 'out = F.log_softmax(act, 1)'],
  ['logSoftmax dim 0', () => F.logSoftmax(act, 0), 'out = F.log_softmax(act, 0)'],
  ['logSoftmax 4-D dim 1', () => F.logSoftmax(x4, 1), 'out = F.log_softmax(x4, 1)'],
];

const lossCases: Case[] = [];
for (const r of ['none', 'mean', 'sum'] as const) {
  const pr = `reduction='${r}'`;
  lossCases.push(
    [`crossEntropy indices ${r}`, () => F.crossEntropy(logits, target, { reduction: r }), `out = F.cross_entropy(logits, target, ${pr})`],
    [`crossEntropy probabilities ${r}`, () => F.crossEntropy(logits, probs, { reduction: r }), `out = F.cross_entropy(logits, probs, ${pr})`],
    [
      `crossEntropy weight ${r}`,
      () => F.crossEntropy(logits, target, { weight: classW, reduction: r }),
      `out = F.cross_entropy(logits, target, weight=classW, ${pr})`,
    ],
    [
      `crossEntropy weight + probabilities ${r}`,
      () => F.crossEntropy(logits, probs, { weight: classW, reduction: r }),
      `out = F.cross_entropy(logits, probs, weight=classW, ${pr})`,
    ],
    [
      `crossEntropy default ignoreIndex ${r}`,
      () => F.crossEntropy(logits, targetIgn, { reduction: r }),
      `out = F.cross_entropy(logits, targetIgn, ${pr})`,
    ],
    [
      `crossEntropy ignoreIndex 3 + weight ${r}`,
      () => F.crossEntropy(logits, target, { ignoreIndex: 3, weight: classW, reduction: r }),
      `out = F.cross_entropy(logits, target, ignore_index=3, weight=classW, ${pr})`,
    ],
    [
      `crossEntropy labelSmoothing ${r}`,
      () => F.crossEntropy(logits, target, { labelSmoothing: 0.1, reduction: r }),
      `out = F.cross_entropy(logits, target, label_smoothing=0.1, ${pr})`,
    ],
    [
      `crossEntropy labelSmoothing + weight + ignoreIndex ${r}`,
      () => F.crossEntropy(logits, targetIgn, { labelSmoothing: 0.25, weight: classW, reduction: r }),
      `out = F.cross_entropy(logits, targetIgn, label_smoothing=0.25, weight=classW, ${pr})`,
    ],
    [
      `crossEntropy labelSmoothing + probabilities ${r}`,
      () => F.crossEntropy(logits, probs, { labelSmoothing: 0.2, reduction: r }),
      `out = F.cross_entropy(logits, probs, label_smoothing=0.2, ${pr})`,
    ],
    [
      `crossEntropy K-dim ${r}`,
      () => F.crossEntropy(logits4, target4, { weight: classW, reduction: r }),
      `out = F.cross_entropy(logits4, target4, weight=classW, ${pr})`,
    ],
    [
      `crossEntropy K-dim probabilities ${r}`,
      () => F.crossEntropy(logits4, probs4, { labelSmoothing: 0.1, reduction: r }),
      `out = F.cross_entropy(logits4, probs4, label_smoothing=0.1, ${pr})`,
    ],
    [`nllLoss ${r}`, () => F.nllLoss(F.logSoftmax(logits, 1), target, { reduction: r }), `out = F.nll_loss(F.log_softmax(logits, 1), target, ${pr})`],
    [
      `nllLoss weight + ignoreIndex ${r}`,
      () => F.nllLoss(F.logSoftmax(logits, 1), targetIgn, { weight: classW, reduction: r }),
      `out = F.nll_loss(F.log_softmax(logits, 1), targetIgn, weight=classW, ${pr})`,
    ],
    [
      `nllLoss ignoreIndex 1 ${r}`,
      () => F.nllLoss(logits, target, { ignoreIndex: 1, reduction: r }),
      `out = F.nll_loss(logits, target, ignore_index=1, ${pr})`,
    ],
    [
      `nllLoss K-dim ${r}`,
      () => F.nllLoss(logits4, target4, { weight: classW, reduction: r }),
      `out = F.nll_loss(logits4, target4, weight=classW, ${pr})`,
    ],
    [`mseLoss ${r}`, () => F.mseLoss(pred, tgt, { reduction: r }), `out = F.mse_loss(pred, tgt, ${pr})`],
    [`l1Loss ${r}`, () => F.l1Loss(pred, tgt, { reduction: r }), `out = F.l1_loss(pred, tgt, ${pr})`],
    [`smoothL1Loss ${r}`, () => F.smoothL1Loss(pred, tgt, { reduction: r }), `out = F.smooth_l1_loss(pred, tgt, ${pr})`],
    [
      `smoothL1Loss beta 0.3 ${r}`,
      () => F.smoothL1Loss(pred, tgt, { beta: 0.3, reduction: r }),
      `out = F.smooth_l1_loss(pred, tgt, beta=0.3, ${pr})`,
    ],
    [`smoothL1Loss beta 0 ${r}`, () => F.smoothL1Loss(pred, tgt, { beta: 0, reduction: r }), `out = F.smooth_l1_loss(pred, tgt, beta=0.0, ${pr})`],
    [
      `binaryCrossEntropy ${r}`,
      () => F.binaryCrossEntropy(pred.sigmoid(), bin, { reduction: r }),
      `out = F.binary_cross_entropy(pred.sigmoid(), bin, ${pr})`,
    ],
    [
      `binaryCrossEntropy weight ${r}`,
      () => F.binaryCrossEntropy(pred.sigmoid(), bin, { weight: elemW, reduction: r }),
      `out = F.binary_cross_entropy(pred.sigmoid(), bin, weight=elemW, ${pr})`,
    ],
    [
      `binaryCrossEntropyWithLogits ${r}`,
      () => F.binaryCrossEntropyWithLogits(pred, bin, { reduction: r }),
      `out = F.binary_cross_entropy_with_logits(pred, bin, ${pr})`,
    ],
    [
      `binaryCrossEntropyWithLogits weight + posWeight ${r}`,
      () => F.binaryCrossEntropyWithLogits(pred, bin, { weight: elemW, posWeight: posW, reduction: r }),
      `out = F.binary_cross_entropy_with_logits(pred, bin, weight=elemW, pos_weight=posW, ${pr})`,
    ],
  );
}
lossCases.push(
  ['crossEntropy default reduction is mean', () => F.crossEntropy(logits, target), 'out = F.cross_entropy(logits, target)'],
  [
    'crossEntropy labelSmoothing 1',
    () => F.crossEntropy(logits, target, { labelSmoothing: 1 }),
    'out = F.cross_entropy(logits, target, label_smoothing=1.0)',
  ],
  [
    'crossEntropy all targets ignored (mean is nan)',
    () => F.crossEntropy(logits.narrow(0, 0, 2), torch.tensor([-100, -100])),
    'out = F.cross_entropy(logits[:2], torch.tensor([-100, -100]))',
  ],
  [
    'crossEntropy unbatched (C,) input',
    () => F.crossEntropy(logits.select(0, 0), torch.tensor(2)),
    'out = F.cross_entropy(logits[0], torch.tensor(2))',
  ],
  [
    'crossEntropy float64',
    () => F.crossEntropy(logits.double(), target, { labelSmoothing: 0.1 }),
    'out = F.cross_entropy(logits.double(), target, label_smoothing=0.1)',
  ],
  [
    'binaryCrossEntropyWithLogits posWeight only',
    () => F.binaryCrossEntropyWithLogits(pred, bin, { posWeight: posW }),
    'out = F.binary_cross_entropy_with_logits(pred, bin, pos_weight=posW)',
  ],
  ['mseLoss broadcasting', () => F.mseLoss(pred, tgt.narrow(0, 0, 1)), 'out = F.mse_loss(pred, tgt[:1])'],
);

const padCases: Case[] = [
  ['pad constant last dim', () => F.pad(x4, [1, 2]), 'out = F.pad(x4, (1, 2))'],
  ['pad constant value', () => F.pad(x4, [1, 2, 3, 0], { value: -2.5 }), 'out = F.pad(x4, (1, 2, 3, 0), value=-2.5)'],
  [
    'pad constant 3 dims',
    () => F.pad(x4, [0, 1, 1, 0, 2, 2], { mode: 'constant', value: 7 }),
    "out = F.pad(x4, (0, 1, 1, 0, 2, 2), mode='constant', value=7)",
  ],
  ['pad negative (crop)', () => F.pad(x4, [-1, 2, 0, -3]), 'out = F.pad(x4, (-1, 2, 0, -3))'],
  ['pad reflect', () => F.pad(x4, [2, 1, 3, 2], { mode: 'reflect' }), "out = F.pad(x4, (2, 1, 3, 2), mode='reflect')"],
  ['pad replicate', () => F.pad(x4, [2, 1, 3, 2], { mode: 'replicate' }), "out = F.pad(x4, (2, 1, 3, 2), mode='replicate')"],
  ['pad circular', () => F.pad(x4, [2, 1, 3, 2], { mode: 'circular' }), "out = F.pad(x4, (2, 1, 3, 2), mode='circular')"],
  ['pad reflect 1-D (N, C, L)', () => F.pad(x3, [3, 2], { mode: 'reflect' }), "out = F.pad(x3, (3, 2), mode='reflect')"],
  ['pad replicate 3-D', () => F.pad(x5, [1, 1, 2, 0, 0, 1], { mode: 'replicate' }), "out = F.pad(x5, (1, 1, 2, 0, 0, 1), mode='replicate')"],
  ['pad int64 constant', () => F.pad(target4, [1, 1], { value: 9 }), 'out = F.pad(target4, (1, 1), value=9)'],
];

describe('torch.nn.functional matches PyTorch', () => {
  const groups: [string, Case[], Tol?][] = [
    ['conv2d', convCases, SUMS],
    ['linear', linearCases, SUMS],
    ['pooling', poolCases, SUMS],
    ['batchNorm', batchNormCases, SUMS],
    ['dropout', dropoutCases],
    ['activations', activationCases],
    ['losses', lossCases, SUMS],
    ['pad', padCases, EXACT],
  ];
  for (const [group, cases, tol] of groups) {
    describe(group, () => {
      it.each(cases)('%s', async (_name, js, code, caseTol) => {
        const expected = await py.run<Out>(code, inputs);
        compare(js(), expected, caseTol ?? tol);
      });
    });
  }

  it.each(seededDropout)('dropout with the same manualSeed gives the same mask: %s', async (_name, js, code) => {
    torch.manualSeed(77);
    const ours = js();
    const ref = await py.run(`torch.manual_seed(77); out = ${code}`, inputs);
    expectClose(ours, ref, EXACT);
    const zeros = ours.eq(0).sum().item() as number;
    expect(zeros).toBeGreaterThan(0); // a real mask, not the identity
  });

  it('dropout: a different seed gives a different mask', () => {
    torch.manualSeed(1);
    const a = F.dropout(x4);
    torch.manualSeed(2);
    const c = F.dropout(x4);
    expect(a.equal(c)).toBe(false);
  });

  it('every exported function of nn.functional is covered here or in nn.layers.parity.test.ts', () => {
    const helpers = new Set(['pair', 'ntuple', 'reductionCode', 'legacyReduction', '_canonicalMask']);
    const layers = fs.readFileSync(path.join(__dirname, 'nn.layers.parity.test.ts'), 'utf8');
    const exported = Object.entries(F)
      .filter(([k, v]) => typeof v === 'function' && !helpers.has(k))
      .map(([k]) => k);
    const covered = new Set<string>();
    const all: Case[] = [
      ...convCases,
      ...linearCases,
      ...poolCases,
      ...batchNormCases,
      ...dropoutCases,
      ...activationCases,
      ...lossCases,
      ...padCases,
    ];
    for (const [, js] of all) {
      for (const k of exported) if (js.toString().includes(`F.${k}(`)) covered.add(k);
    }
    for (const k of exported) if (layers.includes(`F.${k}(`)) covered.add(k);
    expect(exported.filter((k) => !covered.has(k))).toEqual([]);
  });
});

// ---- gradients ----

type GradCase = [string, Tensor[], (...leaves: Tensor[]) => Tensor, string];
const gradCases: GradCase[] = [
  ['conv2d input, weight, bias', [x4, w, b], (x, w_, b_) => F.conv2d(x, w_, { bias: b_ }), 'F.conv2d(a0, a1, a2)'],
  [
    'conv2d stride 2 padding 1 dilation 2',
    [x4, w, b],
    (x, w_, b_) => F.conv2d(x, w_, { bias: b_, stride: 2, padding: 1, dilation: 2 }),
    'F.conv2d(a0, a1, a2, stride=2, padding=1, dilation=2)',
  ],
  ['conv2d groups 2', [x4, wg, b], (x, w_, b_) => F.conv2d(x, w_, { bias: b_, groups: 2, padding: 1 }), 'F.conv2d(a0, a1, a2, groups=2, padding=1)'],
  ["conv2d padding 'same' even kernel", [x4, wodd], (x, w_) => F.conv2d(x, w_, { padding: 'same' }), "F.conv2d(a0, a1, padding='same')"],
  ['conv2d depthwise stride 2', [x4, wdw], (x, w_) => F.conv2d(x, w_, { groups: 4, stride: 2 }), 'F.conv2d(a0, a1, groups=4, stride=2)'],
  ['linear batched 3-D', [x3, lw, lb], (x, w_, b_) => F.linear(x, w_, b_), 'F.linear(a0, a1, a2)'],
  [
    'batchNorm training',
    [x4, gamma, beta],
    (x, g, bb) => F.batchNorm(x, rm.clone(), rv.clone(), { weight: g, bias: bb, training: true }),
    'F.batch_norm(a0, rm.clone(), rv.clone(), a1, a2, training=True)',
  ],
  ['batchNorm eval', [x4, gamma, beta], (x, g, bb) => F.batchNorm(x, rm, rv, { weight: g, bias: bb }), 'F.batch_norm(a0, rm, rv, a1, a2)'],
  [
    'maxPool2d',
    [x4],
    (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
    'F.max_pool2d(a0, 3, stride=2, padding=1, ceil_mode=True)',
  ],
  [
    'avgPool2d',
    [x4],
    (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
    'F.avg_pool2d(a0, 3, stride=2, padding=1, count_include_pad=False)',
  ],
  ['adaptiveAvgPool2d', [x4], (x) => F.adaptiveAvgPool2d(x, [4, 3]), 'F.adaptive_avg_pool2d(a0, (4, 3))'],
  ['gelu tanh', [act], (x) => F.gelu(x, { approximate: 'tanh' }), "F.gelu(a0, approximate='tanh')"],
  ['hardswish', [act], (x) => F.hardswish(x), 'F.hardswish(a0)'],
  ['pad reflect', [x4], (x) => F.pad(x, [2, 1, 3, 2], { mode: 'reflect' }), "F.pad(a0, (2, 1, 3, 2), mode='reflect')"],
  ['crossEntropy indices (input grad)', [logits], (x) => F.crossEntropy(x, target), 'F.cross_entropy(a0, target)'],
  [
    'crossEntropy weight + ignoreIndex + labelSmoothing',
    [logits],
    (x) => F.crossEntropy(x, targetIgn, { weight: classW, labelSmoothing: 0.1 }),
    'F.cross_entropy(a0, targetIgn, weight=classW, label_smoothing=0.1)',
  ],
  [
    'crossEntropy probabilities',
    [logits],
    (x) => F.crossEntropy(x, probs, { labelSmoothing: 0.05 }),
    'F.cross_entropy(a0, probs, label_smoothing=0.05)',
  ],
  [
    'crossEntropy sum, ignoreIndex 3',
    [logits],
    (x) => F.crossEntropy(x, target, { ignoreIndex: 3, reduction: 'sum' }),
    "F.cross_entropy(a0, target, ignore_index=3, reduction='sum')",
  ],
  [
    'crossEntropy none',
    [logits],
    (x) => F.crossEntropy(x, target, { weight: classW, reduction: 'none' }),
    "F.cross_entropy(a0, target, weight=classW, reduction='none')",
  ],
  ['crossEntropy K-dim', [logits4], (x) => F.crossEntropy(x, target4, { weight: classW }), 'F.cross_entropy(a0, target4, weight=classW)'],
  [
    'nllLoss',
    [logits],
    (x) => F.nllLoss(F.logSoftmax(x, 1), targetIgn, { weight: classW }),
    'F.nll_loss(F.log_softmax(a0, 1), targetIgn, weight=classW)',
  ],
  ['mseLoss', [pred, tgt], (p, t) => F.mseLoss(p, t), 'F.mse_loss(a0, a1)'],
  ['l1Loss', [pred], (p) => F.l1Loss(p, tgt, { reduction: 'sum' }), "F.l1_loss(a0, tgt, reduction='sum')"],
  ['smoothL1Loss beta 0.5', [pred, tgt], (p, t) => F.smoothL1Loss(p, t, { beta: 0.5 }), 'F.smooth_l1_loss(a0, a1, beta=0.5)'],
  [
    'binaryCrossEntropy weight',
    [pred],
    (p) => F.binaryCrossEntropy(p.sigmoid(), bin, { weight: elemW }),
    'F.binary_cross_entropy(a0.sigmoid(), bin, weight=elemW)',
  ],
  ['interpolate bilinear', [x4], (x) => F.interpolate(x, { size: [5, 13], mode: 'bilinear' }), "F.interpolate(a0, size=(5, 13), mode='bilinear')"],
  [
    'elu + softplus + hardtanh',
    [act],
    (x) => F.hardtanh(F.softplus(F.elu(x, { alpha: 0.7 }), { beta: 2 }), { maxVal: 2 }),
    'F.hardtanh(F.softplus(F.elu(a0, alpha=0.7), beta=2), max_val=2)',
  ],
  // Python broadcasts input and target first (warning): the gradient is over the broadcast elements.
  ['mseLoss broadcast input', [act.narrow(1, 0, 1), act], (p, t) => F.mseLoss(p, t), 'F.mse_loss(a0, a1)'],
  ['mseLoss broadcast target', [act, act.select(0, 0)], (p, t) => F.mseLoss(p, t, { reduction: 'sum' }), "F.mse_loss(a0, a1, reduction='sum')"],
  ['l1Loss broadcast', [act.narrow(1, 0, 1), act], (p, t) => F.l1Loss(p, t), 'F.l1_loss(a0, a1)'],
  [
    'binaryCrossEntropyWithLogits',
    [pred],
    (p) => F.binaryCrossEntropyWithLogits(p, bin, { weight: elemW, posWeight: posW }),
    'F.binary_cross_entropy_with_logits(a0, bin, weight=elemW, pos_weight=posW)',
  ],
];

describe('gradients match PyTorch', () => {
  for (const loss of ['sum', 'sum of squares'] as const) {
    it.each(gradCases)(`%s (${loss}().backward())`, async (_name, leaves, js, pyExpr) => {
      const ls = leaves.map((t) => t.clone().requiresGrad_());
      const o = js(...ls);
      (loss === 'sum' ? o.sum() : o.mul(o).sum()).backward();
      const setup = leaves.map((_, i) => `a${i} = _in[${i}].clone().requires_grad_()`).join('\n');
      const back = loss === 'sum' ? 'o.sum().backward()' : '(o * o).sum().backward()';
      const ref = await py.run<Tensor[]>(`${setup}\no = ${pyExpr}\n${back}\nout = [o, ${leaves.map((_, i) => `a${i}.grad`).join(', ')}]`, {
        ...inputs,
        _in: leaves,
      });
      expectClose(o.detach(), ref[0], SUMS);
      ls.forEach((l, i) => {
        expect(l.grad, `gradient of leaf ${i}`).not.toBeNull();
        expectClose(l.grad!, ref[i + 1], { rtol: 1e-4, atol: 1e-5 });
      });
    });
  }
});

// ---- einsum ----

describe('torch.einsum', () => {
  it('matches torch.einsum', async () => {
    const cases: [string, Tensor[]][] = [
      ['ij,jk->ik', [lw, x2.t()]],
      ['bij->bji', [x3]],
      ['bij,kj->bik', [x3, lw]],
      ['ii->', [torch.randn([4, 4])]],
    ];
    for (const [eq, ts] of cases) {
      const ref = await py.run(`out = torch.einsum(eq, *ts)`, { eq, ts });
      expectClose(torch.einsum(eq, ...ts), ref, SUMS);
    }
  });
});

// ---- modules: identical weights on both sides ----

/** A copy of a module's state (stateDict shares storage with the module). */
function snapshot(m: torch.nn.Module): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.clone()]));
}

describe('nn modules match PyTorch with the same weights', () => {
  const conv: [string, () => torch.nn.Conv2d, string][] = [
    ['Conv2d(4, 6, 3)', () => new nn.Conv2d(4, 6, 3), 'nn.Conv2d(4, 6, 3)'],
    [
      'Conv2d stride 2 padding 1 groups 2',
      () => new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }),
      'nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)',
    ],
    [
      "Conv2d padding 'same' dilation 2 no bias",
      () => new nn.Conv2d(4, 8, [3, 2], { padding: 'same', dilation: 2, bias: false }),
      "nn.Conv2d(4, 8, (3, 2), padding='same', dilation=2, bias=False)",
    ],
    [
      "Conv2d padding 'valid' stride pair",
      () => new nn.Conv2d(4, 2, [1, 3], { padding: 'valid', stride: [2, 1] }),
      "nn.Conv2d(4, 2, (1, 3), padding='valid', stride=(2, 1))",
    ],
  ];
  it.each(conv)('%s: output and parameter gradients', async (_name, build, pyBuild) => {
    torch.manualSeed(3);
    const m = build();
    const sd = snapshot(m);
    const out = m(x4) as Tensor;
    out.sum().backward();
    const ref = await py.run<[Tensor, string[], Record<string, Tensor>]>(
      `m = ${pyBuild}; m.load_state_dict(sd); o = m(x4); o.sum().backward()
out = [o, list(m.state_dict().keys()), {n: p.grad for n, p in m.named_parameters()}]`,
      { ...inputs, sd },
    );
    expectClose(out.detach(), ref[0], SUMS);
    expect(Object.keys(sd)).toEqual(ref[1]);
    for (const [n, p] of m.namedParameters()) expectClose(p.grad!, ref[2][n], { rtol: 1e-4, atol: 1e-5 });
  });

  it.each([
    ['Linear(8, 7)', () => new nn.Linear(8, 7), 'nn.Linear(8, 7)', x2],
    ['Linear(8, 7) on 3-D input', () => new nn.Linear(8, 7), 'nn.Linear(8, 7)', x3],
    ['Linear(8, 3, bias=false)', () => new nn.Linear(8, 3, { bias: false }), 'nn.Linear(8, 3, bias=False)', x3],
  ] as const)('%s', async (_name, build, pyBuild, x) => {
    torch.manualSeed(4);
    const m = build();
    const sd = snapshot(m);
    const out = m(x) as Tensor;
    out.mul(out).sum().backward();
    const ref = await py.run<[Tensor, string[], Record<string, Tensor>]>(
      `m = ${pyBuild}; m.load_state_dict(sd); o = m(x); (o * o).sum().backward()
out = [o, list(m.state_dict().keys()), {n: p.grad for n, p in m.named_parameters()}]`,
      { sd, x },
    );
    expectClose(out.detach(), ref[0], SUMS);
    expect(Object.keys(sd)).toEqual(ref[1]);
    for (const [n, p] of m.namedParameters()) expectClose(p.grad!, ref[2][n], { rtol: 1e-4, atol: 1e-5 });
  });

  // Several training steps (different batches), then eval: outputs at each step and the final buffers,
  // num_batches_tracked included. momentum null is PyTorch's cumulative moving average.
  const bnConfigs: [string, torch.nn.BatchNormOptions, string, number][] = [
    ['default momentum 0.1', {}, '', 2],
    ['momentum 0.3 eps 1e-3', { momentum: 0.3, eps: 1e-3 }, 'momentum=0.3, eps=1e-3', 2],
    ['momentum null (cumulative average) from a fresh count', { momentum: null }, 'momentum=None', 0],
    ['momentum null (cumulative average) continuing a loaded count of 2', { momentum: null }, 'momentum=None', 2],
    ['affine false', { affine: false, momentum: 0.2 }, 'affine=False, momentum=0.2', 2],
    ['trackRunningStats false', { trackRunningStats: false }, 'track_running_stats=False', 2],
  ];
  it.each(bnConfigs)('BatchNorm2d %s: train steps then eval', async (_name, opts, pyOpts, count) => {
    torch.manualSeed(5);
    const bn = new nn.BatchNorm2d(4, opts);
    torch.noGrad(() => {
      bn.weight?.uniform_(0.5, 1.5);
      bn.bias?.normal_(0, 0.5);
      bn.running_mean?.normal_(0, 0.2);
      bn.running_var?.uniform_(0.5, 1.5);
      bn.num_batches_tracked?.fill_(count); // the cumulative average continues from a loaded count
    });
    const sd = snapshot(bn);
    const xs = [x4, x4.mul(1.5).add(0.3).narrow(0, 0, 1), torch.randn([3, 4, 5, 6]).mul(2).sub(1), torch.randn([2, 4, 2, 2])];
    const trainOuts = xs.map((x) => (bn(x) as Tensor).detach());
    bn.eval();
    const evalOuts = xs.slice(0, 2).map((x) => (bn(x) as Tensor).detach());
    const after = bn.stateDict();
    const ref = await py.run<[Tensor[], Tensor[], Record<string, Tensor>]>(
      `m = nn.BatchNorm2d(4${pyOpts ? ', ' + pyOpts : ''}); m.load_state_dict(sd)
tr = [m(x) for x in xs]
m.eval()
ev = [m(x) for x in xs[:2]]
out = [tr, ev, m.state_dict()]`,
      { sd, xs },
    );
    trainOuts.forEach((o, i) => expectClose(o, ref[0][i], SUMS));
    evalOuts.forEach((o, i) => expectClose(o, ref[1][i], SUMS));
    expect(Object.keys(after)).toEqual(Object.keys(ref[2]));
    for (const [k, v] of Object.entries(ref[2])) expectClose(after[k], v, k === 'num_batches_tracked' ? EXACT : SUMS);
    if (opts.trackRunningStats !== false) expect(after.num_batches_tracked.item()).toBe(count + xs.length);
  });

  it('BatchNorm2d in eval leaves running stats and num_batches_tracked alone', async () => {
    const bn = new nn.BatchNorm2d(4).eval();
    const before = snapshot(bn);
    bn(x4);
    for (const [k, v] of Object.entries(bn.stateDict())) expect(v.equal(before[k]), k).toBe(true);
  });

  const stateless: [string, () => torch.nn.Module, string, Tensor][] = [
    ['MaxPool2d(2)', () => new nn.MaxPool2d(2), 'nn.MaxPool2d(2)', x4],
    [
      'MaxPool2d(3, stride 2, padding 1, ceilMode)',
      () => new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      'nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)',
      x4,
    ],
    ['MaxPool2d dilation', () => new nn.MaxPool2d([2, 3], { stride: 1, dilation: [2, 1] }), 'nn.MaxPool2d((2, 3), stride=1, dilation=(2, 1))', x4],
    ['AvgPool2d(2)', () => new nn.AvgPool2d(2), 'nn.AvgPool2d(2)', x4],
    [
      'AvgPool2d(3, stride 2, padding 1, countIncludePad false, ceilMode)',
      () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }),
      'nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)',
      x4,
    ],
    ['AvgPool2d divisorOverride', () => new nn.AvgPool2d(3, { stride: 2, divisorOverride: 4 }), 'nn.AvgPool2d(3, stride=2, divisor_override=4)', x4],
    ['AdaptiveAvgPool2d(1)', () => new nn.AdaptiveAvgPool2d(1), 'nn.AdaptiveAvgPool2d(1)', x4],
    ['AdaptiveAvgPool2d([4, 3])', () => new nn.AdaptiveAvgPool2d([4, 3]), 'nn.AdaptiveAvgPool2d((4, 3))', x4],
    ['AdaptiveAvgPool3d([2, 3, 4])', () => new nn.AdaptiveAvgPool3d([2, 3, 4]), 'nn.AdaptiveAvgPool3d((2, 3, 4))', x5],
    ['Flatten()', () => new nn.Flatten(), 'nn.Flatten()', x4],
    ['Flatten(0, 2)', () => new nn.Flatten(0, 2), 'nn.Flatten(0, 2)', x4],
    ['Flatten(2)', () => new nn.Flatten(2), 'nn.Flatten(2)', x5],
    ['Dropout(0.5) in eval', () => new nn.Dropout(0.5).eval(), 'nn.Dropout(0.5).eval()', x4],
    ['ReLU', () => new nn.ReLU(), 'nn.ReLU()', act],
    ['GELU tanh', () => new nn.GELU({ approximate: 'tanh' }), "nn.GELU(approximate='tanh')", act],
    ['Softmax(1)', () => new nn.Softmax(1), 'nn.Softmax(1)', act],
    ['Hardswish', () => new nn.Hardswish(), 'nn.Hardswish()', act],
  ];
  it.each(stateless)('%s', async (_name, build, pyBuild, x) => {
    const ref = await py.run(`out = ${pyBuild}(x)`, { x });
    expectClose((build() as torch.nn.AnyModule)(x) as Tensor, ref, SUMS);
  });

  it('Dropout in train mode: the same mask as nn.Dropout with the same seed', async () => {
    const d = new nn.Dropout(0.3);
    torch.manualSeed(11);
    const ours = d(x4) as Tensor;
    const ref = await py.run('torch.manual_seed(11); out = nn.Dropout(0.3)(x4)', inputs);
    expectClose(ours, ref, EXACT);
  });

  const losses: [string, () => torch.nn.Module, string, Tensor, Tensor][] = [
    ['CrossEntropyLoss()', () => new nn.CrossEntropyLoss(), 'nn.CrossEntropyLoss()', logits, target],
    [
      'CrossEntropyLoss(weight, ignoreIndex, labelSmoothing, sum)',
      () => new nn.CrossEntropyLoss({ weight: classW, ignoreIndex: 3, labelSmoothing: 0.15, reduction: 'sum' }),
      "nn.CrossEntropyLoss(weight=classW, ignore_index=3, label_smoothing=0.15, reduction='sum')",
      logits,
      target,
    ],
    [
      'CrossEntropyLoss(none) probabilities',
      () => new nn.CrossEntropyLoss({ reduction: 'none' }),
      "nn.CrossEntropyLoss(reduction='none')",
      logits,
      probs,
    ],
    ['CrossEntropyLoss K-dim', () => new nn.CrossEntropyLoss({ weight: classW }), 'nn.CrossEntropyLoss(weight=classW)', logits4, target4],
    ['NLLLoss(weight)', () => new nn.NLLLoss({ weight: classW }), 'nn.NLLLoss(weight=classW)', logits, targetIgn],
    ['MSELoss(sum)', () => new nn.MSELoss({ reduction: 'sum' }), "nn.MSELoss(reduction='sum')", pred, tgt],
  ];
  it.each(losses)('%s: loss and input gradient', async (_name, build, pyBuild, input, t) => {
    const xi = input.clone().requiresGrad_();
    const l = (build() as torch.nn.AnyModule)(xi, t) as Tensor;
    l.sum().backward();
    const ref = await py.run<Tensor[]>(`xi = input.clone().requires_grad_(); l = ${pyBuild}(xi, t); l.sum().backward(); out = [l, xi.grad]`, {
      input,
      t,
      classW,
    });
    expectClose(l.detach(), ref[0], SUMS);
    expectClose(xi.grad!, ref[1], { rtol: 1e-4, atol: 1e-6 });
  });

  it('CrossEntropyLoss registers its weight as a buffer, as PyTorch does', async () => {
    const keys = Object.keys(new nn.CrossEntropyLoss({ weight: classW }).stateDict());
    expect(keys).toEqual(await py.run<string[]>('out = list(nn.CrossEntropyLoss(weight=classW).state_dict().keys())', { classW }));
  });

  it('a small conv net (Conv2d → BatchNorm2d → ReLU → MaxPool2d → AdaptiveAvgPool2d → Flatten → Linear) with loaded weights', async () => {
    torch.manualSeed(9);
    const net = new nn.Sequential(
      new nn.Conv2d(4, 8, 3, { padding: 1 }),
      new nn.BatchNorm2d(8),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.AdaptiveAvgPool2d([2, 2]),
      new nn.Flatten(),
      new nn.Dropout(0.2),
      new nn.Linear(32, 4),
    );
    const sd = snapshot(net);
    // Dropout in training draws from the generator: both sides seed it at the same point.
    torch.manualSeed(10);
    const loss = F.crossEntropy(net(x4) as Tensor, torch.tensor([1, 3]));
    loss.backward();
    const trained = snapshot(net); // BatchNorm's running stats after one training step
    net.eval();
    const evalOut = torch.noGrad(() => net(x4) as Tensor);
    const ref = await py.run<[Tensor, Tensor, Record<string, Tensor>, Record<string, Tensor>]>(
      `net = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d((2, 2)),
    nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 4))
net.load_state_dict(sd)
torch.manual_seed(10)
loss = F.cross_entropy(net(x4), torch.tensor([1, 3])); loss.backward()
trained = {k: v.clone() for k, v in net.state_dict().items()}
net.eval()
with torch.no_grad(): e = net(x4)
out = [loss, e, trained, {n: p.grad for n, p in net.named_parameters()}]`,
      { ...inputs, sd },
    );
    expectClose(loss.detach(), ref[0], SUMS);
    expectClose(evalOut, ref[1], SUMS);
    expect(Object.keys(trained)).toEqual(Object.keys(ref[2]));
    for (const [k, v] of Object.entries(ref[2])) expectClose(trained[k], v, k.endsWith('num_batches_tracked') ? EXACT : SUMS);
    for (const [n, p] of net.namedParameters()) expectClose(p.grad!, ref[3][n], { rtol: 1e-4, atol: 1e-5 });
    expect(evalOut.shape).toEqual([2, 4]);
  });
});

// ---- bad input ----

describe('bad input is a clear error, as in PyTorch', () => {
  it.each([
    ['conv2d channel mismatch', () => F.conv2d(x4, torch.randn([3, 5, 3, 3])), /expected input\[2, 4, 9, 10\] to have 5 channels/],
    [
      "conv2d padding 'same' with stride 2",
      () => F.conv2d(x4, w, { padding: 'same', stride: 2 }),
      /padding='same' is not supported for strided convolutions/,
    ],
    ['conv2d unknown padding string', () => F.conv2d(x4, w, { padding: 'full' as never }), /padding/],
    ['linear shape mismatch', () => F.linear(x2, torch.randn([3, 5])), /cannot be multiplied/],
    ['maxPool2d padding over half the kernel', () => F.maxPool2d(x4, 2, { padding: 2 }), /pad should be at most half of effective kernel size/],
    ['maxPool2d stride 0', () => F.maxPool2d(x4, 2, { stride: 0 }), /stride should not be zero/],
    ['avgPool2d divisorOverride 0', () => F.avgPool2d(x4, 2, { divisorOverride: 0 }), /divisor must be not zero/],
    ['adaptiveAvgPool3d with 2 sizes', () => F.adaptiveAvgPool3d(x5, [2, 2] as never), /outputSize/],
    [
      'batchNorm running stats of the wrong size',
      () => F.batchNorm(x4, torch.zeros([3]), torch.ones([3]), { training: true }),
      /running_mean should contain 4 elements not 3/,
    ],
    ['crossEntropy class index out of range', () => F.crossEntropy(logits, torch.tensor([1, 7, 0, 0, 0, 0])), /Target 7 is out of bounds/],
    ['crossEntropy float target of the wrong shape', () => F.crossEntropy(logits, torch.randn([6, 3])), /target/],
    ['crossEntropy labelSmoothing 1.5', () => F.crossEntropy(logits, target, { labelSmoothing: 1.5 }), /labelSmoothing must be between 0.0 and 1.0/],
    ['nllLoss float target', () => F.nllLoss(logits, torch.randn([6])), /expected target dtype to be Long/],
    ["reduction 'avg'", () => F.mseLoss(pred, tgt, { reduction: 'avg' as never }), /reduction must be 'none', 'mean' or 'sum'/],
    ['pad odd length', () => F.pad(x4, [1, 2, 3]), /Padding length must be divisible by 2/],
    ['pad unknown mode', () => F.pad(x4, [1, 1], { mode: 'zeros' }), /padding mode/i],
    ['pad reflect with a value', () => F.pad(x4, [1, 1], { mode: 'reflect', value: 1 }), /doesn't take in value/],
    ["gelu approximate 'fast'", () => F.gelu(act, { approximate: 'fast' as never }), /approximate must be 'none' or 'tanh'/],
    ['dropout p 1.5', () => F.dropout(x4, { p: 1.5 }), /dropout probability has to be between 0 and 1/],
    ['BatchNorm2d wrong channel count', () => new nn.BatchNorm2d(3)(x4), /expected input with 3 channels/],
    ['BatchNorm2d 3-D input', () => new nn.BatchNorm2d(4)(x3.narrow(1, 0, 4)), /expected 4D input/],
    [
      'binaryCrossEntropyWithLogits of other shapes',
      () => F.binaryCrossEntropyWithLogits(torch.zeros([4, 1]), torch.ones([4, 3])),
      /Target size \(\[4, 3\]\) must be the same as input size \(\[4, 1\]\)/,
    ],
    ['mseLoss of shapes that do not broadcast', () => F.mseLoss(torch.zeros([3]), torch.zeros([4])), /size of tensor a \(3\) must match/],
    // An option torchnode does not have (or Python's snake_case name) would silently change the result.
    [
      'Conv2d padding_mode',
      () => new nn.Conv2d(1, 1, 3, { padding: 1, padding_mode: 'reflect' } as never),
      /'padding_mode' \(torchnode's name is 'paddingMode'\)/,
    ],
    [
      'CrossEntropyLoss label_smoothing',
      () => new nn.CrossEntropyLoss({ label_smoothing: 0.3 } as never),
      /'label_smoothing' \(torchnode's name is 'labelSmoothing'\)/,
    ],
    [
      'crossEntropy ignore_index',
      () => F.crossEntropy(logits, target, { ignore_index: 1 } as never),
      /F\.crossEntropy: unknown option 'ignore_index'/,
    ],
    ['MaxPool2d ceil_mode', () => new nn.MaxPool2d(3, { stride: 2, ceil_mode: true } as never), /MaxPool2d: unknown option 'ceil_mode'/],
    ['BatchNorm2d track_running_stats', () => new nn.BatchNorm2d(2, { track_running_stats: false } as never), /'trackRunningStats'/],
    [
      'maxPool2d return_indices',
      () => F.maxPool2d(x4, 2, { return_indices: true } as never),
      /'return_indices' \(torchnode's name is 'returnIndices'\)/,
    ],
    ['Linear bais', () => new nn.Linear(2, 2, { bais: false } as never), /Linear: unknown option 'bais'/],
  ] as [string, () => unknown, RegExp][])('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });

  // PyTorch's F.batch_norm refuses a batch with one value per channel in training (the unbiased
  // variance would divide by zero); without the check the running variance silently becomes NaN.
  it('batchNorm in training with one value per channel: PyTorch’s error, running stats untouched', async () => {
    const ref = await py.run<string>(`try:
    F.batch_norm(torch.randn(1, 4), torch.zeros(4), torch.ones(4), training=True); out = 'no error'
except ValueError as e:
    out = str(e)`);
    expect(ref).toMatch(/Expected more than 1 value per channel when training/);
    const m = torch.zeros([4]),
      v = torch.ones([4]);
    expect(() => F.batchNorm(torch.randn([1, 4]), m, v, { training: true })).toThrow(/Expected more than 1 value per channel when training/);
    expect(v.isnan().any().item()).toBe(false);
    expect(() => F.batchNorm(torch.randn([1, 4, 1, 1]), null, null, { training: true })).toThrow(/Expected more than 1 value per channel/);
  });

  it('BatchNorm2d in training on a 1×C×1×1 batch: PyTorch’s error, running_var stays finite', () => {
    const bn = new nn.BatchNorm2d(4);
    expect(() => bn(torch.randn([1, 4, 1, 1]))).toThrow(/Expected more than 1 value per channel when training/);
    expect(bn.running_var!.isnan().any().item()).toBe(false);
  });

  it("Conv2d(padding='same', stride 2) is refused when built, as nn.Conv2d does", () => {
    expect(() => new nn.Conv2d(4, 3, 3, { padding: 'same', stride: 2 })).toThrow(/padding='same' is not supported for strided convolutions/);
  });

  it('avgPool2d divisorOverride 2.5: the error names divisorOverride (not "argument 6")', () => {
    expect(() => F.avgPool2d(x4, 2, { divisorOverride: 2.5 })).toThrow(/divisorOverride/);
  });
});
