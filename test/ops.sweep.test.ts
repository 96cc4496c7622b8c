// The generated surface against Python's torch, op by op: calls are built from the schema itself (each
// name's first overload, sample values chosen by parameter kind and name), in several dtypes and shapes
// (broadcasting, 0-d, empty), in the positional and the options form; Python runs the same calls from
// the same data. Compared: the values (NaN where Python has NaN), dtype and shape, or the error's class
// when Python raises; and, for ops with float results, the gradient of the inputs.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import * as schema from '../lib/generated/schema';
import { TENSOR_VARARGS, camelCase, parseSchema, type SchemaParam } from '../lib/core/schema';
import { referencePython } from './helpers/python';

type Value = number | boolean | string | null | Value[] | { t: number } | { tl: number[] };
interface Call {
  label: string;
  space: string;
  name: string;
  self?: number;
  args: Value[];
  kwargs: Record<string, Value>;
  grad: boolean;
  optionsForm: boolean;
}
type Outcome =
  | { kind: 'tensor'; dtype: string; shape: number[]; values: (number | string | boolean)[] }
  | { kind: 'list'; items: Outcome[] }
  | { kind: 'value'; v: unknown }
  | { kind: 'error'; cls: string; message: string };

// Inputs: deterministic values in (-2, 2), with a few exact zeros and integers among them.
let seed = 12345;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
const INPUTS: { dtype: string; shape: number[]; data: number[] }[] = [];
function input(dtype: string, shape: number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : dtype === 'int64' ? Math.round(rand() * 3) : Number(rand().toFixed(4))));
  INPUTS.push({ dtype, shape, data });
  return INPUTS.length - 1;
}
// variants: [self/first tensor, other tensors (broadcasting where the shapes allow)]
const VARIANTS = [
  { label: 'f32 3x4', first: input('float32', [3, 4]), other: input('float32', [4]) },
  { label: 'f64 2x3', first: input('float64', [2, 3]), other: input('float64', [2, 3]) },
  { label: 'i64 3x4', first: input('int64', [3, 4]), other: input('int64', [3, 4]) },
  { label: 'f32 0-d', first: input('float32', []), other: input('float32', []) },
  { label: 'f32 empty', first: input('float32', [0, 4]), other: input('float32', [4]) },
];
const SQUARE = input('float64', [3, 3]);

// Not comparable value by value: random, uninitialised, or about storage/identity.
const SKIP =
  /rand|dropout|bernoulli|^binomial$|multinomial|normal|poisson|uniform|exponential|geometric|cauchy|random|empty|resize|^set_|storage|data_ptr|is_set_to|pin_memory|share_memory|record_stream|^new_|fill_diagonal_|^as_strided|unfold_copy|^to_|^detach_|put_$|index_put_|requires_grad_|retain|^equal$|is_nonzero|item|^stft|^istft|^lu_solve|^unique_dim|^histogram|^bincount|^embedding_renorm_|^hash_tensor$/;

// torchnode's factories are still hand-written (lib/core/creation.ts) and take their sizes and values by
// position only: torch.arange({end: 5}) is the generated surface's next step.
const HAND_FACTORIES = new Set([
  'arange',
  'eye',
  'full',
  'full_like',
  'zeros',
  'ones',
  'empty',
  'rand',
  'randn',
  'linspace',
  'normal',
  'randint',
  'zeros_like',
  'ones_like',
  'empty_like',
  'rand_like',
  'randn_like',
  'randint_like',
]);
// Gradients Python cannot show as values: sgn's is a ZeroTensor, which tolist() refuses.
const NO_GRAD_COMPARE = new Set(['sgn']);
// Python's own code around a binding that torchnode mirrors (lib/core/ops.ts), or whose binding already takes
// Python's arguments (split, unflatten): compared like the rest.
const MIRRORED = ['torch.norm', 'tensor.norm', 'torch.tensordot', 'torch.unique_consecutive', 'torch.cdist', 'tensor.split', 'tensor.unflatten'];
// (the hand-written mirrors take their tensors by position only; test/dispatch.test.ts holds their keywords)
const POSITIONAL_TENSORS = new Set(['norm', 'tensordot', 'unique_consecutive', 'cdist']);
// Calls that crash PyTorch itself (a segfault in the process), so neither side runs them: upstream bugs.
const CRASHES = new Set(['torch.pdist f32 empty']);

