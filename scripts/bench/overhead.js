#!/usr/bin/env node
/**
 * Per-op overhead of torchnode against Python PyTorch, on this machine, in this run.
 *
 *     node scripts/bench/overhead.js            # table
 *     node scripts/bench/overhead.js --json     # machine-readable results on stdout
 *     node scripts/bench/overhead.js --help
 *
 * Tiny tensors make the op itself nearly free, so what is timed is the cost of a call: argument
 * checks, the Node-API crossing, the dispatcher, wrapping and freeing the result. The Python half
 * (overhead.py, run as a child process with python3 or $TORCHNODE_PYTHON) times the same workloads;
 * the ratio is torchnode / PyTorch, and the goal is ≤ 1.0×. Each workload is warmed up and timed a few
 * times; the table shows the best repeat, --json has every repeat and the median. Nothing here
 * asserts on time: the exit status is 0 unless something failed to run.
 *
 * Threads: torchnode has no setNumThreads API yet, so this script sets OMP_NUM_THREADS=1 (and
 * MKL_NUM_THREADS=1) for itself before loading the addon and for the Python child, which also calls
 * torch.set_num_threads(1). If torch.setNumThreads appears, it is called as well.
 */
'use strict';

// Before the addon (and LibTorch's OpenMP runtime) loads: the thread count is read at load time.
process.env.OMP_NUM_THREADS = '1';
process.env.MKL_NUM_THREADS = '1';

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { performance, PerformanceObserver } = require('node:perf_hooks');

const USAGE = `usage: node scripts/bench/overhead.js [--json] [--reps N] [--scale F] [--only a,b] [--breakdown]

  --json        print one JSON object with every result instead of the table
  --reps N      timed repeats per workload (default 5; the best and the median are kept)
  --scale F     multiply every iteration count by F (e.g. 0.1 for a quick run)
  --only a,b    run only these workloads (names as in the table's first column)
  --breakdown   also time the add loop layer by layer (raw native call, + Tensor wrapper, ...)
                to show where torchnode's time goes; these rows have no Python counterpart

Environment: TORCHNODE_PYTHON picks the Python interpreter (default python3).`;

