/**
 * What an evaluation shows beyond its accuracy: the confusion matrix over the classes, and the SE gates'
 * mean channel weights (collected with forward hooks on each SEModule's gate), and
 * the charts of both written into a run folder beside the learning curve.
 */
import * as path from 'node:path';
import type { Tensor } from '../core/tensor';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import type { Module } from '../nn/module';
import { SEModule } from '../models/se';
import { writeAtomic } from '../io/atomic';
import { confusionMatrixHtml, confusionMatrixSvg, seWeightsHtml, seWeightsSvg } from './chart';

export interface EvaluationReport {
  /** matrix[true][predicted]: how many images of each class were predicted as each class. */
  confusion: number[][];
  /** SE block name → its gate's mean weight per channel over the images (empty without SE blocks). */
  seWeights: Record<string, number[]>;
  images: number;
  accuracy: number;
  /** The mean of `lossFn` over the images, when one was given. */
  loss: number | null;
}

/**
 * Runs the model (in eval mode, without gradients) over [input, target] batches of `numClasses` classes;
 * with `lossFn` (a batch's mean loss, as the Trainer's) the mean loss too, so one pass gives all of it.
 */
export async function evaluationReport(
  model: Module<[Tensor], Tensor>,
  batches: Iterable<[Tensor, Tensor]> | AsyncIterable<[Tensor, Tensor]>,
  numClasses: number,
  device = 'cpu',
  lossFn?: (output: Tensor, target: Tensor) => Tensor,
): Promise<EvaluationReport> {
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const sums = new Map<string, { sum: number[]; n: number }>();
  const hooks = [...model.namedModules()]
    .filter(([, m]) => m instanceof SEModule)
    .map(([name, m]) =>
      (m as SEModule).gate.registerForwardHook((_m, _inputs, output) => {
        const w = output as Tensor;
        const perChannel = w.flatten(1).sum(0).toArray() as number[];
        const acc = sums.get(name) ?? { sum: new Array<number>(perChannel.length).fill(0), n: 0 };
        perChannel.forEach((v, c) => (acc.sum[c] += v));
        acc.n += w.shape[0];
        sums.set(name, acc);
      }),
    );
  const wasTraining = model.training;
  model.eval();
  let images = 0;
  let right = 0;
  let lossSum = 0;
  try {
    for await (const [input, target] of batches) {
      const [predicted, truth, loss] = scope(() =>
        noGrad(() => {
          const output = model(input.to(device));
          const batchLoss = lossFn ? (lossFn(output, target.to(device)).item() as number) : 0;
          return [output.argmax(1).toArray() as number[], target.toArray() as number[], batchLoss] as const;
        }),
      );
      lossSum += loss * truth.length;
      truth.forEach((t, i) => {
        confusion[t][predicted[i]]++;
        if (t === predicted[i]) right++;
      });
      images += truth.length;
    }
  } finally {
    hooks.forEach((h) => h.remove());
    model.train(wasTraining);
  }
  const seWeights = Object.fromEntries([...sums].map(([name, { sum, n }]) => [name, sum.map((v) => v / n)]));
  return { confusion, seWeights, images, accuracy: images ? right / images : 0, loss: lossFn ? lossSum / Math.max(images, 1) : null };
}

/** confusion.svg/html, and se-weights.svg/html when the model has SE blocks, into `dir`; the files written. */
export function writeEvaluationCharts(dir: string, report: EvaluationReport, classes: string[]): string[] {
  const written = [
    ['confusion.svg', confusionMatrixSvg(report.confusion, classes)],
    ['confusion.html', confusionMatrixHtml(report.confusion, classes)],
  ];
  if (Object.keys(report.seWeights).length > 0) {
    written.push(['se-weights.svg', seWeightsSvg(report.seWeights)], ['se-weights.html', seWeightsHtml(report.seWeights)]);
  }
  for (const [name, text] of written) writeAtomic(path.join(dir, name), text);
  return written.map(([name]) => name);
}
