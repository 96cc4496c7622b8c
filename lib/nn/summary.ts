/**
 * torch.summary(model, inputShape): each layer's output shape and parameter count, from one forward pass
 * of zeros (eval mode, no gradients), like torchinfo — each layer's output shape, as text and data.
 */
import { Module, type AnyModule } from './module';
import { Tensor } from '../core/tensor';
import { zeros } from '../generated/torch';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import { describe, type Dtype } from '../core/dtype';

export interface SummaryRow {
  /** Dotted path ('layer1.0.se'); '' is the model itself. */
  name: string;
  type: string;
  depth: number;
  /** Output shape(s) of the module's first call in the pass. */
  outputShape: number[] | number[][] | null;
  /** Parameters of this module and its submodules. */
  params: number;
  trainable: boolean;
}

export interface Summary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  text: string;
  toString(): string;
}

function shapesOf(out: unknown): number[] | number[][] | null {
  if (out instanceof Tensor) return out.shape;
  if (Array.isArray(out) && out.every((o) => o instanceof Tensor)) return out.map((o: Tensor) => o.shape);
  return null;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * @param inputShape the input's shape including the batch dim ([1, 3, 224, 224]), or one per input.
 * @param opts depth: rows deeper than this are left out of the text (default 3); dtype/device of the input.
 */
export function summary(model: Module, inputShape: number[] | number[][], opts: { depth?: number; dtype?: Dtype; device?: string } = {}): Summary {
  if (!(model instanceof Module)) throw new TypeError(`summary(model): model must be an nn.Module (got ${describe(model)})`);
  const shapes = Array.isArray(inputShape[0]) ? (inputShape as number[][]) : [inputShape as number[]];
  const named = [...model.namedModules()];
  const outputs = new Map<Module, number[] | number[][] | null>();
  const handles = named.map(([, m]) =>
    m.registerForwardHook((mod, _inputs, output) => {
      if (!outputs.has(mod)) outputs.set(mod, shapesOf(output));
    }),
  );
  // Each module's own mode is restored after (a model may hold a submodule in eval on purpose).
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  try {
    scope(() => noGrad(() => (model as AnyModule)(...shapes.map((s) => zeros(s, { dtype: opts.dtype, device: opts.device })))));
  } finally {
    handles.forEach((h) => h.remove());
    for (const [m, training] of modes) m.training = training;
  }
  const rows: SummaryRow[] = named.map(([name, m]) => {
    const params = m.parameters();
    return {
      name,
      type: m.constructor.name,
      depth: name === '' ? 0 : name.split('.').length,
      outputShape: outputs.get(m) ?? null,
      params: params.reduce((s, p) => s + p.numel(), 0),
      trainable: params.some((p) => p.requiresGrad),
    };
  });
  const all = model.parameters();
  const totalParams = all.reduce((s, p) => s + p.numel(), 0);
  const trainableParams = all.filter((p) => p.requiresGrad).reduce((s, p) => s + p.numel(), 0);
  const maxDepth = opts.depth ?? 3;
  const shown = rows.filter((r) => r.depth > 0 && r.depth <= maxDepth);
  const label = (r: SummaryRow) => `${'  '.repeat(r.depth - 1)}${r.name.split('.').pop()} (${r.type})`;
  const shapeText = (s: SummaryRow['outputShape']) => (s === null ? '--' : JSON.stringify(s).replace(/,/g, ', '));
  const w1 = Math.max(20, ...shown.map((r) => label(r).length)) + 2;
  const w2 = Math.max(14, ...shown.map((r) => shapeText(r.outputShape).length)) + 2;
  const rule = '='.repeat(w1 + w2 + 14);
  const lines = [
    rule,
    `${'Layer (type)'.padEnd(w1)}${'Output Shape'.padEnd(w2)}${'Param #'.padStart(12)}`,
    rule,
    ...shown.map((r) => `${label(r).padEnd(w1)}${shapeText(r.outputShape).padEnd(w2)}${fmt(r.params).padStart(12)}`),
    rule,
    `Total params: ${fmt(totalParams)}`,
    `Trainable params: ${fmt(trainableParams)}`,
    `Non-trainable params: ${fmt(totalParams - trainableParams)}`,
    `Input shape: ${shapes.map((s) => JSON.stringify(s).replace(/,/g, ', ')).join(', ')}; output shape: ${shapeText(rows[0].outputShape)}`,
    rule,
  ];
  const text = lines.join('\n');
  return { rows, totalParams, trainableParams, nonTrainableParams: totalParams - trainableParams, text, toString: () => text };
}
