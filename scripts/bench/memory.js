#!/usr/bin/env node
/**
 * The training loop a PyTorch user writes — no torch.scope, no dispose(), no await — against the same
 * loop inside torch.scope: step time (ratio literal / scoped; the goal is ≤ 1.1×) and RSS growth after
 * the warm-up. Each loop runs in its own process, the two taking turns, and each turn is a fresh process.
 *
 *     node scripts/bench/memory.js [--steps N] [--turns N] [--model width,batch,size]
 *
 * Default: seResNet18 (cifar stem) width 16, batch 8 of 32×32, 150 timed steps after 20 of warm-up,
 * 3 turns each; the table shows the median turn. Nothing here asserts: it prints what it measured.
 */
'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');

const { values: o } = parseArgs({
  options: { steps: { type: 'string', default: '150' }, turns: { type: 'string', default: '3' }, model: { type: 'string', default: '16,8,32' } },
});
const [width, batch, size] = o.model.split(',').map(Number);
const DIST = path.resolve(__dirname, '../../dist/index.js');

// One turn: warm up 20 steps, then time `steps` steps; RSS growth from the end of the warm-up.
const child = (mode) => `
const torch = require(${JSON.stringify(DIST)});
const F = torch.nn.functional;
torch.manualSeed(0);
const model = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: ${width} });
const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const x = torch.randn(${batch}, 3, ${size}, ${size}), y = torch.randint(0, 10, [${batch}]);
const literal = () => { opt.zeroGrad(); const loss = F.crossEntropy(model(x), y); loss.backward(); opt.step(); };
const scoped = () => torch.scope(() => { opt.zeroGrad(); const loss = F.crossEntropy(model(x), y); loss.backward(); opt.step(); });
const step = ${mode === 'literal' ? 'literal' : 'scoped'};
for (let i = 0; i < 20; i++) step();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < ${Number(o.steps)}; i++) { step(); peak = Math.max(peak, process.memoryUsage().rss); }
const ms = Number(process.hrtime.bigint() - t0) / 1e6 / ${Number(o.steps)};
console.log(JSON.stringify({ ms, growthMB: (peak - rss0) / 2 ** 20 }));
`;

function turn(mode) {
  const r = spawnSync(process.execPath, ['-e', child(mode)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode} loop failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = { literal: [], scoped: [] };
for (let t = 0; t < Number(o.turns); t++) for (const mode of ['literal', 'scoped']) runs[mode].push(turn(mode));

console.log(
  `seResNet18 width ${width}, batch ${batch} of ${size}x${size}, ${o.steps} steps after 20 of warm-up, median of ${o.turns} turns (node ${process.version})`,
);
console.log('loop      ms/step   RSS growth');
for (const mode of ['literal', 'scoped']) {
  console.log(
    `${mode.padEnd(9)} ${median(runs[mode].map((r) => r.ms))
      .toFixed(2)
      .padStart(7)}   ${median(runs[mode].map((r) => r.growthMB))
      .toFixed(1)
      .padStart(7)} MB`,
  );
}
const ratio = median(runs.literal.map((r) => r.ms)) / median(runs.scoped.map((r) => r.ms));
console.log(`literal / scoped: ${ratio.toFixed(2)}x (goal <= 1.1x)`);
