/**
 * A Python PyTorch process the tests ask for reference values (scripts/reference/torch_server.py).
 * The same LibTorch version as the addon's: parity is checked against PyTorch itself, not assumed.
 * A missing python3 or torch fails the test run with a message saying what to install.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import * as torch from '../../lib/index';
import { referencePython } from './python';

type Wire = unknown;
const SERVER = path.resolve(__dirname, '../../scripts/reference/torch_server.py');

const FLOAT8 = new Set(['float8_e5m2', 'float8_e4m3fn', 'float8_e5m2fnuz', 'float8_e4m3fnuz', 'float8_e8m0fnu']);

function encode(v: unknown): Wire {
  if (v instanceof torch.Tensor && FLOAT8.has(v.dtype)) {
    // a float8 tensor travels as its raw bytes (one per element)
    const data = v.detach().contiguous().reshape(-1).view('uint8').data();
    return { __tensor__: [v.dtype, v.shape, Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')] };
  }
  if (v instanceof torch.Tensor) {
    const data = v.dtype === 'float16' || v.dtype === 'bfloat16' ? v.float().data() : v.data();
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    const dtype = v.dtype === 'float16' || v.dtype === 'bfloat16' ? 'float32' : v.dtype;
    const t = { __tensor__: [dtype, v.shape, bytes] };
    return dtype === v.dtype ? t : { __cast__: [v.dtype, t] };
  }
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

const TYPED: Record<string, { new (b: ArrayBuffer): ArrayBufferView }> = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
};

function decode(v: Wire): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('__tensor__' in o) {
      const [dtype, shape, b64] = o.__tensor__ as [string, number[], string];
      const buf = Buffer.from(b64, 'base64');
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      if (dtype === 'float16' || dtype === 'bfloat16') {
        // raw half bits: rebuild through int16 -> view is not exposed, so ask for float32 on the Python side instead
        throw new Error(`reference returned ${dtype}: convert with .float() in the Python code`);
      }
      if (FLOAT8.has(dtype))
        return torch
          .tensor(new Uint8Array(ab))
          .view(dtype as torch.Dtype)
          .reshape(shape);
      const arr = new TYPED[dtype](ab) as never;
      return torch.tensor(arr, { dtype: dtype as torch.Dtype }).reshape(shape);
    }
    if ('__float__' in o) return Number(o.__float__ === 'nan' ? NaN : o.__float__ === 'inf' ? Infinity : -Infinity);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/** Reads what the Python side's save_raw(tensors, path) wrote: {name: Tensor} in its order. */
export function loadRaw(path: string): Record<string, torch.Tensor> {
  const index = JSON.parse(fs.readFileSync(`${path}.json`, 'utf8')) as {
    name: string;
    dtype: string;
    shape: number[];
    offset: number;
    bytes: number;
  }[];
  const data = fs.readFileSync(`${path}.bin`);
  const out: Record<string, torch.Tensor> = {};
  for (const e of index) {
    const ab = data.buffer.slice(data.byteOffset + e.offset, data.byteOffset + e.offset + e.bytes);
    out[e.name] = torch.tensor(new TYPED[e.dtype](ab) as never, { dtype: e.dtype as torch.Dtype }).reshape(e.shape);
  }
  return out;
}

/** Writes {name: Tensor} for the Python side's load_raw(path). */
export function saveRaw(tensors: Record<string, torch.Tensor>, path: string): void {
  const index: object[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const d = t.data();
    const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    index.push({ name, dtype: t.dtype, shape: t.shape, offset, bytes: b.length });
    chunks.push(b);
    offset += b.length;
  }
  fs.writeFileSync(`${path}.bin`, Buffer.concat(chunks));
  fs.writeFileSync(`${path}.json`, JSON.stringify(index));
}

export class PyTorch {
  private next = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly version: string;

