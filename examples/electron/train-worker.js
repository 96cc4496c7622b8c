'use strict';
// The training half of the example: runs in a worker thread (main.js starts it), never on the window's
// thread. It trains a narrow SE-ResNet-18 on the MNIST digits that ship in the `mnist` package and posts
// a message per step and per epoch; the window draws them. Plain Node runs it the same way (train-cli.js).
//
// workerData (all optional): { epochs = 2, batchSize = 64, width = 16, lr = 0.05, seed = 0, maxSteps }
// Messages out: {type:'start', …}, {type:'step', epoch, step, steps, loss, batchLoss, accuracy, lr,
// imagesPerSecond, etaSeconds}, {type:'epoch', …the epoch's record}, then {type:'done', stopped, history}
// or {type:'error', message}. Message in: {type:'stop'} stops after the current step.
const { parentPort, workerData } = require('node:worker_threads');
const torch = require('torchnode');

const { data, models, optim, train } = torch;

async function main() {
  const opts = { epochs: 2, batchSize: 64, width: 16, lr: 0.05, seed: 0, maxSteps: Infinity, ...workerData };
  torch.manualSeed(opts.seed);
  const info = data.datasetInfo('mnist');
  const transform = data.standardTransform(info, false);
  const trainLoader = new data.DataLoader(data.MNIST.fromPackage({ train: true }), { batchSize: opts.batchSize, shuffle: true, transform });
  const testLoader = new data.DataLoader(data.MNIST.fromPackage({ train: false }), { batchSize: 256, transform });
  const model = models.seResNet18({ stem: 'cifar', inChannels: 1, numClasses: 10, width: opts.width, se: { reduction: 4 } });
  const optimizer = new optim.SGD(model.parameters(), { lr: opts.lr, momentum: 0.9, weightDecay: 5e-4 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
  const trainer = new train.Trainer({ model, optimizer, scheduler, progress: false, handleSigint: false });

  let stopped = false;
  parentPort.on('message', (m) => {
    if (m && m.type === 'stop') {
      stopped = true;
      trainer.stop();
    }
  });
  let steps = 0;
  trainer.on('step', (s) => {
    parentPort.postMessage({ type: 'step', ...s });
    if (++steps >= opts.maxSteps) {
      stopped = true;
      trainer.stop();
    }
  });
  trainer.on('epoch', (record) => parentPort.postMessage({ type: 'epoch', ...record }));

  parentPort.postMessage({
    type: 'start', device: trainer.device, torchVersion: torch.buildInfo.torchVersion, epochs: opts.epochs,
    stepsPerEpoch: trainLoader.length, parameters: model.parameters().reduce((n, p) => n + p.numel(), 0),
  });
  const history = await trainer.fit(trainLoader, { epochs: opts.epochs, testData: testLoader });
  parentPort.postMessage({ type: 'done', stopped, history });
  parentPort.close(); // nothing more to say: let the worker end
}

main().catch((e) => {
  parentPort.postMessage({ type: 'error', message: e && e.stack ? e.stack : String(e) });
  parentPort.close();
});
