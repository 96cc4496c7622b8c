// torch.train.evaluationReport and its charts: the confusion matrix counts every test image once, in
// the row of its class and the column of the model's argmax; the SE weights are each gate's output
// averaged over the images; the SVG and HTML pages land in the folder asked for.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as torch from '../lib/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-report-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('evaluationReport', () => {
  it('confusion matrix and SE weights of a model over a test set', async () => {
    torch.manualSeed(0);
    const model = torch.models.seResNet18({ stem: 'cifar', numClasses: 3, width: 16, inChannels: 1 });
    const x = torch.randn(20, 1, 12, 12);
    const y = torch.randint(0, 3, [20]);
    const batches: [torch.Tensor, torch.Tensor][] = [
      [x.narrow(0, 0, 8), y.narrow(0, 0, 8)],
      [x.narrow(0, 8, 12), y.narrow(0, 8, 12)],
    ];
    model.train();
    const report = await torch.train.evaluationReport(model, batches, 3, 'cpu', torch.nn.functional.crossEntropy);
    expect(model.training).toBe(true); // its mode comes back
    // the same predictions, made here in one batch
    model.eval();
    const gates: Record<string, number[]> = {};
    const hooks = [...model.namedModules()]
      .filter(([, m]) => m instanceof torch.models.SEModule)
      .map(([name, m]) =>
        (m as torch.models.SEModule).gate.registerForwardHook((_m, _i, out) => {
          gates[name] = (out as torch.Tensor).flatten(1).mean(0).toArray() as number[];
        }),
      );
    const predicted = torch.noGrad(() => model(x).argmax(1).toArray() as number[]);
    hooks.forEach((h) => h.remove());
    const truth = y.toArray() as number[];
    const expected = [0, 1, 2].map((t) => [0, 1, 2].map((p) => truth.filter((v, i) => v === t && predicted[i] === p).length));
    expect(report.confusion).toEqual(expected);
    expect(report.images).toBe(20);
    expect(report.accuracy).toBe(truth.filter((v, i) => v === predicted[i]).length / 20);
    // the mean loss of the batches, weighted by their sizes: the loss over all 20 images
    const loss = torch.noGrad(() => torch.nn.functional.crossEntropy(model(x), y).item() as number);
    expect(report.loss).toBeCloseTo(loss, 5);
    expect(Object.keys(report.seWeights)).toEqual(Object.keys(gates));
    expect(Object.keys(report.seWeights)).toHaveLength(8); // one per block
    for (const [name, w] of Object.entries(report.seWeights)) {
      expect(w).toHaveLength(gates[name].length);
      w.forEach((v, c) => expect(v).toBeCloseTo(gates[name][c], 5));
    }
    const files = torch.train.writeEvaluationCharts(dir, report, ['zero', 'one', 'two']);
    expect(files).toEqual(['confusion.svg', 'confusion.html', 'se-weights.svg', 'se-weights.html']);
    const svg = fs.readFileSync(path.join(dir, 'confusion.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain(`${report.confusion.reduce((s, r, i) => s + r[i], 0)} of 20 right`);
    expect(fs.readFileSync(path.join(dir, 'se-weights.html'), 'utf8')).toContain('layer4.1.se');
  });

  it('a model without SE blocks gets the confusion matrix only', async () => {
    const model = new torch.nn.Sequential(new torch.nn.Flatten(), new torch.nn.Linear(4, 2));
    const report = await torch.train.evaluationReport(model, [[torch.randn(5, 4), torch.tensor([0, 1, 0, 1, 1])]], 2);
    expect(report.seWeights).toEqual({});
    expect(report.loss).toBeNull(); // no lossFn given
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(5);
    const out = path.join(dir, 'plain');
    fs.mkdirSync(out);
    expect(torch.train.writeEvaluationCharts(out, report, ['a', 'b'])).toEqual(['confusion.svg', 'confusion.html']);
  });
});
