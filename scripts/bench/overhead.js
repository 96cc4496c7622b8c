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
 * (overhead.py, a child process run with the reference Python of scripts/python.js) times the same workloads,
 * the two processes taking turns repeat by repeat so that noise from the rest of the machine falls on
 * both; the ratio is torchnode / PyTorch, and the goal is ≤ 1.0×. Each workload is warmed up and timed
 * a few times; the table shows the best repeat, --json has every repeat and the median. conv2d is
 * found (torch.nn.functional.conv2d or torch.conv2d) and measured when torchnode has it, and the
 * table says it was skipped when not. Nothing here asserts on time: the exit status is 0 unless
 * something failed to run.
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
const os = require('node:os');
const { spawn } = require('node:child_process');
const { performance, PerformanceObserver } = require('node:perf_hooks');
const { findReferencePython } = require('../python');

const USAGE = `usage: node scripts/bench/overhead.js [--json] [--reps N] [--scale F] [--only a,b] [--breakdown]

  --json        print one JSON object with every result instead of the table
  --reps N      timed repeats per workload (default 5; the best and the median are kept)
  --scale F     multiply every iteration count by F (e.g. 0.1 for a quick run)
  --only a,b    run only these workloads (names as in the table's first column)
  --breakdown   also time the add loop layer by layer (raw native call, + Tensor wrapper, ...)
                to show where torchnode's time goes; these rows have no Python counterpart

Environment: TORCHNODE_PYTHON picks the Python interpreter (default python3, with npm install's .libtorch/ when it has no torch).`;

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