  private constructor(
    private proc: ChildProcessWithoutNullStreams,
    version: string,
  ) {
    this.version = version;
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; out?: Wire; error?: string };
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`Python reference failed: ${msg.error}`));
      else p.resolve(decode(msg.out));
    });
  }

  static async start(opts: { packages?: string[] } = {}): Promise<PyTorch> {
    const python = referencePython(opts);
    const proc = spawn(python.command, [SERVER], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...python.env, OMP_NUM_THREADS: '1' } });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const version = await new Promise<string>((resolve, reject) => {
      const fail = (why: string) =>
        reject(
          new Error(
            `The parity tests need Python's PyTorch as the reference and could not start it (${why}).\n` +
              `It is ${python.source}; see node scripts/python.js.\n${stderr}`,
          ),
        );
      proc.on('error', (e) => fail(e.message));
      proc.on('exit', (code) => fail(`${python.command} exited with ${code}`));
      createInterface({ input: proc.stdout }).once('line', (line) => resolve((JSON.parse(line) as { ready: string }).ready));
    });
    proc.removeAllListeners('exit');
    const py = new PyTorch(proc, version);
    // A reference that dies fails the calls waiting on it at once, rather than at the test's timeout.
    proc.on('exit', (code, signal) =>
      py.failAll(new Error(`Python reference exited (${signal ?? code}) while a call was pending\n${stderr.slice(-2000)}`)),
    );
    return py;
  }

  /** Runs Python code with `inputs` bound by name (tensors travel exactly); returns what it put in `out`. */
  run<T = torch.Tensor>(code: string, inputs: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    const wire = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, encode(v)]));
    // half types travel as float32 and are cast back on the Python side
    const casts = Object.entries(wire)
      .filter(([, v]) => v !== null && typeof v === 'object' && '__cast__' in (v as object))
      .map(([k, v]) => {
        const [dtype, t] = (v as { __cast__: [string, unknown] }).__cast__;
        wire[k] = t;
        return `${k} = ${k}.to(torch.${dtype})\n`;
      });
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.stdin.write(JSON.stringify({ id, code: casts.join('') + code, inputs: wire }) + '\n');
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

const TOL: Record<string, { rtol: number; atol: number }> = {
  float64: { rtol: 1e-12, atol: 1e-12 },
  float32: { rtol: 1e-5, atol: 1e-6 },
  float16: { rtol: 1e-3, atol: 1e-3 },
  bfloat16: { rtol: 1e-2, atol: 1e-2 },
};

/** Same shape, same dtype, values within the dtype's tolerance (exact for integers and bool). */
export function expectClose(actual: torch.Tensor, expected: torch.Tensor, tol?: { rtol?: number; atol?: number }): void {
  expect(actual).toBeInstanceOf(torch.Tensor);
  expect(actual.shape, 'shape').toEqual(expected.shape);
  expect(actual.dtype, 'dtype').toBe(expected.dtype);
  const base = TOL[expected.dtype] ?? { rtol: 0, atol: 0 };
  const rtol = tol?.rtol ?? base.rtol;
  const atol = tol?.atol ?? base.atol;
  const a = Array.from(actual.data() as ArrayLike<number | bigint>, Number);
  const e = Array.from(expected.data() as ArrayLike<number | bigint>, Number);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i]) && Number.isNaN(a[i])) continue;
    if (a[i] === e[i]) continue;
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(`values differ at flat index ${worst}: got ${a[worst]}, PyTorch ${e[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * The Python reference for one test file: started in beforeAll, closed in afterAll. Use the returned
 * object's run() inside tests.
 */
export function usePyTorch(opts: { packages?: string[] } = {}): Pick<PyTorch, 'run'> {
  let py: PyTorch | undefined;
  beforeAll(async () => {
    py = await PyTorch.start(opts);
  }, 120_000);
  afterAll(() => py?.close());
  return {
    run: <T = torch.Tensor>(code: string, inputs: Record<string, unknown> = {}) => {
      if (!py) throw new Error('usePyTorch(): the Python reference is not started (call run() inside a test)');
      return py.run<T>(code, inputs);
    },
  };
}

/** max |a - b| / max |b|: the relative error the issues bound (1e-5 in fp32). */
export function relError(a: torch.Tensor, b: torch.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return torch.scope(() => (a.sub(b).abs().max().item() as number) / ((b.abs().max().item() as number) || 1));
}
