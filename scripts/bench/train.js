#!/usr/bin/env node
/**
 * Training-step time of torchnode against PyTorch eager, on this machine, in this run.
 *
 *     node scripts/bench/train.js                 # CPU presets (small enough for a laptop or CI box)
 *     node scripts/bench/train.js --preset gpu    # issue 6's four H100 configurations (needs CUDA)
 *     node scripts/bench/train.js --json          # every repeat as JSON
 *     node scripts/bench/train.js --device cuda   # the same as --preset gpu (--device cpu: --preset cpu)
 *     options: --steps N --reps N --warmup N --only name,name --threads N --modes eager,offThread,graph
 *
 * A step is the seeds' loop: zeroGrad, forward, cross-entropy, backward, SGD step (momentum 0.9, weight
 * decay 5e-4), on fixed random data. torchnode runs it up to three ways: 'eager' (the step on the JS
 * thread, op by op, as Trainer({offThread: false})), 'off-thread' (the step traced once and run on the
 * compute thread with the optimizer's stepAsync, as the Trainer does by default) and, on CUDA, 'graph'
 * (the whole step captured once in a CUDA graph and replayed, reading loss and accuracy back each step,
 * as Trainer({cudaGraph: true})); AMP configurations run eager only. The Python half (train.py, python3
 * or $TORCHNODE_PYTHON, found as scripts/python.js finds it) times PyTorch eager on the same configuration, and with 'graph' also PyTorch's
 * own whole-step CUDA graph (its documented recipe: replay without reading anything back). After every
 * side's warm-up the repeats take turns (Python, eager, off-thread, graph, Python, ...) so that noise
 * from the rest of the machine falls on all of them. The table shows the median ms per step and
 * torchnode / PyTorch eager. Both sides use cudnn.benchmark on CUDA. Nothing asserts on time. Every mode
 * runs in a process of its own (Python's as train.py, torchnode's as this script with --serve), as a
 * program that trains one way does.
 */
'use strict';

const path = require('node:path');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const { findReferencePython } = require('../python');

const PRESETS = {
  cpu: [
    { name: 'seResNet18 b32 32x32', model: 'se_resnet18', batch: 32, size: 32 },
    { name: 'seResNet50 b8 64x64', model: 'se_resnet50', batch: 8, size: 64 },
    // Tiny kernels, so the step time is mostly per-op dispatch: the regime of a GPU step, where
    // PyTorch's eager step is bound by launching ops from the host (issue 6).
    { name: 'seResNet18 w16 b2 8x8', model: 'se_resnet18', batch: 2, size: 8, width: 16 },
  ],
  gpu: [
    { name: 'seResNet18 b128 32x32', model: 'se_resnet18', batch: 128, size: 32 },
    { name: 'seResNet18 b128 224x224', model: 'se_resnet18', batch: 128, size: 224 },
    { name: 'seResNet50 b64 224x224', model: 'se_resnet50', batch: 64, size: 224 },
    { name: 'seResNet50 b128 224 bf16+CL', model: 'se_resnet50', batch: 128, size: 224, amp: 'bfloat16', channelsLast: true },
  ],
};

