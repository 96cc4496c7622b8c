#!/usr/bin/env node
/**
 * CPU inference of one SE-ResNet in every form it ships in, against PyTorch and onnxruntime-node.
 * Python (scripts/bench/infer.py) builds the model and writes its weights, a frozen TorchScript file, an
 * AOTInductor package (compiled with freezing) and an ONNX export; then, with the same weights:
 *
 *   torchnode eager   torch.models.seResNet* + loadStateDict, forward under noGrad
 *   torchnode script  torch.jit.load of Python's frozen TorchScript
 *   torchnode aoti    torch.aoti.loadPackage of Python's package
 *   Python eager / script / aoti (in its own process)
 *   onnxruntime-node  the ONNX export (when onnxruntime-node and Python's onnx package are installed)
 *
 * Each form runs in a process of its own (so no form's thread pool or memory sits beside another's), all
 * on the same input; the forms take turns, repeat after repeat, with a pause before each turn. Twins take
 * theirs back to back (onnxruntime-node next to torchnode's AOTInductor form), swapping places each round.
 * Printed are the median ms per forward and the ratios (the median of each round's, with the range a
 * bootstrap over the rounds gives it, 95%): each torchnode form against its Python twin, and torchnode's
 * fastest against onnxruntime-node. Every form's output is checked against Python eager's.
 *
 *     node scripts/bench/infer.js [--model seResNet18|seResNet50] [--steps N] [--reps N] [--warmup N]
 *
 * onnxruntime-node is not a dependency of torchnode: `npm install --no-save --ignore-scripts
 * onnxruntime-node` (its install script fetches CUDA libraries, which the CPU run does not need), or
 * point ONNXRUNTIME_NODE at an installed copy; Python's legacy ONNX exporter needs `pip install onnx`.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const { findReferencePython } = require('../python');

const MODELS = {
  seResNet18: { batch: 32, size: 32, steps: 20, reps: 15, options: { numClasses: 10 } },
  seResNet50: { batch: 8, size: 224, steps: 3, reps: 9, options: { numClasses: 1000 } },
};
const NODE_FORMS = ['torchnode eager', 'torchnode script', 'torchnode aoti', 'onnxruntime-node'];
const PYTHON_FORMS = ['eager', 'script', 'aoti'];

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return typeof fallback === 'number' ? Number(v) : v;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// How far a median of per-round ratios could move with other rounds on this machine: the 2.5th and 97.5th
// percentiles of that median over 2,000 resamplings of the rounds (a bootstrap). Seeded, so that the same
// times print the same range.
function bootstrap(values) {
  let seed = 0x2545f491;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians = Array.from({ length: 2000 }, () => median(values.map(() => values[Math.floor(random() * values.length)])));
  medians.sort((a, b) => a - b);
  return [medians[50], medians[1949]];
}
// A pause before each turn: the thread pools of the form before (OpenMP's, onnxruntime's) spin a while
// after their work, and on a 2-core machine that spinning would be charged to the next form.
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

function onnxRuntime() {
  try {
    return require(process.env.ONNXRUNTIME_NODE || 'onnxruntime-node');
  } catch {
    return null;
  }
}

/** A process serving one form: {ready, diff} once, then {ms} per repeat asked for. */
function serveProcess(command, args, env, label) {
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${label}: its process exited before answering`);
    return JSON.parse(value);
  };
  return { next, repeat: async () => (proc.stdin.write('run\n'), (await next()).ms), close: () => proc.stdin.end() };
}

// ---- worker: node infer.js --worker '<form>' '<config>' ----

async function worker(form, c) {
  const torch = require('../../dist');
  const { x, y: expected } = torch.load(path.join(c.dir, 'io.pt'));
  let run;
  if (form === 'onnxruntime-node') {
    const ort = onnxRuntime();
    const session = await ort.InferenceSession.create(path.join(c.dir, 'model.onnx'), { intraOpNumThreads: c.threads, interOpNumThreads: 1 });
    const feeds = { x: new ort.Tensor('float32', x.data(), x.shape) };
    run = async () => {
      const out = (await session.run(feeds)).y;
      return { result: out, tensor: () => torch.tensor(out.data).view(out.dims) };
    };
  } else {
    const model =
      form === 'torchnode eager'
        ? torch.models[c.model](MODELS[c.model].options)
        : form === 'torchnode script'
          ? torch.jit.load(path.join(c.dir, 'script.pt'))
          : torch.aoti.loadPackage(path.join(c.dir, 'model.pt2'));
    if (form === 'torchnode eager') {
      model.loadStateDict(torch.load(path.join(c.dir, 'weights.pt')));
      model.eval();
    }
    const forward = form === 'torchnode script' ? (t) => model.forward(t) : (t) => model(t);
    run = async () => {
      const out = torch.noGrad(() => forward(x));
      return { result: out, tensor: () => out };
    };
  }
  let last = null;
  for (let i = 0; i < c.warmup; i++) {
    last?.result.dispose?.();
    last = await run();
  }
  const diff = torch.scope(() => last.tensor().sub(expected).abs().max().item());
  console.log(JSON.stringify({ ready: form, diff }));
  for await (const _ of createInterface({ input: process.stdin })) {
    const t0 = performance.now();
    for (let i = 0; i < c.steps; i++) (await run()).result.dispose?.();
    console.log(JSON.stringify({ ms: (performance.now() - t0) / c.steps }));
  }
}

// ---- main ----

async function bench(name, ortInstalled) {
  const spec = MODELS[name];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-bench-infer-'));
  const torch = require('../../dist');
  const c = {
    model: name,
    batch: spec.batch,
    size: spec.size,
    dir,
    threads: torch.getNumThreads(),
    steps: arg('steps', spec.steps),
    reps: arg('reps', spec.reps),
    warmup: arg('warmup', 3),
  };
  const python = findReferencePython();
  const script = path.join(__dirname, 'infer.py');
  console.log(`${name}: Python builds the forms (compiling the AOTInductor package takes a while)…`);
  const prep = serveProcess(python.command, [script, 'prepare', JSON.stringify(c)], python.env, 'infer.py prepare');
  const { ready: version, onnx } = await prep.next();
  prep.close();

  const forms = {};
  for (const form of NODE_FORMS) {
    if (form === 'onnxruntime-node' && !(ortInstalled && onnx)) continue;
    forms[form] = serveProcess(process.execPath, [__filename, '--worker', form, JSON.stringify(c)], process.env, form);
  }
  for (const form of PYTHON_FORMS)
    forms[`Python ${form}`] = serveProcess(python.command, [script, form, JSON.stringify(c)], python.env, `Python ${form}`);
  // One at a time: loading and warming up are timed by no one, but they compete for the cores.
  for (const [form, p] of Object.entries(forms)) {
    const { diff } = await p.next();
    if (!(diff < 1e-3)) throw new Error(`${form}: its output differs from Python eager's (max |diff| ${diff})`);
  }
  const times = Object.fromEntries(Object.keys(forms).map((k) => [k, []]));
  // Forms compared with each other take their turns one right after the other and swap places each round,
  // so that neither the machine's drift nor the place in the round favours one side; torchnode's AOTInductor
  // form (its fastest) sits between its Python twin and onnxruntime-node.
  const groups = PYTHON_FORMS.map((f) => (f === 'aoti' ? ['Python aoti', 'torchnode aoti', 'onnxruntime-node'] : [`torchnode ${f}`, `Python ${f}`]));
  for (let r = 0; r < c.reps; r++) {
    for (const group of groups) {
      for (const form of r % 2 ? [...group].reverse() : group) {
        if (!forms[form]) continue;
        await settle();
        times[form].push(await forms[form].repeat());
      }
    }
  }
  for (const p of Object.values(forms)) p.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  // A ratio is the median over the rounds of that round's ratio: the two forms' turns in one round are
  // close together (adjacent for the twins), so a shared machine's slow minutes weigh on both sides of it.
  const ratio = (a, b) => {
    const rounds = times[a].map((t, r) => t / times[b][r]);
    const [lo, hi] = bootstrap(rounds);
    return `${median(rounds).toFixed(2)}× (${lo.toFixed(2)}–${hi.toFixed(2)})`;
  };
  console.log(
    `\n${name}, CPU (${c.threads} threads), batch ${c.batch} at ${c.size}x${c.size}: median ms per forward ` +
      `(${c.reps} repeats of ${c.steps}, each form in its own process; PyTorch ${version})`,
  );
  for (const [k, v] of Object.entries(ms)) console.log(`  ${k.padEnd(18)} ${v.toFixed(2).padStart(8)}`);
  for (const f of PYTHON_FORMS) console.log(`  torchnode ${f} / Python ${f}: ${ratio(`torchnode ${f}`, `Python ${f}`)}`);
  const fastest = PYTHON_FORMS.map((f) => `torchnode ${f}`).reduce((a, b) => (ms[a] <= ms[b] ? a : b));
  if (ms['onnxruntime-node'] !== undefined) {
    console.log(`  ${fastest} / onnxruntime-node: ${ratio(fastest, 'onnxruntime-node')}`);
  } else {
    console.log('  onnxruntime-node: not measured (install onnxruntime-node for Node and onnx for Python; see the header)');
  }
}

async function main() {
  const w = process.argv.indexOf('--worker');
  if (w > 0) return worker(process.argv[w + 1], JSON.parse(process.argv[w + 2]));
  const only = arg('model', undefined);
  if (only !== undefined && !MODELS[only]) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}`);
  const ort = onnxRuntime() !== null;
  for (const name of only ? [only] : Object.keys(MODELS)) await bench(name, ort);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
