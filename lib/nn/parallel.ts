/**
 * torch.nn.parallel.DistributedDataParallel for torchnode Modules, on c10d's own Reducer (native/ddp.cc).
 *
 *     await torch.distributed.initProcessGroup({ backend: 'gloo' });
 *     const model = new nn.parallel.DistributedDataParallel(torch.models.seResNet18({ stem: 'cifar' }));
 *     const loss = crossEntropy(model(x), y);   // x: this rank's share of the global batch
 *     loss.backward();                          // gradients all-reduced in buckets during backward, averaged
 *     optimizer.step();                         // identical parameters on every rank
 *
 * As PyTorch's: the constructor checks that every rank has the same parameters (count, shapes, dtypes)
 * and copies rank 0's parameters and buffers to all; each forward in training with gradients enabled
 * first copies rank 0's buffers (batch-norm statistics) to all, and arms the Reducer so that the next
 * backward all-reduces: buckets of ~25 MiB, started as soon as their gradients are ready, overlapped
 * with the rest of backward (one bucket in the first iteration, then rebuilt in the order gradients
 * became ready). The wrapped module is the child `module`, so state dict keys carry PyTorch's
 * `module.` prefix. noSync(fn) skips the all-reduce for gradient accumulation.
 */
import { Tensor, tensorsIn } from '../core/tensor';
import { Module, type AnyModule } from './module';
import { isGradEnabled } from '../core/autograd';
import { describe } from '../core/dtype';
import { native, type ReducerHandle } from '../core/native';
import { broadcastCoalesced, withGroup } from '../distributed';

export interface DistributedDataParallelOptions {
  /** Size of the gradient buckets all-reduced together, in MiB (default 25). */
  bucketCapMb?: number;
  /** Copy rank 0's buffers to every rank before each forward (default true). */
  broadcastBuffers?: boolean;
  /** Find parameters that the forward did not use (walks the output's graph; default false). */
  findUnusedParameters?: boolean;
  /** Gradients as views into the buckets, saving a copy (default false). */
  gradientAsBucketView?: boolean;
}

const MB = 1024 * 1024;
const FIRST_BUCKET_BYTES = 1024 * 1024; // torch.distributed._DEFAULT_FIRST_BUCKET_BYTES
const BROADCAST_BUCKET_BYTES = 250 * MB; // DDP's broadcast_bucket_size

/** Wraps `module` (its forward, typed as the module's: `Module<In, Out>`). */
export class DistributedDataParallel<In extends unknown[] = unknown[], Out = unknown> extends Module<In, Out> {
  declare module: Module<In, Out>;
  /** False inside noSync(): the next backward leaves gradients local. */
  requireBackwardGradSync = true;
  readonly #reducer: ReducerHandle;
  readonly #buffers: Tensor[];
  readonly #broadcastBuffers: boolean;
  readonly #findUnused: boolean;
  #requireForwardParamSync = true;

  constructor(module: Module<In, Out>, opts: DistributedDataParallelOptions = {}) {
    super();
    if (!(module instanceof Module)) throw new TypeError(`DistributedDataParallel: module must be an nn.Module (got ${describe(module)})`);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`DistributedDataParallel: options must be an object (got ${describe(opts)})`);
    const capMb = opts.bucketCapMb ?? 25;
    if (typeof capMb !== 'number' || !(capMb > 0)) throw new RangeError(`bucketCapMb must be a positive number (got ${describe(capMb)})`);
    this.#broadcastBuffers = bool(opts.broadcastBuffers, true, 'broadcastBuffers');
    this.#findUnused = bool(opts.findUnusedParameters, false, 'findUnusedParameters');
    const asView = bool(opts.gradientAsBucketView, false, 'gradientAsBucketView');
    const named = [...module.namedParameters()].filter(([, p]) => p.requiresGrad);
    if (named.length === 0)
      throw new RangeError("DistributedDataParallel is not needed when a module doesn't have any parameter that requires a gradient.");
    const params = named.map(([, p]) => p);
    this.#buffers = module.buffers();
    this.module = module;
    const handles = params.map((p) => p.handle);
    const bucketBytes = Math.floor(capMb * MB);
    this.#reducer = withGroup('DistributedDataParallel', (g) => {
      native.ddpVerifyParams(g, handles);
      // Every rank starts from rank 0's parameters and buffers.
      broadcastCoalesced([...params, ...(this.#broadcastBuffers ? this.#buffers : [])], { bufferBytes: BROADCAST_BUCKET_BYTES, src: 0 });
      const firstBucketBytes = opts.bucketCapMb === undefined ? FIRST_BUCKET_BYTES : bucketBytes;
      return native.ddpCreate(
        g,
        handles,
        named.map(([n]) => n),
        bucketBytes,
        firstBucketBytes,
        this.#findUnused,
        asView,
        module.constructor.name,
        this.#broadcastBuffers,
      );
    });
  }

  forward(...inputs: In): Out {
    this.preForward();
    const output = (this.module as AnyModule)(...inputs) as Out;
    this.postForward(output);
    return output;
  }

  /**
   * fn with gradient synchronization off (PyTorch's no_sync()): gradients of backward passes run in fn
   * accumulate locally; the first synced backward after it all-reduces the accumulated sum.
   */
  noSync<T>(fn: () => T): T {
    const previous = this.requireBackwardGradSync;
    this.requireBackwardGradSync = false;
    try {
      return fn();
    } finally {
      this.requireBackwardGradSync = previous;
    }
  }

  /** @internal What forward does before the module runs (also used by a Trainer's traced step). */
  preForward(): void {
    const sync = isGradEnabled() && this.requireBackwardGradSync;
    withGroup('DistributedDataParallel.forward', () => {
      if (sync) native.ddpPrepareForward(this.#reducer);
      if (isGradEnabled()) native.ddpRebuildBuckets(this.#reducer);
      if (this.#requireForwardParamSync && this.#broadcastBuffers && this.#buffers.length > 0) {
        broadcastCoalesced(this.#buffers, { bufferBytes: BROADCAST_BUCKET_BYTES, src: 0 });
      }
    });
  }

  /** @internal What forward does after the module ran: arms the Reducer for the next backward. */
  postForward(output: unknown): void {
    if (isGradEnabled() && this.requireBackwardGradSync) {
      this.#requireForwardParamSync = true;
      const outputs = this.#findUnused ? tensorsIn(output).map((t) => t.handle) : [];
      native.ddpPrepareForBackward(this.#reducer, outputs);
    } else {
      this.#requireForwardParamSync = false;
    }
  }

  /** @internal Whether the Reducer needs the forward's outputs (a traced step cannot give them). */
  get findsUnusedParameters(): boolean {
    return this.#findUnused;
  }

  /** Removes the gradient hooks; the wrapped module is untouched and usable on its own. */
  dispose(): void {
    native.ddpDispose(this.#reducer);
  }
}

function bool(v: unknown, fallback: boolean, name: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`DistributedDataParallel: ${name} must be a boolean (got ${describe(v)})`);
  return v;
}

// The tensors of a forward's output (a Tensor, or arrays and plain objects of them), as _find_tensors.
export { DataParallel } from './data-parallel';