/** A sample for one parameter, or undefined when none is generic enough. */
function sample(p: SchemaParam, v: (typeof VARIANTS)[number], isFirstTensor: boolean, square: boolean): Value | undefined {
  const tensor = (): Value => ({ t: square ? SQUARE : isFirstTensor ? v.first : v.other });
  switch (p.kind) {
    case 'Tensor':
      return tensor();
    case 'Tensor[]':
      return { tl: [v.first, v.first] };
    case 'int':
      return /dim|axis/.test(p.name) ? -1 : /diagonal|offset/.test(p.name) ? 0 : 1;
    case 'int[]':
      if (/^(size|shape|sizes)$/.test(p.name)) return v.label.includes('0-d') ? [1] : v.label.includes('empty') ? [4, 0] : [-1];
      return /dim|axis|dims/.test(p.name) ? [-1] : [1];
    case 'float':
      return 0.5;
    case 'bool':
      return false;
    case 'Scalar':
      return 2;
    default:
      return undefined;
  }
}

function buildCalls(): Call[] {
  const calls: Call[] = [];
  const spaces: [string, schema.SchemaTable][] = [
    ['tensor', schema.TENSOR],
    ['torch', schema.TORCH],
    ['linalg', schema.LINALG],
    ['fft', schema.FFT],
    ['special', schema.SPECIAL],
  ];
  for (const [space, table] of spaces) {
    for (const [name, list] of Object.entries(table)) {
      if (SKIP.test(name)) continue;
      const s = parseSchema(list[0]);
      const method = space === 'tensor';
      const square =
        space === 'linalg' ||
        /^(det|logdet|slogdet|inverse|cholesky|matrix_exp|matrix_power|pinverse|trace|diag|triu|tril|qr|svd|eig|lu|ormqr|geqrf|orgqr|lstsq)/.test(
          name,
        );
      const required = s.params.filter((p) => p.default === undefined && !p.optional);
      for (const v of VARIANTS) {
        let firstTensor = true;
        const args: Value[] = [];
        const kwargs: Record<string, Value> = {};
        let self: number | undefined;
        let ok = true;
        for (const p of required) {
          if (method && p.name === 'self') {
            self = square ? SQUARE : v.first;
            firstTensor = false;
            continue;
          }
          const positionalCount = s.params.filter((q) => !q.kwOnly && !(method && q.name === 'self')).length;
          if (p.kind === 'Tensor[]' && positionalCount === 1 && space === 'torch' && TENSOR_VARARGS.has(name)) {
            args.push({ t: v.first }, { t: v.first }); // Python's *tensors
            continue;
          }
          const val = sample(p, v, firstTensor, square);
          if (val === undefined) ok = false;
          if (p.kind === 'Tensor') firstTensor = false;
          if (p.kwOnly) kwargs[p.name] = val!;
          else args.push(val!);
        }
        if (!ok) continue;
        if (method && self === undefined) continue;
        const float = INPUTS[self ?? v.first].dtype !== 'int64';
        const label = `${space}.${name} ${v.label}`;
        if (CRASHES.has(label)) continue;
        calls.push({ label, space, name, self, args, kwargs, grad: float && !name.endsWith('_') && !NO_GRAD_COMPARE.has(name), optionsForm: false });
        // the options form: the last positional argument by its keyword
        // (Python's *tensors wrappers take no keywords: no options form for those)
        if (args.length > 0 && v === VARIANTS[0] && !HAND_FACTORIES.has(name) && !TENSOR_VARARGS.has(name) && !POSITIONAL_TENSORS.has(name)) {
          const last = required.filter((p) => !p.kwOnly && !(method && p.name === 'self')).pop()!;
          const pyName = last.name === 'self' ? 'input' : last.name;
          calls.push({
            label: `${space}.${name} ${v.label} (${pyName} as an option)`,
            space,
            name,
            self,
            args: args.slice(0, -1),
            kwargs: { ...kwargs, [pyName]: args[args.length - 1] },
            grad: false,
            optionsForm: true,
          });
        }
        if (square) break;
      }
    }
  }
  return calls;
}

