/**
 * torch.jit.trace and torch.jit.save for torchnode Modules: a model built and trained here becomes a
 * TorchScript module that Python's torch.jit.load (and every TorchScript runtime) runs.
 *
 *     const traced = torch.jit.trace(model.eval(), torch.randn([1, 3, 224, 224]));
 *     traced.save('model.pt');                       // or: torch.jit.save(model, 'model.pt', {exampleInputs: x})
 *
 * As Python's tracer does, the forward runs once while LibTorch records every op it calls; the result
 * shares the model's parameters and buffers, keeps its state_dict keys, and has one forward method per
 * submodule. What the tracer cannot see becomes a constant: a branch taken on a tensor's value, and
 * numbers read in JS (`x.shape`, `item()`). So write forwards with shape-free ops (`flatten(1)`,
 * `view(-1, C)`, `expandAs`) where the batch size must stay free, as the SE-ResNet models here do.
 * checkTrace (on by default in eval mode) runs the trace against the eager forward and refuses a trace
 * that does not reproduce it.
 */
import { native, type Handle, type TraceModuleSpec } from '../core/native';
import { TorchError } from '../core/errors';
import { Tensor, tensorsIn, wrap } from '../core/tensor';
import { describe } from '../core/dtype';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import { Module, nonPersistentBuffers, setTraceScopes, type AnyModule } from '../nn/module';
import { ScriptModule, type PathLike } from './script';

export interface TraceOptions {
  /** Refuse mutable containers as outputs, as Python's strict=True (default true). */
  strict?: boolean;
  /**
   * Run the trace and the eager forward on the example inputs and compare (default: true in eval
   * mode; skipped in training mode, where a second forward would update batch-norm statistics again).
   */
  checkTrace?: boolean;
  /** Tolerance of that comparison (default 1e-5, relative and absolute). */
  checkTolerance?: number;
  /**
   * More inputs to check the trace with (Python's check_inputs): each a tensor or an array of them.
   * Inputs that take another branch of a data-dependent forward expose a trace that kept one branch.
   */
  checkInputs?: (Tensor | Tensor[])[];
}

export interface SaveOptions extends TraceOptions {
  /** What the forward is traced with when `module` is a torchnode Module: a tensor or an array of them. */
  exampleInputs?: Tensor | Tensor[];
  /** The same as exampleInputs. */
  exampleInput?: Tensor | Tensor[];
}

/** torch.jit.trace(module, exampleInputs): the module as a TorchScript module sharing its tensors. */
export function trace(module: Module, exampleInputs: Tensor | Tensor[], opts: TraceOptions = {}): ScriptModule {
  if (!(module instanceof Module)) throw new TypeError(`torch.jit.trace: module must be a torchnode nn.Module (got ${describe(module)})`);
  const inputs = inputsArg(exampleInputs, 'exampleInputs');
  if (opts === null || typeof opts !== 'object') throw new TypeError(`torch.jit.trace: options must be an object (got ${describe(opts)})`);
  const strict = opts.strict ?? true;
  if (typeof strict !== 'boolean') throw new TypeError(`torch.jit.trace: strict must be a boolean (got ${describe(strict)})`);
  const tolerance = opts.checkTolerance ?? 1e-5;
  if (typeof tolerance !== 'number' || !(tolerance >= 0))
    throw new RangeError(`torch.jit.trace: checkTolerance must be a number ≥ 0 (got ${describe(tolerance)})`);

  const checks = opts.checkInputs ?? [];
  if (!Array.isArray(checks)) throw new TypeError(`torch.jit.trace: checkInputs must be an array of inputs (got ${describe(checks)})`);
  const checkSets = [inputs, ...checks.map((c, i) => inputsArg(c, `checkInputs[${i}]`))];

  const traced = record(module, inputs, strict, false);
  if (opts.checkTrace ?? (!module.training || checks.length > 0)) {
    for (const set of checkSets) checkTrace(module, traced, set, tolerance);
  }
  return traced;
}

/**
 * torch.jit.save(module, path, {exampleInputs}): writes a TorchScript file. A ScriptModule is saved as
 * it is; a torchnode Module is traced with exampleInputs first.
 */
export function save(module: Module | ScriptModule, path: PathLike, opts: SaveOptions = {}): void {
  if (module instanceof ScriptModule) {
    module.save(path);
    return;
  }
  if (!(module instanceof Module))
    throw new TypeError(`torch.jit.save: module must be a ScriptModule or a torchnode nn.Module (got ${describe(module)})`);
  const example = opts?.exampleInputs ?? opts?.exampleInput;
  if (example === undefined) {
    throw new TypeError(
      'torch.jit.save: a torchnode Module is traced to become TorchScript; pass {exampleInputs: tensor or [tensors]} (what its forward takes)',
    );
  }
  const traced = trace(module, example, opts);
  try {
    traced.save(path);
  } finally {
    traced.dispose();
  }
}