function parseArgs(argv) {
  const o = { preset: null, json: false, steps: null, reps: 3, warmup: 3, only: null, threads: null, modes: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--json') o.json = true;
    else if (a.startsWith('--preset')) o.preset = value();
    else if (a.startsWith('--device')) o.device = value();
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

// Builds the model and the step, warms up; returns rep() (times one repeat: ms per step) and dispose().
async function setupNode(torch, c, mode) {
  const { CompiledStep } = require('../../dist/train/step');
  const F = torch.nn.functional;
  torch.manualSeed(0);
  const model = torch.models[FACTORIES[c.model]]({ numClasses: 10, width: c.width ?? 64 }).to(c.device);
  if (c.channelsLast) model.to({ memoryFormat: 'channels_last' });
  if (c.device.startsWith('cuda')) torch.backends.cudnn.benchmark = true; // as train.py
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  let x = torch.randn([c.batch, 3, c.size, c.size], { device: c.device });
  if (c.channelsLast) x = x.contiguous({ memoryFormat: 'channels_last' });
  const y = torch.randint(0, 10, [c.batch], { device: c.device });
  const lossFn = (o, t) => F.crossEntropy(o, t);
  let step;
  let release = () => {};
  // Frees what this mode holds (a captured graph and its memory pool, a traced step, the model, its
  // gradients and the data) once it is timed, or when its setup fails part-way.
  const dispose = () => {
    release();
    opt.zeroGrad();
    for (const t of [x, y, ...model.parameters(), ...model.buffers()]) t.dispose();
    if (c.device.startsWith('cuda')) torch.cuda.emptyCache();
  };
  try {
    step = await makeStep();
    for (let i = 0; i < c.warmup; i++) (await step())?.dispose();
    sync(null);
  } catch (e) {
    try {
      dispose();
    } catch {
      // the setup's own error is the one to report
    }
    throw e;
  }
  return { rep, dispose };

  async function makeStep() {
    if (mode === 'eager') {
      const forward = () => lossFn(model(x), y);
      return async () => {
        opt.zeroGrad();
        const loss = torch.scope(() => {
          const l = c.amp ? torch.autocast({ deviceType: c.device.split(':')[0], dtype: c.amp }, forward) : forward();
          l.backward();
          return l.detach();
        });
        opt.step();
        return loss;
      };
    }
    if (mode === 'graph') {
      // As Trainer({cudaGraph: true}): eager warm-ups on the side stream, then one capture.
      const { GraphStep } = require('../../dist/train/graph-step');
      const side = new torch.cuda.Stream();
      for (let i = 0; i < 3; i++) {
        torch.cuda.onStream(side, () => {
          opt.zeroGrad();
          torch.scope(() => lossFn(model(x), y).backward());
          opt.step();
        });
      }
      const captured = GraphStep.capture(model, lossFn, opt, x, y, side);
      release = () => captured.dispose();
      return async () => {
        captured.run(x, y); // reads loss and accuracy back: a synchronization point each step
        return null;
      };
    }
    const compiled = CompiledStep.compile(model, lossFn, x, y);
    release = () => compiled.dispose();
    return async () => {
      opt.zeroGrad();
      await compiled.run(x, y); // reads the loss: a synchronization point each step
      await opt.stepAsync();
      return null;
    };
  }

  function sync(last) {
    if (last) last.item();
    if (c.device.startsWith('cuda')) torch.cuda.synchronize();
  }

  async function rep() {
    const t0 = performance.now();
    let last = null;
    for (let i = 0; i < c.steps; i++) {
      last?.dispose();
      last = await step();
    }
    sync(last);
    last?.dispose();
    return (performance.now() - t0) / c.steps;
  }
}

// A side in its own process, speaking train.py's protocol: one JSON line once warmed up ({ready} or
// {error}), then one line {ms} for each 'run' line. Resolves once the side has warmed up.
async function startSide(command, args, env, label) {
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${label} exited before answering`);
    const answer = JSON.parse(value);
    if (answer.error) throw new Error(answer.error);
    return answer;
  };
  const ready = await next().catch((e) => {
    proc.stdin.end();
    throw e;
  });
  return {
    torch: ready.ready,
    rep: async () => {
      proc.stdin.write('run\n');
      return (await next()).ms;
    },
    close: () => proc.stdin.end(),
  };
}

// train.py on the configuration (PyTorch eager, or with graph its whole-step CUDA graph).
function setupPython(c, graph = false) {
  const python = findReferencePython();
  return startSide(python.command, [path.join(__dirname, 'train.py'), JSON.stringify({ ...c, graph })], python.env, `train.py (${python.source})`);
}

// One torchnode mode in a process of its own (this script with --serve), as a program that trains one
// way would run: modes sharing a process share its allocator, and the compute thread's glibc arena then
// costs the JS thread's steps fresh pages (README, Benchmarks).
function setupNodeProcess(c, mode) {
  return startSide(process.execPath, [...process.execArgv, __filename, '--serve', JSON.stringify({ c, mode })], process.env, `torchnode ${mode}`);
}

// The child's side of setupNodeProcess.
async function serve(spec) {
  const { c, mode } = JSON.parse(spec);
  const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
  let side;
  try {
    const torch = require('../../dist');
    torch.setNumThreads(c.threads);
    side = await setupNode(torch, c, mode);
  } catch (e) {
    say({ error: String(e && e.message ? e.message : e).split('\n')[0] });
    return;
  }
  say({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'run') say({ ms: await side.rep() });
  }
  side.dispose();
}

async function main() {
  if (process.argv[2] === '--serve') return serve(process.argv[3]);
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(require('node:fs').readFileSync(__filename, 'utf8').split('*/')[0]);
    return;
  }
  const torch = require('../../dist');
  const cudaHere = torch.cuda.isAvailable();
  if (o.device !== undefined && !/^(cpu|cuda)$/.test(o.device)) throw new Error(`--device must be cpu or cuda (got ${o.device})`);
  const preset = o.preset ?? (o.device ? (o.device === 'cuda' ? 'gpu' : 'cpu') : cudaHere ? 'gpu' : 'cpu');
  if (!PRESETS[preset]) throw new Error(`--preset must be ${Object.keys(PRESETS).join(' or ')}`);
  if (preset === 'gpu' && !cudaHere) throw new Error('--preset gpu needs CUDA, and torch.cuda.isAvailable() is false here');
  const device = preset === 'gpu' ? 'cuda' : 'cpu';
  const modes = o.modes ?? (device === 'cuda' ? ['eager', 'offThread', 'graph'] : ['eager', 'offThread']);
  if (modes.includes('graph') && device !== 'cuda') throw new Error('--modes graph needs CUDA (a CUDA graph step)');
  if (o.threads) torch.setNumThreads(o.threads);
  const threads = torch.getNumThreads();
  const fmt = (x) => (x === null ? '-' : x.toFixed(2));
  const graphs = modes.includes('graph');
  const columns = [
    ['eager', 'eager'],
    ['offThread', 'off-thread'],
    ['graph', 'graph'],
    ['pythonGraph', 'PyTorch graph'],
  ].filter(([k]) => modes.includes(k) || (k === 'pythonGraph' && graphs));
  if (!o.json) {
    // Printed before the first configuration and a row as each one ends, so a run cut short keeps its rows.
    console.log(`training step, ${device}${device === 'cpu' ? `, ${threads} threads` : ''}: median ms per step (torchnode / PyTorch eager)`);
    if (modes.includes('offThread') || graphs) {
      console.log(
        '(off-thread and graph read loss and accuracy back every step, as the Trainer does; ' +
          'PyTorch eager and PyTorch graph do not; a cell says "err" where that mode failed, with the error below)',
      );
    }
    console.log(['config'.padEnd(30), 'PyTorch', ...columns.flatMap(([, title]) => [title, 'ratio'])].join('\t'));
  }
  const rows = [];
  for (const base of PRESETS[preset]) {
    if (o.only && !o.only.some((n) => base.name.includes(n))) continue;
    const c = { ...base, device, steps: o.steps ?? (device === 'cpu' ? 5 : 30), reps: o.reps, warmup: o.warmup, threads };
    const row = { name: c.name, python: [], pythonTorch: null, errors: {} };
    const wanted = {
      eager: modes.includes('eager'),
      offThread: modes.includes('offThread') && !c.amp,
      graph: graphs && !c.amp,
      pythonGraph: graphs && !c.amp,
    };
    const sides = {};
    // A mode that fails (setup or a repeat) is reported in its cell; the others go on.
    const attempt = async (k, fn) => {
      try {
        return await fn();
      } catch (e) {
        row.errors[k] = String(e && e.message ? e.message : e)
          .split('\n')[0]
          .slice(0, 300);
        return null;
      }
    };
    const py = await attempt('python', () => setupPython(c));
    if (py) row.pythonTorch = py.torch;
    if (py && !o.json && rows.every((r) => !r.pythonTorch)) console.log(`(PyTorch ${py.torch} in ${findReferencePython().source})`);
    if (wanted.pythonGraph) sides.pythonGraph = await attempt('pythonGraph', () => setupPython(c, true));
    for (const k of ['eager', 'offThread', 'graph']) if (wanted[k]) sides[k] = await attempt(k, () => setupNodeProcess(c, k));
    for (const k of Object.keys(wanted)) row[k] = wanted[k] && sides[k] ? [] : null;
    for (let r = 0; r < c.reps && py; r++) {
      const ms = await attempt('python', () => py.rep());
      if (ms === null) break;
      row.python.push(ms);
      for (const k of Object.keys(sides)) {
        if (!row[k] || row.errors[k]) continue;
        const t = await attempt(k, () => sides[k].rep());
        if (t !== null) row[k].push(t);
      }
    }
    py?.close();
    sides.pythonGraph?.close();
    for (const k of ['eager', 'offThread', 'graph']) sides[k]?.close();
    rows.push(row);
    if (!o.json) {
      const p = row.python.length ? median(row.python) : null;
      const cell = (k) => {
        if (row.errors[k] || (k === 'pythonGraph' && wanted.pythonGraph && !sides.pythonGraph)) return ['err', '-'];
        if (!row[k] || !row[k].length) return ['-', '-'];
        const m = median(row[k]);
        return [fmt(m), p === null ? '-' : `${fmt(m / p)}x`];
      };
      console.log([c.name.padEnd(30), row.errors.python ? 'err' : fmt(p), ...columns.flatMap(([k]) => cell(k))].join('\t'));
      for (const [k, msg] of Object.entries(row.errors)) console.log(`  ${k}: ${msg}`);
    }
  }
  if (o.json) console.log(JSON.stringify({ device, threads, rows }, null, 1));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