const PYTHON = `
import json, sys, math, torch
spec = json.load(sys.stdin)
DT = {'float32': torch.float32, 'float64': torch.float64, 'int64': torch.int64}
def make(i, grad):
    d = spec['inputs'][i]
    t = torch.tensor(d['data'], dtype=DT[d['dtype']]).reshape(d['shape'])
    return t.requires_grad_(True) if grad else t
def enc(v):
    if isinstance(v, torch.Tensor):
        t = v.detach()
        dtype = str(t.dtype).replace('torch.', '')
        if t.is_complex(): t = torch.view_as_real(t)
        vals = [x if isinstance(x, bool) else ('nan' if x != x else ('inf' if x == math.inf else ('-inf' if x == -math.inf else x))) for x in t.reshape(-1).tolist()]
        return {'kind': 'tensor', 'dtype': dtype, 'shape': list(v.shape), 'values': vals}
    if isinstance(v, (tuple, list)): return {'kind': 'list', 'items': [enc(x) for x in v]}
    if isinstance(v, torch.dtype): return {'kind': 'value', 'v': str(v).replace('torch.', '')}
    if isinstance(v, float) and v != v: return {'kind': 'value', 'v': 'nan'}
    return {'kind': 'value', 'v': v}
out = []
for c in spec['calls']:
    made = {}
    def val(v):
        if isinstance(v, dict) and 't' in v:
            if v['t'] not in made: made[v['t']] = make(v['t'], c['grad'])
            return made[v['t']]
        if isinstance(v, dict) and 'tl' in v: return [val({'t': i}) for i in v['tl']]
        return v
    try:
        args = [val(a) for a in c['args']]
        kwargs = {k: val(v) for k, v in c['kwargs'].items()}
        if c['space'] == 'tensor':
            self = val({'t': c['self']})
            fn = getattr(self.clone() if c['name'].endswith('_') else self, c['name'])
            if not isinstance(fn, type(self.add)) and 'tensor.' + c['name'] not in spec['mirrored']:
                out.append({'skip': 'python'})
                continue
            r = fn(*args, **kwargs)
        else:
            mod = torch if c['space'] == 'torch' else getattr(torch, c['space'])
            fn = getattr(mod, c['name'])
            # Python code around the binding (torch.functional: tensordot, unique_consecutive, …) has its
            # own signature; compared only where torchnode mirrors it (*tensors, norm)
            if not isinstance(fn, type(torch.add)) and c['space'] + '.' + c['name'] not in spec['mirrored']:
                out.append({'skip': 'python'})
                continue
            r = fn(*args, **kwargs)
        res = {'result': enc(r)}
        if c['grad'] and isinstance(r, torch.Tensor) and r.is_floating_point() and r.requires_grad:
            try:
                r.sum().backward()
                res['grads'] = [enc(made[i].grad) if made[i].grad is not None else None for i in sorted(made)]
            except Exception as e:
                res['grads'] = {'kind': 'error', 'cls': type(e).__name__, 'message': str(e)[:200]}
        out.append(res)
    except Exception as e:
        out.append({'result': {'kind': 'error', 'cls': type(e).__name__, 'message': str(e)[:200]}})
print(json.dumps(out))
`;

