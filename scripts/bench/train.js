#!/usr/bin/env node
/**
 * Training-step time of torchnode against PyTorch eager, on this machine, in this run.
 *
 *     node scripts/bench/train.js                 # CPU presets (small enough for a laptop or CI box)
 *     node scripts/bench/train.js --preset gpu    # issue 6's four H100 configurations (needs CUDA)
 *     node scripts/bench/train.js --json          # every repeat as JSON
 *     options: --steps N --reps N --warmup N --only name,name --threads N --modes eager,offThread
 *
 * A step is the seeds' loop: zeroGrad, forward, cross-entropy, backward, SGD step (momentum 0.9, weight
 * decay 5e-4), on fixed random data. torchnode runs it two ways: 'eager' (the step on the JS thread, op
 * by op, as Trainer({offThread: false})) and 'off-thread' (the step traced once and run on a worker
 * thread with the optimizer's stepAsync, as the Trainer does by default); AMP configurations run eager
 * only. The Python half (train.py, python3 or $TORCHNODE_PYTHON) times PyTorch eager on the same
 * configuration; after every side's warm-up the repeats take turns (Python, eager, off-thread, Python,
 * ...) so that noise from the rest of the machine falls on all of them. The table shows the median ms
 * per step and torchnode / PyTorch. Nothing asserts on time.
 */
'use strict';

const path = require('node:path');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');

const PRESETS = {
  cpu: [
    { name: 'seResNet18 b32 32x32', model: 'se_resnet18', batch: 32, size: 32 },
    { name: 'seResNet50 b8 64x64', model: 'se_resnet50', batch: 8, size: 64 },
  ],
  gpu: [
    { name: 'seResNet18 b128 32x32', model: 'se_resnet18', batch: 128, size: 32 },
    { name: 'seResNet18 b128 224x224', model: 'se_resnet18', batch: 128, size: 224 },
    { name: 'seResNet50 b64 224x224', model: 'se_resnet50', batch: 64, size: 224 },
    { name: 'seResNet50 b128 224 bf16+CL', model: 'se_resnet50', batch: 128, size: 224, amp: 'bfloat16', channelsLast: true },
  ],
};

