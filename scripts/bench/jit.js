#!/usr/bin/env node
/**
 * TorchScript inference against PyTorch: Python scripts an SE-ResNet-50 (torch.jit.script) and saves
 * it; torchnode loads that file with torch.jit.load and both time forward under no_grad on the same
 * input shape, their repeats taking turns. Prints median ms per forward and the ratio.
 *
 *     node scripts/bench/jit.js                 # CPU: batch 8 at 64x64; with CUDA: batch 64 at 224x224
 *     options: --batch N --size N --steps N --reps N --warmup N
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const { findReferencePython } = require('../python');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const torch = require('../../dist');
  const cuda = torch.cuda.isAvailable();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-bench-jit-'));
  const c = {
    device: cuda ? 'cuda' : 'cpu',
    batch: arg('batch', cuda ? 64 : 8),
    size: arg('size', cuda ? 224 : 64),
    steps: arg('steps', cuda ? 20 : 5),
    reps: arg('reps', 5),
    warmup: arg('warmup', 3),
    threads: torch.getNumThreads(),
    file: path.join(dir, 'se_resnet50.pt'),
  };
  const python = findReferencePython();
  const proc = spawn(python.command, [path.join(__dirname, 'jit.py'), JSON.stringify(c)], { stdio: ['pipe', 'pipe', 'inherit'], env: python.env });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`jit.py (${python.source}) exited before answering`);
    return JSON.parse(value);
  };
  const { ready } = await next();
  if (c.device === 'cuda') torch.backends.cudnn.benchmark = true;
  const model = torch.jit.load(c.file, { device: c.device });
  const x = torch.randn([c.batch, 3, c.size, c.size], { device: c.device });
  const run = () => torch.noGrad(() => model.forward(x));
  for (let i = 0; i < c.warmup; i++) run().dispose();
  if (c.device === 'cuda') torch.cuda.synchronize(); // the warm-ups must not run into Python's first repeat
  const py = [];
  const node = [];
  for (let r = 0; r < c.reps; r++) {
    proc.stdin.write('run\n');
    py.push((await next()).ms);
    const t0 = performance.now();
    let y = null;
    for (let i = 0; i < c.steps; i++) {
      y?.dispose();
      y = run();
    }
    torch.scope(() => y.sum().item()); // waits for the last forward
    y.dispose();
    node.push((performance.now() - t0) / c.steps);
  }
  proc.stdin.end();
  fs.rmSync(dir, { recursive: true, force: true });
  const [p, n] = [median(py), median(node)];
  console.log(`scripted seResNet50 inference, ${c.device}, batch ${c.batch} ${c.size}x${c.size}: median ms per forward (PyTorch ${ready})`);
  console.log(`PyTorch ${p.toFixed(2)}\ttorchnode ${n.toFixed(2)}\tratio ${(n / p).toFixed(2)}x`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