function encode(v: unknown): Outcome {
  if (v instanceof torch.Tensor) {
    const t = v.detach();
    const dtype = t.dtype as string;
    const real = dtype.startsWith('complex') ? torch.viewAsReal(t) : t;
    const data = Array.from(real.data() as ArrayLike<number | bigint>, (x) => {
      if (dtype === 'bool') return x !== 0;
      const n = Number(x);
      return Number.isNaN(n) ? 'nan' : n === Infinity ? 'inf' : n === -Infinity ? '-inf' : n;
    });
    return { kind: 'tensor', dtype, shape: t.shape, values: data };
  }
  if (Array.isArray(v)) return { kind: 'list', items: v.map(encode) };
  if (typeof v === 'number' && Number.isNaN(v)) return { kind: 'value', v: 'nan' };
  return { kind: 'value', v };
}

// Python's exception classes and torchnode's, for the same failure.
const ERRORS: Record<string, (e: unknown) => boolean> = {
  RuntimeError: (e) => e instanceof torch.TorchError,
  IndexError: (e) => e instanceof torch.TorchIndexError || e instanceof RangeError,
  ValueError: (e) => e instanceof torch.TorchValueError,
  TypeError: (e) => e instanceof TypeError || e instanceof torch.TorchTypeError,
  NotImplementedError: (e) => e instanceof torch.TorchNotImplementedError,
};

function runOurs(c: Call, inputs: torch.Tensor[]): { result: Outcome; grads?: unknown; error?: unknown } {
  const made = new Map<number, torch.Tensor>();
  const val = (v: Value): unknown => {
    if (v !== null && typeof v === 'object' && 't' in v) {
      // a fresh copy per call, as Python makes one: torch.abs_(x) and friends write their input
      if (!made.has(v.t)) made.set(v.t, c.grad ? inputs[v.t].clone().requiresGrad_(true) : inputs[v.t].clone());
      return made.get(v.t);
    }
    if (v !== null && typeof v === 'object' && 'tl' in v) return v.tl.map((i) => val({ t: i }));
    return v;
  };
  try {
    const args = c.args.map(val);
    const opts = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camelCase(k), val(v)]));
    if (Object.keys(opts).length > 0) args.push(opts);
    let r: unknown;
    if (c.space === 'tensor') {
      const self = val({ t: c.self! }) as torch.Tensor;
      const target = c.name.endsWith('_') ? self.clone() : self;
      r = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[camelCase(c.name)](...args);
    } else {
      const mod = (c.space === 'torch' ? torch : (torch as unknown as Record<string, unknown>)[c.space]) as Record<
        string,
        (...a: unknown[]) => unknown
      >;
      r = mod[camelCase(c.name)](...args);
    }
    const out: { result: Outcome; grads?: unknown } = { result: encode(r) };
    if (c.grad && r instanceof torch.Tensor && r.isFloatingPoint() && r.requiresGrad) {
      try {
        r.sum().backward();
        out.grads = [...made.keys()]
          .sort((a, b) => a - b)
          .map((i) => {
            const g = made.get(i)!.grad;
            return g === null ? null : encode(g);
          });
      } catch (e) {
        out.grads = { kind: 'error', error: e };
      }
    }
    return out;
  } catch (e) {
    return { result: { kind: 'error', cls: (e as Error).constructor.name, message: (e as Error).message }, error: e };
  }
}

function close(a: Outcome, b: Outcome, path: string, problems: string[]): void {
  if (a.kind !== b.kind) {
    problems.push(
      `${path}: Python gave ${a.kind === 'error' ? `${a.cls}: ${a.message}` : a.kind}, torchnode ${b.kind === 'error' ? `${b.cls}: ${b.message}` : b.kind}`,
    );
    return;
  }
  if (a.kind === 'list' && b.kind === 'list') {
    if (a.items.length !== b.items.length) problems.push(`${path}: ${a.items.length} results, torchnode ${b.items.length}`);
    else a.items.forEach((x, i) => close(x, b.items[i], `${path}[${i}]`, problems));
  } else if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) {
      problems.push(`${path}: Python ${a.dtype}[${a.shape}], torchnode ${b.dtype}[${b.shape}]`);
      return;
    }
    const tol = a.dtype === 'float64' || a.dtype === 'complex128' ? 1e-9 : 1e-4;
    const bad = a.values.findIndex((x, i) => {
      const y = b.values[i];
      if (typeof x !== 'number' || typeof y !== 'number') return x !== y;
      return Math.abs(x - y) > tol * (1 + Math.abs(x));
    });
    if (bad >= 0) problems.push(`${path}: element ${bad}: Python ${a.values[bad]}, torchnode ${b.values[bad]}`);
  } else if (a.kind === 'value' && b.kind === 'value') {
    const x = a.v,
      y = b.v;
    const same = typeof x === 'number' && typeof y === 'number' ? Math.abs(x - y) <= 1e-6 * (1 + Math.abs(x)) : x === y;
    if (!same) problems.push(`${path}: Python ${String(x)}, torchnode ${String(y)}`);
  }
}

