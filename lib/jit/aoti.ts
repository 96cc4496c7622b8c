/**
 * AOTInductor packages: a model compiled ahead of time by Python, loaded and run from Node, as
 * `torch._inductor.aoti_load_package` does there.
 *
 *     # Python
 *     ep = torch.export.export(model.eval(), (example,))
 *     torch._inductor.aoti_compile_and_package(ep, package_path='model.pt2')
 *
 *     // Node
 *     const model = torch.aoti.loadPackage('model.pt2');
 *     const y = model(x);                          // or await model.runAsync(x), off the JS thread
 *
 * Inputs and outputs are Python's pytrees: the arguments the model was exported with (tensors, arrays
 * for tuples and lists, plain objects for dicts, a last plain object for keyword arguments), and its
 * outputs likewise. A package runs on the device it was compiled for (a CUDA package needs CUDA here);
 * it records no autograd graph. Results are new tensors the caller owns; dispose() frees the model.
 *
 * Inputs are checked against what the model was compiled for (dtype, shape, strides, device): without
 * the check a wrong shape reads past a tensor's memory (Python's loader computes garbage silently).
 * torchnode turns on the compiled code's own check (AOTI_RUNTIME_CHECK_INPUTS=1) unless the environment
 * already sets it; set it to 0 to skip it.
 */
import { native, type Handle, type PackageHandle } from '../core/native';
import { TorchError, withCallerStack } from '../core/errors';
import { Tensor, wrap } from '../core/tensor';
import { optionsArg } from '../core/args';
import { describe } from '../core/dtype';
import type { Module, StateDict } from '../nn/module';
import { loadFile } from '../io/safetensors';
import { pathArg, type PathLike } from '../io/serialize';

export interface LoadPackageOptions {
  /** The model in the package to load (default 'model'; a package may hold several). */
  modelName?: string;
  /** Run on the calling thread only (LibTorch's run_single_threaded; default false). */
  runSingleThreaded?: boolean;
  /** How many runs may go at once (default 1). */
  numRunners?: number;
  /** The CUDA device to load a CUDA package on (default -1: the current device). */
  deviceIndex?: number;
}

export interface LoadConstantsOptions {
  /** Every constant of the model must be given (default false: the others keep their values). */
  checkFullUpdate?: boolean;
  /** The model uses the given tensors' memory instead of copying it (default false). */
  userManaged?: boolean;
}

const LOAD_OPTIONS = ['modelName', 'runSingleThreaded', 'numRunners', 'deviceIndex'] as const;

/** A loaded package: call it as the exported module's forward (`model(x)`). */
export interface AOTICompiledModel {
  (...args: unknown[]): unknown;
}

export class AOTICompiledModel {
  // Set on the callable the constructor returns (Object.assign below).
  private _h!: PackageHandle | null;
  private running!: number; // runAsync calls in flight: constants are not swapped under them
  private readonly inSpec!: Spec;
  private readonly outSpec!: Spec;

  /** @internal Made by loadPackage() and loadPackageAsync(). */
  constructor(
    handle: PackageHandle,
    readonly path: string,
  ) {
    const self = function (...args: unknown[]): unknown {
      return model.run(...args);
    };
    delete (self as { name?: unknown }).name;
    delete (self as { length?: unknown }).length;
    const model = Object.setPrototypeOf(self, new.target.prototype) as AOTICompiledModel;
    const [inSpec, outSpec] = native.aotiCallSpec(handle).map((s) => parseSpec(s, path));
    Object.assign(model, { _h: handle, path, inSpec, outSpec, running: 0 });
    return model;
  }

  private get handle(): PackageHandle {
    if (this._h === null) throw new TorchError('this AOTInductor package was disposed; it can no longer be run');
    return this._h;
  }

  /** Runs the model: the arguments of the exported forward, then keyword arguments as a last plain object. */
  run(...args: unknown[]): unknown {
    const flat = flatten(this.inSpec, args, this.path);
    try {
      return unflatten(this.outSpec, native.aotiRun(this.handle, flat).map(wrap), this.path);
    } catch (e) {
      throw runError(this.path, e);
    }
  }