function parseArgs(argv) {
  const o = { json: false, reps: 5, scale: 1, only: null, breakdown: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--json') o.json = true;
    else if (a === '--breakdown') o.breakdown = true;
    else if (a === '--help' || a === '-h') o.help = true;
    else if (a.startsWith('--reps')) o.reps = Number(value());
    else if (a.startsWith('--scale')) o.scale = Number(value());
    else if (a.startsWith('--only')) o.only = value().split(',').filter(Boolean);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error('--reps must be a positive integer');
  if (!(o.scale > 0)) throw new Error('--scale must be a positive number');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`${e.message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

const torch = require('../..');

let threadNote = 'OMP_NUM_THREADS=1 and MKL_NUM_THREADS=1 set for both processes';
if (typeof torch.setNumThreads === 'function') {
  torch.setNumThreads(1);
  threadNote += '; torch.setNumThreads(1) in Node';
} else {
  threadNote += ' (torchnode has no setNumThreads API yet)';
}
threadNote += '; torch.set_num_threads(1) in Python';

const SCOPE_CHUNK = 1000;

// ---- conv2d: found and called automatically once torchnode has it ----

/** torchnode's conv2d, if any, and the calling convention that works; else why not. */
function findConv2d() {
  const candidates = [
    ['torch.nn.functional.conv2d', torch.nn?.functional?.conv2d],
    ['torch.conv2d', torch.conv2d],
  ].filter(([, f]) => typeof f === 'function');
  if (candidates.length === 0) return { reason: 'torchnode has no torch.nn.functional.conv2d or torch.conv2d yet (issue 3)' };
  // PyTorch's F.conv2d(input, weight, bias=None, stride=1, padding=0, ...), in the forms torchnode's
  // conventions (keyword arguments become one options object) make likely. The first that gives the
  // right shape is used.
  const forms = [
    ['(x, w, {padding: 1})', (f, x, w) => f(x, w, { padding: 1 })],
    ['(x, w, null, {padding: 1})', (f, x, w) => f(x, w, null, { padding: 1 })],
    ['(x, w, {bias: null, padding: 1})', (f, x, w) => f(x, w, { bias: null, padding: 1 })],
    ['(x, w, null, 1, 1)', (f, x, w) => f(x, w, null, 1, 1)],
  ];
  const errors = [];
  for (const [name, f] of candidates) {
    for (const [form, call] of forms) {
      try {
        const ok = torch.scope(() => {
          const x = torch.randn([1, 3, 8, 8]);
          const w = torch.randn([4, 3, 3, 3], { requiresGrad: true });
          const y = call(f, x, w);
          return y instanceof torch.Tensor && y.shape.join(',') === '1,4,8,8';
        });
        if (ok) return { fn: f, call, label: `${name}${form}` };
        errors.push(`${name}${form}: wrong output shape`);
      } catch (e) {
        errors.push(`${name}${form}: ${e.message}`);
      }
    }
  }
  return { reason: `${candidates.map(([n]) => n).join(', ')} exists but no known calling form worked: ${errors.join('; ')}` };
}

// ---- workloads: each make() returns run(n), which does n steps and disposes what it made ----

const WORKLOADS = [
  {
    name: 'add_dispose', py: 'add', iters: 100_000,
    label: 'c = a.add(b), 1-elem f32, c.dispose() each',
    make() {
      const a = torch.ones([1]), b = torch.ones([1]);
      check(() => a.add(b).item() === 2, 'add');
      return (n) => {
        for (let i = 0; i < n; i++) {
          const c = a.add(b);
          c.dispose();
        }
      };
    },
  },
  {
    name: 'add_scope', py: 'add', iters: 100_000,
    label: `c = a.add(b), torch.scope per ${SCOPE_CHUNK} ops`,
    make() {
      const a = torch.ones([1]), b = torch.ones([1]);
      return (n) => {
        for (let i = 0; i < n; i += SCOPE_CHUNK) {
          const m = Math.min(SCOPE_CHUNK, n - i);
          torch.scope(() => {
            for (let j = 0; j < m; j++) a.add(b);
          });
        }
      };
    },
  },
  {
    name: 'mul_scalar', py: 'mul_scalar', iters: 100_000,
    label: 'torch.mul(x, 2.5), dispose each',
    make() {
      const x = torch.ones([1]);
      check(() => torch.mul(x, 2.5).item() === 2.5, 'mul');
      return (n) => {
        for (let i = 0; i < n; i++) torch.mul(x, 2.5).dispose();
      };
    },
  },
  {
    name: 'shape', py: 'shape', iters: 100_000,
    label: 'x.shape (2x3)',
    make() {
      const x = torch.ones([2, 3]);
      let sink = 0;
      return (n) => {
        for (let i = 0; i < n; i++) sink += x.shape.length;
        if (sink === -1) console.log(sink); // keeps the reads live
      };
    },
  },
  {
    name: 'item', py: 'item', iters: 100_000,
    label: 'x.item()',
    make() {
      const x = torch.ones([1]);
      let sink = 0;
      return (n) => {
        for (let i = 0; i < n; i++) sink += x.item();
        if (sink === -1) console.log(sink);
      };
    },
  },
  {
    name: 'matmul_backward', py: 'matmul_backward', iters: 10_000,
    label: '(x.matmul(w)).sum().backward(), w 4x4, dispose',
    make() {
      torch.manualSeed(0);
      const x = torch.randn([4, 4]);
      const w = torch.randn([4, 4], { requiresGrad: true });
      return (n) => {
        for (let i = 0; i < n; i++) {
          const y = x.matmul(w);
          const s = y.sum();
          s.backward();
          s.dispose();
          y.dispose();
          w.grad = null; // PyTorch's zero_grad(set_to_none=True)
        }
      };
    },
  },
  {
    name: 'matmul_backward_scope', py: 'matmul_backward', iters: 10_000,
    label: 'same, torch.scope around each step',
    make() {
      torch.manualSeed(0);
      const x = torch.randn([4, 4]);
      const w = torch.randn([4, 4], { requiresGrad: true });
      return (n) => {
        for (let i = 0; i < n; i++) {
          torch.scope(() => {
            x.matmul(w).sum().backward();
          });
          w.grad = null;
        }
      };
    },
  },
  {
    name: 'conv2d_backward', py: 'conv2d_backward', iters: 10_000,
    label: 'conv2d 1x3x8x8 * 4x3x3x3 pad 1, .sum().backward()',
    needsConv2d: true,
    make(conv) {
      torch.manualSeed(0);
      const x = torch.randn([1, 3, 8, 8]);
      const w = torch.randn([4, 3, 3, 3], { requiresGrad: true });
      const { fn, call } = conv;
      return (n) => {
        for (let i = 0; i < n; i++) {
          const y = call(fn, x, w);
          const s = y.sum();
          s.backward();
          s.dispose();
          y.dispose();
          w.grad = null;
        }
      };
    },
  },
];

// Diagnostics (--breakdown): the add loop with layers peeled off, through torchnode's internals. They
// are skipped, not failed, if those internals have moved.
const BREAKDOWN = [
  {
    name: 'bd_napi_floor', iters: 100_000, label: 'native.numel(h): one N-API call, no op',
    make(native) {
      const h = torch.ones([1])._h;
      let sink = 0;
      return (n) => {
        for (let i = 0; i < n; i++) sink += native.numel(h);
        if (sink === -1) console.log(sink);
      };
    },
  },
  {
    name: 'bd_native_add', iters: 100_000, label: 'native.add(ha, hb) + native.dispose(h)',
    make(native) {
      const ha = torch.ones([1])._h, hb = torch.ones([1])._h;
      return (n) => {
        for (let i = 0; i < n; i++) native.dispose(native.add(ha, hb, undefined));
      };
    },
  },
  {
    name: 'bd_native_add_wrap', iters: 100_000, label: '+ new Tensor(h) wrapper, t.dispose()',
    make(native) {
      const ha = torch.ones([1])._h, hb = torch.ones([1])._h;
      const Tensor = torch.Tensor;
      return (n) => {
        for (let i = 0; i < n; i++) new Tensor(native.add(ha, hb, undefined)).dispose();
      };
    },
  },
  {
    name: 'bd_mul_method', iters: 100_000, label: 'x.mul(2.5) (method, no torch.* wrapper)',
    make() {
      const x = torch.ones([1]);
      return (n) => {
        for (let i = 0; i < n; i++) x.mul(2.5).dispose();
      };
    },
  },
  {
    name: 'bd_mul_tensor', iters: 100_000, label: 'x.mul(y) (tensor operand)',
    make() {
      const x = torch.ones([1]), y = torch.ones([1]);
      return (n) => {
        for (let i = 0; i < n; i++) x.mul(y).dispose();
      };
    },
  },
];

function check(fn, what) {
  const ok = torch.scope(fn);
  if (!ok) throw new Error(`${what} gave a wrong result`);
}

// ---- timing ----

/** Warm up, then time `reps` repeats of run(n); µs per step for each. */
function measure(run, n, reps) {
  run(Math.max(1, Math.floor(n / 10)));
  const times = [];
  const windows = [];
  for (let r = 0; r < reps; r++) {
    const p0 = performance.now();
    const t0 = process.hrtime.bigint();
    run(n);
    const t1 = process.hrtime.bigint();
    windows.push([p0, performance.now()]);
    times.push(Number(t1 - t0) / 1e3 / n);
  }
  return { n, reps, us_per_op: times, best_us: Math.min(...times), median_us: median(times), windows };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const iterations = (w) => {
  const n = Math.max(1, Math.round(w.iters * opts.scale));
  return w.name.endsWith('_scope') && w.name.startsWith('add') ? Math.max(SCOPE_CHUNK, Math.round(n / SCOPE_CHUNK) * SCOPE_CHUNK) : n;
};

// ---- the Python half ----

function runPython(pyNames) {
  const python = process.env.TORCHNODE_PYTHON || 'python3';
  const script = path.join(__dirname, 'overhead.py');
  const args = [script, '--workloads', pyNames.join(','), '--reps', String(opts.reps), '--scale', String(opts.scale)];
  const r = spawnSync(python, args, {
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.error) return { interpreter: python, error: `could not run ${python}: ${r.error.message} (set TORCHNODE_PYTHON to a Python with torch)` };
  const line = r.stdout.trim().split('\n').pop() || '';
  let parsed;
  try {
    parsed = JSON.parse(line);
  } catch {
    const err = (r.stderr || '').trim().split('\n').slice(-5).join('\n');
    return { interpreter: python, error: `${python} ${path.relative(process.cwd(), script)} exited ${r.status} without JSON results${err ? `:\n${err}` : ''}` };
  }
  return { interpreter: python, ...parsed };
}

// ---- main ----

async function main() {
  const errors = [];
  const conv = findConv2d();
  const available = WORKLOADS.filter((w) => !w.needsConv2d || conv.fn);
  let workloads = available;
  let breakdown = opts.breakdown ? BREAKDOWN : [];
  if (opts.only) {
    const known = new Set([...WORKLOADS, ...BREAKDOWN].map((w) => w.name));
    for (const name of opts.only) if (!known.has(name)) errors.push(`--only: unknown workload ${name}`);
    workloads = available.filter((w) => opts.only.includes(w.name));
    breakdown = BREAKDOWN.filter((w) => opts.only.includes(w.name));
  }

  let native = null;
  if (breakdown.length) {
    try {
      native = require('../../dist/native').native;
      if (typeof native?.add !== 'function' || typeof native?.dispose !== 'function') native = null;
    } catch {
      native = null;
    }
    if (!native) {
      errors.push('--breakdown: torchnode internals (dist/native.js) not found; breakdown rows skipped');
      breakdown = [];
    }
  }

  // GC time that falls inside each workload's timed repeats (reported in --json and as a note).
  const gcEntries = [];
  const obs = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });

  const log = (s) => { if (!opts.json) process.stderr.write(s); };
  const node = {};
  log('measuring torchnode');
  for (const w of [...workloads, ...breakdown]) {
    log('.');
    try {
      const run = w.make(w.needsConv2d ? conv : native);
      node[w.name] = measure(run, iterations(w), opts.reps);
    } catch (e) {
      node[w.name] = { error: `${e.name}: ${e.message}` };
      errors.push(`torchnode ${w.name}: ${e.message}`);
    }
  }
  log('\n');
  await new Promise((resolve) => setImmediate(resolve)); // let the gc observer deliver
  await new Promise((resolve) => setTimeout(resolve, 10));
  obs.disconnect();
  for (const r of Object.values(node)) {
    if (!r.windows) continue;
    let gcMs = 0;
    for (const [a, b] of r.windows) for (const e of gcEntries) if (e.startTime >= a && e.startTime < b) gcMs += e.duration;
    const totalMs = r.windows.reduce((s, [a, b]) => s + (b - a), 0);
    r.gc_fraction = totalMs > 0 ? gcMs / totalMs : 0;
    delete r.windows;
  }

  const pyNames = [...new Set(workloads.map((w) => w.py))];
  let py = { results: {}, errors: {} };
  if (pyNames.length) {
    log('measuring PyTorch (child process)...\n');
    py = runPython(pyNames);
    if (py.error) errors.push(py.error);
    for (const [name, msg] of Object.entries(py.errors || {})) errors.push(`python ${name}: ${msg}`);
  }

  const rows = [...workloads, ...breakdown].map((w) => {
    const n = node[w.name] || {};
    const p = w.py ? (py.results || {})[w.py] : undefined;
    return {
      workload: w.name,
      description: w.label,
      torchnode_us: n.best_us ?? null,
      pytorch_us: p?.best_us ?? null,
      ratio: n.best_us != null && p?.best_us ? n.best_us / p.best_us : null,
      ratio_median: n.median_us != null && p?.median_us ? n.median_us / p.median_us : null,
      torchnode: n,
      pytorch: p ?? null,
      diagnostic: !w.py,
    };
  });

  const env = {
    node: process.version,
    torchnode_libtorch: torch.buildInfo?.torchVersion ?? null,
    python: py.interpreter ?? null,
    python_version: py.python ?? null,
    pytorch: py.torch ?? null,
    pytorch_num_threads: py.num_threads ?? null,
    platform: `${process.platform}-${process.arch}`,
    cpus: require('node:os').cpus().length,
    threads: threadNote,
    reps: opts.reps,
    scale: opts.scale,
  };
  const pyInfo = py.torch ? `Python ${py.python} PyTorch ${py.torch}` : 'PyTorch: not measured';
  const conv2d = conv.fn ? { available: true, form: conv.label } : { available: false, skipped: conv.reason };

  if (opts.json) {
    process.stdout.write(JSON.stringify({ env, conv2d, rows, errors }, null, 2) + '\n');
  } else {
    printTable(rows, env, pyInfo, conv2d, errors);
  }
  process.exitCode = errors.length ? 1 : 0;
}

function printTable(rows, env, pyInfo, conv2d, errors) {
  const fmt = (x, d = 2) => (x == null ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d));
  const ratio = (r) => (r == null ? '—' : `${r.toFixed(2)}×${r > 1 ? ' *' : ''}`);
  const out = [];
  out.push(`torchnode per-op overhead vs PyTorch   (node ${env.node}, LibTorch ${env.torchnode_libtorch}; ${pyInfo}; ${env.cpus} CPUs)`);
  out.push(`threads: ${env.threads}`);
  out.push(`best of ${env.reps} timed repeats after a warm-up${env.scale !== 1 ? `, iteration counts × ${env.scale}` : ''}; ratio = torchnode / PyTorch, goal ≤ 1.00× (* = over)`);
  out.push('');
  const header = ['workload', 'what (Node side)', 'n', 'torchnode µs/op', 'PyTorch µs/op', 'ratio', 'GC %'];
  const body = rows.map((r) => [
    r.workload,
    r.description,
    String(r.torchnode?.n ?? '—'),
    r.torchnode?.error ? 'error' : fmt(r.torchnode_us),
    r.diagnostic ? '' : fmt(r.pytorch_us),
    r.diagnostic ? '' : ratio(r.ratio),
    r.torchnode?.gc_fraction != null ? (100 * r.torchnode.gc_fraction).toFixed(0) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = [false, false, true, true, true, true, true];
  const line = (cells) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ');
  out.push(line(header));
  out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  const firstDiag = rows.findIndex((r) => r.diagnostic);
  body.forEach((b, i) => {
    if (i === firstDiag) out.push(`${'-'.repeat(widths[0])}-+ breakdown of add (diagnostic, no PyTorch counterpart)`);
    out.push(line(b));
  });
  out.push('');
  if (conv2d.available) out.push(`conv2d: measured with ${conv2d.form}`);
  else out.push(`conv2d_backward: SKIPPED: ${conv2d.skipped}. matmul_backward stands in as the autograd-overhead figure.`);
  out.push('Python workloads: add = `a + b`; mul_scalar = `torch.mul(x, 2.5)`; shape = `x.shape`; item = `x.item()`;');
  out.push('  matmul_backward = `(x @ w).sum().backward(); w.grad = None`; conv2d_backward = `F.conv2d(x, w, padding=1).sum().backward(); w.grad = None`.');
  out.push('GC % = share of the timed Node loops spent in V8 garbage collection.');
  for (const e of errors) out.push(`ERROR: ${e}`);
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exitCode = 1;
});