describe('the generated surface against Python, op by op', () => {
  it("gives Python's values, dtypes, shapes, errors and gradients", () => {
    const calls = buildCalls();
    const py = referencePython();
    const r = spawnSync(py.command, ['-c', PYTHON], {
      env: py.env,
      input: JSON.stringify({ inputs: INPUTS, calls, mirrored: [...[...TENSOR_VARARGS].map((n) => `torch.${n}`), ...MIRRORED] }),
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const theirs = JSON.parse(r.stdout) as { result: Outcome; grads?: Outcome[] | Outcome; skip?: string }[];
    const pythonLevel = [...new Set(calls.filter((c, i) => theirs[i].skip === 'python').map((c) => `${c.space}.${c.name}`))];
    const inputs = INPUTS.map((d) => torch.tensor(d.data, { dtype: d.dtype as torch.Dtype }).reshape(d.shape));
    const problems: string[] = [];
    let values = 0,
      errors = 0,
      grads = 0;
    const ops = new Set<string>();
    const gradOps = new Set<string>();
    torch.scope(() => {
      calls.forEach((c, i) => {
        const ours = runOurs(c, inputs);
        const want = theirs[i];
        if (want.skip) return;
        if (want.result.kind === 'error') {
          errors++;
          const matches = ERRORS[(want.result as { cls: string }).cls] ?? ((e: unknown) => e instanceof Error);
          if (ours.result.kind !== 'error' || !matches(ours.error)) {
            problems.push(
              `${c.label}: Python raised ${(want.result as { cls: string }).cls} (${(want.result as { message: string }).message.split('\n')[0]}), torchnode ${ours.result.kind === 'error' ? `${ours.result.cls}: ${ours.result.message.split('\n')[0]}` : 'returned'}`,
            );
          }
          return;
        }
        values++;
        ops.add(`${c.space}.${c.name}`);
        close(want.result, ours.result, c.label, problems);
        if (Array.isArray(want.grads) && Array.isArray(ours.grads)) {
          grads++;
          gradOps.add(`${c.space}.${c.name}`);
          want.grads.forEach((g, j) => {
            const o = (ours.grads as (Outcome | null)[])[j];
            if (g === null || o === null) {
              if (g !== o)
                problems.push(`${c.label} grad ${j}: Python ${g === null ? 'None' : 'a gradient'}, torchnode ${o === null ? 'null' : 'a gradient'}`);
            } else close(g, o, `${c.label} grad ${j}`, problems);
          });
        } else if (want.grads !== undefined && !Array.isArray(want.grads) && Array.isArray(ours.grads)) {
          problems.push(`${c.label}: Python's backward raised, torchnode's did not`);
        }
      });
    });
    console.log(
      `sweep: ${calls.length} calls over ${new Set(calls.map((c) => `${c.space}.${c.name}`)).size} names; ` +
        `${values} compared by value (${ops.size} names), ${errors} by error class, gradients of ${gradOps.size} names (${grads} calls)`,
    );
    console.log(`not compared: Python's own code around the binding, which torchnode does not mirror yet: ${pythonLevel.join(', ')}`);
    if (problems.length) console.log(problems.slice(0, 60).join('\n'));
    expect(problems.slice(0, 30)).toEqual([]);
    expect(gradOps.size).toBeGreaterThanOrEqual(200);
  }, 120_000);
});