  /** run() on a worker thread: the JS thread stays free while the model computes. */
  async runAsync(...args: unknown[]): Promise<unknown> {
    const callerStack = new Error().stack;
    const flat = flatten(this.inSpec, args, this.path);
    this.running++;
    try {
      return unflatten(this.outSpec, (await native.aotiRunAsync(this.handle, flat)).map(wrap), this.path);
    } catch (e) {
      throw withCallerStack(runError(this.path, e), callerStack);
    } finally {
      this.running--;
    }
  }

  /** What the compile recorded (AOTI_DEVICE_KEY, AOTI_CPU_ISA, … and any metadata given to it). */
  getMetadata(): Record<string, string> {
    return { ...native.aotiMetadata(this.handle) };
  }

  /** The names of the model's constants (its weights and buffers, by their state-dict keys). */
  getConstantFqns(): string[] {
    return native.aotiConstantFqns(this.handle);
  }

  /**
   * New values for the model's constants, as Python's load_constants: a state dict (a module's
   * `stateDict()`, or any {name: Tensor}) or a safetensors file. Names the model does not have are an
   * error; with checkFullUpdate every constant must be given.
   */
  loadConstants(constants: StateDict | Record<string, Tensor> | Module | PathLike, opts?: LoadConstantsOptions): void {
    const o = optionsArg<LoadConstantsOptions>(opts, 'AOTICompiledModel.loadConstants', ['checkFullUpdate', 'userManaged']);
    // LibTorch swaps the active constants without a lock: never under a run on the compute thread
    if (this.running > 0)
      throw new TorchError(`AOTICompiledModel.loadConstants: ${this.running} runAsync call(s) are still running; await them first`);
    const fromFile = typeof constants === 'string' || constants instanceof URL;
    // a file's tensors are read onto the package's device (LibTorch copies nothing across devices here)
    const map = constantsOf(constants, this.getMetadata().AOTI_DEVICE_KEY === 'cuda' ? 'cuda' : 'cpu');
    try {
      this.swapConstants(map, o);
    } finally {
      if (fromFile && o.userManaged !== true) for (const t of Object.values(map)) t.dispose();
    }
  }

  private swapConstants(map: Record<string, Tensor>, o: LoadConstantsOptions): void {
    const known = new Set(this.getConstantFqns());
    const unknown = Object.keys(map).filter((k) => !known.has(k));
    if (unknown.length) {
      const list = (names: string[]) =>
        names
          .slice(0, 8)
          .map((k) => `'${k}'`)
          .join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');
      const frozen = [...known].some((k) => k.startsWith('_frozen_param'))
        ? '; it was compiled with freezing, which folds the weights into constants of its own: compile without it to swap weights'
        : '';
      throw new TorchError(
        `AOTICompiledModel.loadConstants: the model has no constant ${list(unknown)} (its constants: ${list([...known])}${frozen})`,
      );
    }
    const names = Object.keys(map);
    try {
      native.aotiLoadConstants(
        this.handle,
        names,
        names.map((n) => map[n].handle),
        o.checkFullUpdate === true,
        o.userManaged === true,
      );
    } catch (e) {
      throw runError(this.path, e, 'loadConstants');
    }
  }

  /** Frees the model now (a run in progress finishes first); the garbage collector is only a backstop. */
  dispose(): void {
    if (this._h === null) return;
    native.aotiDispose(this._h);
    this._h = null;
  }

  toString(): string {
    return `AOTICompiledModel('${this.path}')`;
  }
}

// Read once per process by each compiled model, at its first run: set before any package loads.
function checkInputs(): void {
  if (process.env.AOTI_RUNTIME_CHECK_INPUTS === undefined) process.env.AOTI_RUNTIME_CHECK_INPUTS = '1';
}

/** torch._inductor.aoti_load_package(path): a .pt2 package made by aoti_compile_and_package. */
export function loadPackage(path: PathLike, opts?: LoadPackageOptions): AOTICompiledModel {
  const file = pathArg(path, 'torch.aoti.loadPackage');
  const o = loadOptions(opts);
  checkInputs();
  try {
    return new AOTICompiledModel(native.aotiLoad(file, o.modelName, o.runSingleThreaded, o.numRunners, o.deviceIndex), file);
  } catch (e) {
    throw loadError(file, e);
  }
}