/**
 * @internal A training step traced to run as recorded (flat graph, the simple executor: no profiling,
 * fusion or symbolic autodiff), so its gradients are the eager step's. See train/step.ts.
 */
export function traceStep(module: Module, inputs: Tensor[]): ScriptModule {
  return record(module, inputs, true, true);
}

// Runs module(...inputs) under LibTorch's tracer. Submodule calls are scoped (one method each) unless
// the graph is for running as recorded.
function record(module: Module, inputs: Tensor[], strict: boolean, simple: boolean): ScriptModule {
  const names = new Map<Module, string>();
  const spec = describeModule(module, '__module', names, new Set());
  names.delete(module); // the root is called directly, as Python's trace does
  let outputs: unknown = null;
  if (!simple) setTraceScopes({ names, enter: native.jitTracePushScope, exit: native.jitTracePopScope });
  try {
    const handle = native.jitTrace(
      spec,
      inputs.map((t) => t.handle),
      (handles) => {
        const args = handles.map((h) => wrap(h));
        try {
          outputs = scope(() => (module as AnyModule)(...args));
          return handlesOf(outputs);
        } finally {
          const returned = new Set(tensorsIn(outputs));
          for (const a of args) if (!returned.has(a)) a.dispose();
        }
      },
      strict,
      simple,
    );
    return new ScriptModule(handle);
  } catch (e) {
    throw traceError(e);
  } finally {
    setTraceScopes(null);
    for (const t of tensorsIn(outputs)) t.dispose();
  }
}

// ---- helpers ----

function describeModule(m: Module, qualified: string, names: Map<Module, string>, seen: Set<Module>): TraceModuleSpec {
  if (seen.has(m))
    throw new TorchError(
      `torch.jit.trace: module ${qualified.replace(/^__module\.?/, '') || '(root)'} appears twice in the module tree; TorchScript modules form a tree`,
    );
  seen.add(m);
  names.set(m, qualified);
  const skip = nonPersistentBuffers(m);
  const buffers: [string, Handle][] = [];
  const attrs: [string, Handle][] = [];
  for (const [k, b] of m.ownBuffers()) (skip.has(k) ? attrs : buffers).push([k, b.handle]);
  return {
    name: m.constructor.name,
    training: m.training,
    params: [...m.ownParameters()].map(([k, p]) => [k, p.handle]),
    buffers,
    attrs,
    children: [...m.namedChildren()].map(([k, c]) => [k, describeModule(c, `${qualified}.${k}`, names, seen)]),
  };
}

function inputsArg(v: unknown, what: string): Tensor[] {
  const list = Array.isArray(v) ? v : [v];
  list.forEach((t, i) => {
    if (!(t instanceof Tensor))
      throw new TypeError(`torch.jit.trace: ${what}${Array.isArray(v) ? `[${i}]` : ''} must be a Tensor (got ${describe(t)})`);
  });
  if (list.length === 0) throw new TypeError(`torch.jit.trace: ${what} must hold at least one Tensor`);
  return list as Tensor[];
}

function handlesOf(v: unknown, depth = 0): unknown {
  if (depth > 64) throw new RangeError('torch.jit.trace: the forward returned a value nested more than 64 levels deep');
  if (v instanceof Tensor) return v.handle;
  if (Array.isArray(v)) return v.map((x) => handlesOf(x, depth + 1));
  throw new TypeError(`torch.jit.trace: the forward must return a Tensor or (nested) arrays of Tensors (got ${describe(v)})`);
}

function checkTrace(module: Module, traced: ScriptModule, inputs: Tensor[], tolerance: number): void {
  const mismatch = noGrad(() =>
    scope(() => {
      const eager = tensorsIn((module as AnyModule)(...inputs));
      const replay = tensorsIn(traced.forward(...inputs));
      if (eager.length !== replay.length) return `the trace returns ${replay.length} tensors, the forward ${eager.length}`;
      for (let i = 0; i < eager.length; i++) {
        const [a, b] = [eager[i], replay[i]];
        if (a.shape.join() !== b.shape.join()) return `output ${i} has shape [${b.shape}] in the trace, [${a.shape}] in the forward`;
        if (!a.allclose(b, { rtol: tolerance, atol: tolerance, equalNan: true })) return `output ${i} differs from the forward's beyond ${tolerance}`;
      }
      return null;
    }),
  );
  if (mismatch !== null) {
    traced.dispose();
    throw new TorchError(
      `torch.jit.trace: the trace does not reproduce the module's forward (${mismatch}). ` +
        'A branch on a tensor value, or a number read in JS (x.shape, item()), became a constant; pass {checkTrace: false} to keep the trace anyway',
    );
  }
}

function traceError(e: unknown): unknown {
  if (e instanceof TorchError && !e.message.startsWith('torch.jit.trace')) {
    return new (e.constructor as new (m: string) => TorchError)(`torch.jit.trace: ${e.message}`);
  }
  return e;
}