let torch;
try {
  torch = require('../..');
} catch (e) {
  console.error(
    `overhead.js: could not load torchnode from ${path.resolve(__dirname, '../..')}: ${e.message}\n` +
      'Build it first (npm run build, or npx tsc -p tsconfig.json once the addon is built).',
  );
  process.exit(1);
}

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
    name: 'add_dispose',
    py: 'add',
    iters: 100_000,
    label: 'c = a.add(b), 1-elem f32, c.dispose() each',
    make() {
      const a = torch.ones([1]),
        b = torch.ones([1]);
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
    name: 'add_scope',
    py: 'add',
    iters: 100_000,
    chunked: true,
    label: `c = a.add(b), torch.scope per ${SCOPE_CHUNK} ops`,
    make() {
      const a = torch.ones([1]),
        b = torch.ones([1]);
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
    name: 'mul_scalar',
    py: 'mul_scalar',
    iters: 100_000,
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
    name: 'shape',
    py: 'shape',
    iters: 100_000,
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
    name: 'item',
    py: 'item',
    iters: 100_000,
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
    name: 'matmul_backward',
    py: 'matmul_backward',
    iters: 10_000,
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
    name: 'matmul_backward_scope',
    py: 'matmul_backward',
    iters: 10_000,
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
    name: 'conv2d_backward',
    py: 'conv2d_backward',
    iters: 10_000,
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
  {
    name: 'module_step',
    py: 'module_step',
    iters: 1_000,
    label: 'a hand-written Module (the CIFAR tutorial net), batch 4: one SGD step, written as in Python',
    make() {
      const { nn } = torch;
      const F = nn.functional;
      class Net extends nn.Module {
        constructor() {
          super();
          this.conv1 = new nn.Conv2d(3, 6, 5);
          this.pool = new nn.MaxPool2d(2, 2);
          this.conv2 = new nn.Conv2d(6, 16, 5);
          this.fc1 = new nn.Linear(16 * 5 * 5, 120);
          this.fc2 = new nn.Linear(120, 84);
          this.fc3 = new nn.Linear(84, 10);
        }
        forward(x) {
          x = this.pool(F.relu(this.conv1(x)));
          x = this.pool(F.relu(this.conv2(x)));
          x = torch.flatten(x, 1);
          x = F.relu(this.fc1(x));
          x = F.relu(this.fc2(x));
          return this.fc3(x);
        }
      }
      torch.manualSeed(0);
      const net = new Net();
      const criterion = new nn.CrossEntropyLoss();
      const optimizer = new torch.optim.SGD(net.parameters(), 0.001, 0.9);
      const x = torch.randn([4, 3, 32, 32]);
      const y = torch.randint(0, 10, [4]);
      // no scope and no dispose: a loop as Python writes it (the collector frees the temporaries)
      return (n) => {
        for (let i = 0; i < n; i++) {
          optimizer.zeroGrad();
          const loss = criterion(net(x), y);
          loss.backward();
          optimizer.step();
          loss.item();
        }
      };
    },
  },
];

// Diagnostics (--breakdown): the add loop with layers peeled off (`internal` rows call the addon through
// torchnode's internals, and are skipped, not failed, if those have moved), and variants of mul.
const BREAKDOWN = [
  {
    name: 'bd_napi_floor',
    iters: 100_000,
    internal: true,
    label: 'native.numel(h): one N-API call, no op',
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
    name: 'bd_native_add',
    iters: 100_000,
    internal: true,
    label: 'native.add(ha, hb) + native.dispose(h)',
    make(native) {
      const ha = torch.ones([1])._h,
        hb = torch.ones([1])._h;
      return (n) => {
        for (let i = 0; i < n; i++) native.dispose(native.add(ha, hb, undefined));
      };
    },
  },
  {
    name: 'bd_native_add_wrap',
    iters: 100_000,
    internal: true,
    label: '+ new Tensor(h) wrapper, t.dispose()',
    make(native) {
      const ha = torch.ones([1])._h,
        hb = torch.ones([1])._h;
      const Tensor = torch.Tensor;
      return (n) => {
        for (let i = 0; i < n; i++) new Tensor(native.add(ha, hb, undefined)).dispose();
      };
    },
  },
  {
    name: 'bd_add_no_turn',
    iters: 100_000,
    drain: false,
    label: 'add_dispose, no event-loop turn in the timing',
    make() {
      const a = torch.ones([1]),
        b = torch.ones([1]);
      return (n) => {
        for (let i = 0; i < n; i++) a.add(b).dispose();
      };
    },
  },
  {
    name: 'bd_mul_method',
    iters: 100_000,
    label: 'x.mul(2.5) (method, no torch.* wrapper)',
    make() {
      const x = torch.ones([1]);
      return (n) => {
        for (let i = 0; i < n; i++) x.mul(2.5).dispose();
      };
    },
  },
  {
    name: 'bd_mul_tensor',
    iters: 100_000,
    label: 'x.mul(y) (tensor operand)',
    make() {
      const x = torch.ones([1]),
        y = torch.ones([1]);
      return (n) => {
        for (let i = 0; i < n; i++) x.mul(y).dispose();
      };
    },
  },
];

// What the PyTorch half runs for each (overhead.py has the code).
const PY_CODE = {
  add: 'c = a + b',
  mul_scalar: 'c = torch.mul(x, 2.5)',
  shape: 's = x.shape',
  item: 'v = x.item()',
  matmul_backward: '(x @ w).sum().backward(); w.grad = None',
  conv2d_backward: 'F.conv2d(x, w, padding=1).sum().backward(); w.grad = None',
  module_step: 'optimizer.zero_grad(); loss = criterion(net(x), y); loss.backward(); optimizer.step(); loss.item()',
};

function check(fn, what) {
  const ok = torch.scope(fn);
  if (!ok) throw new Error(`${what} gave a wrong result`);
}

// ---- timing ----

const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * One timed repeat: n steps, then one turn of the event loop. Work deferred to the loop (the GC
 * backstop's registration at the end of the job, FinalizationRegistry and Node-API callbacks) runs
 * inside the timed window, since it is part of what an op costs (w.drain === false leaves it out, as
 * in a synchronous loop).
 */
async function timeNode(run, n, drain) {
  const p0 = performance.now();
  const t0 = process.hrtime.bigint();
  run(n);
  if (drain) await turn();
  const t1 = process.hrtime.bigint();
  return { us: Number(t1 - t0) / 1e3 / n, window: [p0, performance.now()] };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summary(n, times) {
  return times.length ? { n, reps: times.length, us_per_op: times, best_us: Math.min(...times), median_us: median(times) } : { n, reps: 0 };
}

const iterations = (w) => {
  const n = Math.max(1, Math.round(w.iters * opts.scale));
  return w.chunked ? Math.max(SCOPE_CHUNK, Math.round(n / SCOPE_CHUNK) * SCOPE_CHUNK) : n;
};

// ---- the Python half: a child process that takes turns with this one, repeat by repeat ----

class PythonHalf {
  constructor() {
    const python = findReferencePython();
    this.python = python.command;
    this.script = path.join(__dirname, 'overhead.py');
    this.pending = [];
    this.dead = null;
    this.stderr = '';
    let buf = '';
    this.child = spawn(this.python, [this.script, '--serve'], {
      env: { ...python.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const p = this.pending.shift();
        if (!p) continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          p.reject(new Error(`unreadable reply from ${this.python}: ${line.slice(0, 200)}`));
          continue;
        }
        if (msg.error) p.reject(new Error(msg.error));
        else p.resolve(msg);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.stdin.on('error', () => {}); // EPIPE once the child is gone: reported through 'exit'
    const die = (why) => {
      if (this.dead) return;
      const tail = this.stderr.trim().split('\n').slice(-4).join('\n');
      this.dead = `${why}${tail ? `:\n${tail}` : ''}`;
      for (const p of this.pending.splice(0)) p.reject(new Error(this.dead));
    };
    this.child.on('error', (e) => die(`could not run ${this.python} (${e.message}); set TORCHNODE_PYTHON to a Python with torch`));
    this.child.on('exit', (code, signal) => die(`${this.python} ${path.basename(this.script)} exited (${signal ?? code})`));
  }

  request(msg) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(msg) + '\n');
    });
  }

  close() {
    this.child.stdin.end();
  }
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
  if (breakdown.some((w) => w.internal)) {
    try {
      native = require('../../dist/core/native').native;
      if (typeof native?.add !== 'function' || typeof native?.dispose !== 'function') native = null;
    } catch {
      native = null;
    }
    if (!native) {
      errors.push('--breakdown: torchnode internals (dist/core/native.js) not found; rows that call the addon directly skipped');
      breakdown = breakdown.filter((w) => !w.internal);
    }
  }
  const selected = [...workloads, ...breakdown];

  // GC time that falls inside the timed repeats of each workload.
  const gcEntries = [];
  const obs = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });

  const log = (s) => {
    if (!opts.json) process.stderr.write(s);
  };
  const py = selected.some((w) => w.py) ? new PythonHalf() : null;
  let pyInfo = null;
  if (py) {
    try {
      pyInfo = await py.request({ op: 'hello' });
    } catch (e) {
      errors.push(`PyTorch half: ${e.message}`);
    }
  }

  const rows = [];
  log(`measuring ${selected.length} workloads, torchnode and PyTorch taking turns `);
  for (const w of selected) {
    log('.');
    const n = iterations(w);
    const warmup = Math.max(1, Math.floor(n / 10));
    const nodeTimes = [],
      pyTimes = [],
      windows = [];
    let nodeError = null,
      pyError = null;
    let run;
    try {
      run = w.make(w.needsConv2d ? conv : native);
      run(warmup);
    } catch (e) {
      run = null;
      nodeError = `${e.name}: ${e.message}`;
    }
    let pyReady = Boolean(w.py && pyInfo);
    if (pyReady) {
      try {
        await py.request({ op: 'setup', name: w.py, warmup });
      } catch (e) {
        pyReady = false;
        pyError = e.message;
      }
    }
    for (let r = 0; r < opts.reps && (run || pyReady); r++) {
      if (run) {
        try {
          const t = await timeNode(run, n, w.drain !== false);
          nodeTimes.push(t.us);
          windows.push(t.window);
        } catch (e) {
          run = null;
          nodeError = `${e.name}: ${e.message}`;
        }
      }
      if (pyReady) {
        try {
          pyTimes.push((await py.request({ op: 'run', name: w.py, n })).us_per_op);
        } catch (e) {
          pyReady = false;
          pyError = e.message;
        }
      }
    }
    if (nodeError) errors.push(`torchnode ${w.name}: ${nodeError}`);
    if (pyError) errors.push(`PyTorch ${w.py} (for ${w.name}): ${pyError}`);
    const node = { ...summary(n, nodeTimes), ...(nodeError ? { error: nodeError } : {}) };
    const pyt = w.py && pyInfo ? { ...summary(n, pyTimes), ...(pyError ? { error: pyError } : {}) } : null;
    rows.push({
      workload: w.name,
      description: w.label,
      python_equivalent: w.py ? PY_CODE[w.py] : null,
      torchnode_us: node.best_us ?? null,
      pytorch_us: pyt?.best_us ?? null,
      ratio: node.best_us != null && pyt?.best_us ? node.best_us / pyt.best_us : null,
      ratio_median: node.median_us != null && pyt?.median_us ? node.median_us / pyt.median_us : null,
      torchnode: node,
      pytorch: pyt,
      diagnostic: !w.py,
      _windows: windows,
    });
  }
  log('\n');
  if (py) py.close();

  await turn(); // let the gc observer deliver
  await new Promise((resolve) => setTimeout(resolve, 20));
  obs.disconnect();
  for (const row of rows) {
    const windows = row._windows;
    delete row._windows;
    if (!windows.length) continue;
    let gcMs = 0;
    for (const [a, b] of windows) for (const e of gcEntries) if (e.startTime >= a && e.startTime < b) gcMs += e.duration;
    const totalMs = windows.reduce((s, [a, b]) => s + (b - a), 0);
    row.torchnode.gc_fraction = totalMs > 0 ? gcMs / totalMs : 0;
  }

  const env = {
    node: process.version,
    torchnode_libtorch: torch.buildInfo?.torchVersion ?? null,
    python: py?.python ?? null,
    python_version: pyInfo?.python ?? null,
    pytorch: pyInfo?.torch ?? null,
    pytorch_num_threads: pyInfo?.num_threads ?? null,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    loadavg_1m: os.loadavg()[0],
    threads: threadNote,
    reps: opts.reps,
    scale: opts.scale,
  };
  const conv2d = conv.fn ? { available: true, form: conv.label } : { available: false, skipped: conv.reason };

  if (opts.json) {
    process.stdout.write(JSON.stringify({ env, conv2d, rows, errors }, null, 2) + '\n');
  } else {
    printTable(rows, env, conv2d, errors);
  }
  process.exitCode = errors.length ? 1 : 0;
}