function parseArgs(argv) {
  const o = { preset: null, json: false, steps: null, reps: 3, warmup: 3, only: null, threads: null, modes: ['eager', 'offThread'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--json') o.json = true;
    else if (a.startsWith('--preset')) o.preset = value();
    else if (a.startsWith('--steps')) o.steps = Number(value());
    else if (a.startsWith('--reps')) o.reps = Number(value());
    else if (a.startsWith('--warmup')) o.warmup = Number(value());
    else if (a.startsWith('--threads')) o.threads = Number(value());
    else if (a.startsWith('--only')) o.only = value().split(',');
    else if (a.startsWith('--modes')) o.modes = value().split(',');
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return o;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const FACTORIES = { se_resnet18: 'seResNet18', se_resnet50: 'seResNet50' };

// Builds the model and the step, warms up; returns a function that times one repeat (ms per step).
async function setupNode(torch, c, mode) {
  const { CompiledStep } = require('../../dist/train/step');
  const F = torch.nn.functional;
  torch.manualSeed(0);
  const model = torch.models[FACTORIES[c.model]]({ numClasses: 10 }).to(c.device);
  if (c.channelsLast) model.to({ memoryFormat: 'channels_last' });
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  let x = torch.randn([c.batch, 3, c.size, c.size], { device: c.device });
  if (c.channelsLast) x = x.contiguous({ memoryFormat: 'channels_last' });
  const y = torch.randint(0, 10, [c.batch], { device: c.device });
  const lossFn = (o, t) => F.crossEntropy(o, t);
  let step;
  if (mode === 'eager') {
    const forward = () => lossFn(model(x), y);
    step = async () => {
      opt.zeroGrad();
      const loss = torch.scope(() => {
        const l = c.amp ? torch.autocast({ deviceType: c.device.split(':')[0], dtype: c.amp }, forward) : forward();
        l.backward();
        return l.detach();
      });
      opt.step();
      return loss;
    };
  } else {
    const compiled = CompiledStep.compile(model, lossFn, x, y);
    step = async () => {
      opt.zeroGrad();
      await compiled.run(x, y); // reads the loss: a synchronization point each step
      await opt.stepAsync();
      return null;
    };
  }
  const sync = (last) => {
    if (last) last.item();
    if (c.device.startsWith('cuda')) torch.cuda.synchronize();
  };
  for (let i = 0; i < c.warmup; i++) (await step())?.dispose();
  sync(null);
  return async () => {
    const t0 = performance.now();
    let last = null;
    for (let i = 0; i < c.steps; i++) {
      last?.dispose();
      last = await step();
    }
    sync(last);
    last?.dispose();
    return (performance.now() - t0) / c.steps;
  };
}

// Starts train.py on the configuration; resolves once it has warmed up, with a function timing one repeat.
async function setupPython(c) {
  const python = process.env.TORCHNODE_PYTHON || 'python3';
  const proc = spawn(python, [path.join(__dirname, 'train.py'), JSON.stringify(c)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`train.py (${python}) exited before answering`);
    return JSON.parse(value);
  };
  const ready = await next();
  return {
    torch: ready.ready,
    rep: async () => {
      proc.stdin.write('run\n');
      return (await next()).ms;
    },
    close: () => proc.stdin.end(),
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(require('node:fs').readFileSync(__filename, 'utf8').split('*/')[0]);
    return;
  }
  const torch = require('../../dist');
  const cudaHere = torch.cuda.isAvailable();
  const preset = o.preset ?? (cudaHere ? 'gpu' : 'cpu');
  if (!PRESETS[preset]) throw new Error(`--preset must be ${Object.keys(PRESETS).join(' or ')}`);
  if (preset === 'gpu' && !cudaHere) throw new Error('--preset gpu needs CUDA, and torch.cuda.isAvailable() is false here');
  const device = preset === 'gpu' ? 'cuda' : 'cpu';
  if (o.threads) torch.setNumThreads(o.threads);
  const threads = torch.getNumThreads();
  const rows = [];
  for (const base of PRESETS[preset]) {
    if (o.only && !o.only.some((n) => base.name.includes(n))) continue;
    const c = { ...base, device, steps: o.steps ?? (device === 'cpu' ? 5 : 30), reps: o.reps, warmup: o.warmup, threads };
    const py = await setupPython(c);
    const eagerRep = o.modes.includes('eager') ? await setupNode(torch, c, 'eager') : null;
    const offRep = c.amp || !o.modes.includes('offThread') ? null : await setupNode(torch, c, 'offThread');
    const [pyMs, eager, off] = [[], eagerRep ? [] : null, offRep ? [] : null];
    for (let r = 0; r < c.reps; r++) {
      pyMs.push(await py.rep());
      if (eagerRep) eager.push(await eagerRep());
      if (offRep) off.push(await offRep());
    }
    py.close();
    rows.push({ name: c.name, python: pyMs, eager, offThread: off, pythonTorch: py.torch });
  }
  if (o.json) {
    console.log(JSON.stringify({ device, threads, rows }, null, 1));
    return;
  }
  const fmt = (x) => (x === null ? '-' : x.toFixed(2));
  console.log(`training step, ${device}${device === 'cpu' ? `, ${threads} threads` : ''}: median ms per step (torchnode / PyTorch ${rows[0]?.pythonTorch ?? ''} eager)`);
  console.log(['config'.padEnd(30), 'PyTorch', 'eager', 'ratio', 'off-thread', 'ratio'].join('\t'));
  for (const r of rows) {
    const p = median(r.python), e = r.eager ? median(r.eager) : null, f = r.offThread ? median(r.offThread) : null;
    console.log([r.name.padEnd(30), fmt(p), fmt(e), e === null ? '-' : `${fmt(e / p)}x`, fmt(f), f === null ? '-' : `${fmt(f / p)}x`].join('\t'));
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