/** loadPackage() with the unpacking and loading on a worker thread. */
export async function loadPackageAsync(path: PathLike, opts?: LoadPackageOptions): Promise<AOTICompiledModel> {
  const callerStack = new Error().stack;
  const file = pathArg(path, 'torch.aoti.loadPackage');
  const o = loadOptions(opts);
  checkInputs();
  try {
    return new AOTICompiledModel(await native.aotiLoadAsync(file, o.modelName, o.runSingleThreaded, o.numRunners, o.deviceIndex), file);
  } catch (e) {
    throw withCallerStack(loadError(file, e), callerStack);
  }
}

function loadOptions(opts: LoadPackageOptions | undefined): Required<LoadPackageOptions> {
  const o = optionsArg<LoadPackageOptions>(opts, 'torch.aoti.loadPackage', LOAD_OPTIONS);
  const modelName = o.modelName ?? 'model';
  if (typeof modelName !== 'string' || modelName.length === 0)
    throw new TypeError(`torch.aoti.loadPackage: modelName must be a non-empty string (got ${describe(modelName)})`);
  const runSingleThreaded = o.runSingleThreaded ?? false;
  if (typeof runSingleThreaded !== 'boolean')
    throw new TypeError(`torch.aoti.loadPackage: runSingleThreaded must be a boolean (got ${describe(runSingleThreaded)})`);
  const numRunners = o.numRunners ?? 1;
  if (!Number.isSafeInteger(numRunners) || numRunners < 1)
    throw new RangeError(`torch.aoti.loadPackage: numRunners must be a positive integer (got ${describe(numRunners)})`);
  const deviceIndex = o.deviceIndex ?? -1;
  if (!Number.isSafeInteger(deviceIndex) || deviceIndex < -1 || deviceIndex > 127) {
    throw new RangeError(`torch.aoti.loadPackage: deviceIndex must be -1 or a device index (got ${describe(deviceIndex)})`);
  }
  return { modelName, runSingleThreaded, numRunners, deviceIndex };
}

function clean(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*Exception raised from [\s\S]*$/, '');
}

function loadError(file: string, e: unknown): Error {
  if (e instanceof TypeError || e instanceof RangeError) return e;
  return new TorchError(`torch.aoti.loadPackage('${file}'): ${clean(e)}`);
}

function runError(file: string, e: unknown, what = 'run'): Error {
  if (e instanceof TypeError || e instanceof RangeError || !(e instanceof Error)) return e as Error;
  if (e.message.startsWith('AOTICompiledModel')) return e;
  const hint = /input_handles\[\d+\]: unmatched/.test(e.message)
    ? ' (the package was compiled for these dtypes, shapes and strides: pass tensors like the example inputs, contiguous)'
    : '';
  return new (e.constructor as new (m: string) => Error)(`AOTICompiledModel.${what}() ('${file}'): ${clean(e).trim()}${hint}`);
}

function constantsOf(c: unknown, device: string): Record<string, Tensor> {
  if (typeof c === 'string' || c instanceof URL) return loadFile(c, { device });
  if (typeof c === 'function' && typeof (c as Module).stateDict === 'function') return (c as Module).stateDict() as Record<string, Tensor>;
  if (c instanceof Map) return Object.fromEntries(c) as Record<string, Tensor>;
  if (c !== null && typeof c === 'object' && !Array.isArray(c)) {
    for (const [k, v] of Object.entries(c)) {
      if (!(v instanceof Tensor)) throw new TypeError(`AOTICompiledModel.loadConstants: '${k}' must be a Tensor (got ${describe(v)})`);
    }
    return c as Record<string, Tensor>;
  }
  throw new TypeError(`AOTICompiledModel.loadConstants: constants must be a state dict, a Module or a safetensors path (got ${describe(c)})`);
}

// ---- pytrees (torch.utils._pytree's serialized TreeSpec: [1, {type, context, children_spec}]) ----

/** A node of the spec: a leaf (type null), a tuple or list (an array here), or a dict (its keys). */
type Spec = { kind: 'leaf' } | { kind: 'sequence'; type: string; children: Spec[] } | { kind: 'dict'; keys: string[]; children: Spec[] };
type RawSpec = { type: string | null; context: string | null; children_spec: RawSpec[] };

const SEQUENCES = new Set(['builtins.tuple', 'builtins.list', 'collections.namedtuple']);

