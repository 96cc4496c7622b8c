#!/usr/bin/env node
/**
 * How late a 10 ms timer fires while Trainer.fit trains on the CPU, with the step on the JS thread
 * (offThread: false) and off it (the default). Prints the step time and the timer's lateness (median,
 * 99th percentile, worst) after the first step (which traces the step). Nothing asserts on time.
 *
 *     node scripts/bench/responsiveness.js [--width 32] [--batch 32] [--steps 12]
 */
'use strict';

const torch = require('../../dist');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function measure(offThread, { width, batch, steps }) {
  torch.manualSeed(0);
  const model = torch.models.seResNet18({ numClasses: 10, width, stem: 'cifar' });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const trainer = new torch.train.Trainer({ model, optimizer, progress: false, offThread, handleSigint: false });
  const batches = {
    length: steps,
    *[Symbol.iterator]() {
      for (let i = 0; i < steps; i++) yield [torch.randn([batch, 3, 32, 32]), torch.randint(0, 10, [batch])];
    },
  };
  const late = [];
  let stepsDone = 0;
  let firstStepEnd = 0;
  trainer.on('step', () => {
    stepsDone++;
    if (stepsDone === 1) firstStepEnd = performance.now();
  });
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    if (stepsDone >= 1) late.push(now - expected);
    expected = now + 10;
  }, 10);
  await trainer.fit(batches, { epochs: 1 });
  const elapsed = performance.now() - firstStepEnd;
  clearInterval(timer);
  late.sort((a, b) => a - b);
  const q = (p) => late[Math.min(late.length - 1, Math.floor(p * late.length))] ?? NaN;
  return { stepMs: elapsed / (steps - 1), median: q(0.5), p99: q(0.99), worst: late[late.length - 1] ?? NaN };
}

(async () => {
  const o = { width: arg('width', 32), batch: arg('batch', 32), steps: arg('steps', 12) };
  console.log(`seResNet18 (cifar stem, width ${o.width}), batch ${o.batch}, ${torch.getNumThreads()} threads: a 10 ms timer's lateness during fit()`);
  console.log(['step', 'ms/step', 'median late', 'p99 late', 'worst'].join('\t'));
  for (const offThread of [false, true]) {
    const r = await measure(offThread, o);
    console.log(
      [
        offThread ? 'off-thread' : 'JS thread',
        r.stepMs.toFixed(1),
        `${r.median.toFixed(1)} ms`,
        `${r.p99.toFixed(1)} ms`,
        `${r.worst.toFixed(1)} ms`,
      ].join('\t'),
    );
  }
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