function printTable(rows, env, conv2d, errors) {
  const fmt = (x) => (x == null ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const ratio = (r, mark) => (r == null ? '—' : `${r.toFixed(2)}×${mark && r > 1 ? ' *' : ''}`);
  const pyInfo = env.pytorch ? `Python ${env.python_version}, PyTorch ${env.pytorch}` : 'PyTorch not measured';
  const out = [];
  out.push(
    `torchnode per-op overhead vs PyTorch  (Node ${env.node}, torchnode's LibTorch ${env.torchnode_libtorch}; ${pyInfo}; ` +
      `${env.cpus} CPUs, load ${env.loadavg_1m.toFixed(2)})`,
  );
  out.push(`threads: ${env.threads}`);
  out.push(
    `best of ${env.reps} timed repeats after a warm-up, the two sides taking turns repeat by repeat` +
      `${env.scale !== 1 ? `; iteration counts × ${env.scale}` : ''}`,
  );
  out.push('ratio = torchnode / PyTorch (best repeats), goal ≤ 1.00× (* = over); median ratio compares the medians');
  out.push('');
  const header = ['workload', 'what (Node side)', 'n', 'torchnode µs/op', 'PyTorch µs/op', 'ratio', 'median ratio', 'GC %'];
  const body = rows.map((r) => [
    r.workload,
    r.description,
    String(r.torchnode?.n ?? '—'),
    r.torchnode?.error && r.torchnode_us == null ? 'error' : fmt(r.torchnode_us),
    r.diagnostic ? '' : r.pytorch?.error && r.pytorch_us == null ? 'error' : fmt(r.pytorch_us),
    r.diagnostic ? '' : ratio(r.ratio, true),
    r.diagnostic ? '' : ratio(r.ratio_median, false),
    r.torchnode?.gc_fraction != null ? (100 * r.torchnode.gc_fraction).toFixed(0) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = [false, false, true, true, true, true, true, true];
  const line = (cells) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join(' | ')
      .trimEnd();
  out.push(line(header));
  out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  const firstDiag = rows.findIndex((r) => r.diagnostic);
  body.forEach((b, i) => {
    if (i === firstDiag) out.push('-- breakdown (diagnostic rows, torchnode only) --');
    out.push(line(b));
  });
  out.push('');
  if (conv2d.available) out.push(`conv2d_backward: measured with ${conv2d.form}.`);
  else out.push(`conv2d_backward: SKIPPED until conv2d exists: ${conv2d.skipped}. matmul_backward stands in as the autograd-overhead figure.`);
  const used = [...new Set(rows.filter((r) => r.python_equivalent).map((r) => r.python_equivalent))];
  if (used.length) out.push(`PyTorch side runs: ${used.map((c) => `\`${c}\``).join('; ')} (scripts/bench/overhead.py).`);
  out.push('GC % = share of the timed Node repeats spent in V8 garbage collection. Each Node repeat ends with one event-loop');
  out.push('turn, so work deferred to the loop (GC backstop registration and callbacks) is timed too.');
  for (const e of errors) out.push(`ERROR: ${e}`);
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exitCode = 1;
});