function parseSpec(text: string, file: string): Spec {
  let raw: RawSpec;
  try {
    const parsed = JSON.parse(text) as [number, RawSpec];
    if (!Array.isArray(parsed) || parsed[0] !== 1) throw new Error(`protocol ${JSON.stringify(parsed?.[0])}`);
    raw = parsed[1];
  } catch (e) {
    throw new TorchError(`torch.aoti.loadPackage('${file}'): the package's call spec is not a pytree spec torchnode reads (${(e as Error).message})`);
  }
  const node = (r: RawSpec): Spec => {
    if (r.type === null) return { kind: 'leaf' };
    const children = r.children_spec.map(node);
    if (SEQUENCES.has(r.type)) return { kind: 'sequence', type: r.type, children };
    if (r.type === 'builtins.dict' || r.type === 'collections.OrderedDict') {
      const keys = JSON.parse(r.context ?? '[]') as unknown[];
      return { kind: 'dict', keys: keys.map(String), children };
    }
    throw new TorchError(
      `torch.aoti.loadPackage('${file}'): the model's inputs or outputs use the pytree type ${r.type}, which torchnode cannot map to JS values`,
    );
  };
  return node(raw);
}

/** The input spec is ((args…), {kwargs…}); the tensors of args and kwargs in its leaf order. */
function flatten(spec: Spec, args: unknown[], file: string): Handle[] {
  if (spec.kind !== 'sequence' || spec.children.length !== 2) throw new TorchError(`AOTICompiledModel ('${file}'): unexpected input spec`);
  const [argSpec, kwSpec] = spec.children;
  let kwargs: Record<string, unknown> = {};
  const nArgs = argSpec.kind === 'sequence' ? argSpec.children.length : 0;
  const last = args[args.length - 1];
  if (args.length === nArgs + 1 && isPlainObject(last)) {
    kwargs = last as Record<string, unknown>;
    args = args.slice(0, -1);
  }
  if (args.length !== nArgs)
    throw new TypeError(`AOTICompiledModel: the model takes ${nArgs} positional argument${nArgs === 1 ? '' : 's'} (got ${args.length})`);
  const out: Handle[] = [];
  const walk = (s: Spec, v: unknown, where: string): void => {
    if (s.kind === 'leaf') {
      if (v instanceof Tensor) out.push(v.handle);
      // Python drops non-tensor leaves (they were specialized into the compiled code)
      return;
    }
    if (s.kind === 'sequence') {
      if (!Array.isArray(v) || v.length !== s.children.length) {
        throw new TypeError(`AOTICompiledModel: ${where} must be an array of ${s.children.length} (as the model was exported; got ${describe(v)})`);
      }
      s.children.forEach((c, i) => walk(c, v[i], `${where}[${i}]`));
      return;
    }
    if (!isPlainObject(v)) throw new TypeError(`AOTICompiledModel: ${where} must be an object with ${s.keys.join(', ')} (got ${describe(v)})`);
    const obj = v as Record<string, unknown>;
    const extra = Object.keys(obj).filter((k) => !s.keys.includes(k));
    if (extra.length)
      throw new TypeError(`AOTICompiledModel: ${where} has ${extra.map((k) => `'${k}'`).join(', ')}, which the model was not exported with`);
    s.children.forEach((c, i) => walk(c, obj[s.keys[i]], `${where}.${s.keys[i]}`));
  };
  if (argSpec.kind === 'sequence') argSpec.children.forEach((c, i) => walk(c, args[i], `argument ${i}`));
  if (kwSpec.kind === 'dict') walk(kwSpec, kwargs, 'the keyword arguments');
  return out;
}

function unflatten(spec: Spec, leaves: Tensor[], file: string): unknown {
  let next = 0;
  const build = (s: Spec): unknown => {
    if (s.kind === 'leaf') {
      if (next >= leaves.length) throw new TorchError(`AOTICompiledModel ('${file}'): the model returned fewer tensors than its output spec names`);
      return leaves[next++];
    }
    if (s.kind === 'sequence') return s.children.map(build);
    return Object.fromEntries(s.children.map((c, i) => [s.keys[i], build(c)]));
  };
  return build(spec);
}

function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor) && Object.getPrototypeOf(v) === Object.prototype;
}
