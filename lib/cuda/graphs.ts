/**
 * CUDA graphs, as Python's torch.cuda.CUDAGraph and torch.cuda.graph: the kernels that run while fn
 * runs are recorded once, then replay() launches them all again in one call, with the same memory.
 *
 *     const g = new torch.cuda.CUDAGraph();
 *     const staticOut = torch.cuda.graph(g, () => model(staticIn));   // capture (nothing runs yet)
 *     staticIn.copy_(batch); g.replay();                                // staticOut now holds the result
 *
 * As in PyTorch: inputs and outputs are static tensors (copy new data into the inputs), capture runs on
 * a side stream, and code that synchronizes with the CPU (item(), data(), printing a tensor) cannot be
 * captured; that is a TorchError saying so. Needs a torchnode built against a CUDA LibTorch.
 */
import { hasCudaCode, native, type CudaBuildNative, type GraphHandle } from '../core/native';
import { TorchError } from '../core/errors';
import { describe } from '../core/dtype';
import { Stream, isAvailable, onStream, synchronize } from './device';

export type CaptureErrorMode = 'global' | 'thread_local' | 'relaxed';

export class CUDAGraph {
  private readonly handle: GraphHandle;
  // The addon, known here to have its CUDA-only functions (the constructor checked).
  private readonly cuda: CudaBuildNative;
  private captured = false;

  constructor() {
    if (!isAvailable()) throw new TorchError('torch.cuda.CUDAGraph: CUDA is not available (torch.cuda.isAvailable() is false)');
    if (!hasCudaCode(native))
      throw new TorchError('torch.cuda.CUDAGraph: this torchnode build has no CUDA code (it was built against a CPU LibTorch)');
    this.cuda = native;
    this.handle = native.cudaGraphNew();
  }
  /** Starts recording the current stream (use graph() rather than calling this directly). */
  captureBegin(mode: CaptureErrorMode = 'thread_local'): void {
    this.cuda.cudaGraphCaptureBegin(this.handle, mode);
  }
  captureEnd(): void {
    this.cuda.cudaGraphCaptureEnd(this.handle);
    this.captured = true;
  }
  /** Launches the recorded kernels again. */
  replay(): void {
    if (!this.captured) throw new TorchError('CUDAGraph.replay: nothing was captured yet');
    this.cuda.cudaGraphReplay(this.handle);
  }
  /** Drops the recording (and its memory pool); the graph can capture again. */
  reset(): void {
    this.cuda.cudaGraphReset(this.handle);
    this.captured = false;
  }
}

export interface GraphOptions {
  /** The side stream to capture on (default: a new one from the pool). */
  stream?: Stream;
  /**
   * What other threads may do during capture: 'thread_local' (default here: the DataLoader's worker
   * threads keep working), 'global' (Python's default), 'relaxed'.
   */
  captureErrorMode?: CaptureErrorMode;
}

/** Captures what fn runs into g (Python's `with torch.cuda.graph(g):`); returns fn's result. */
export function graph<T>(g: CUDAGraph, fn: () => T, opts: GraphOptions = {}): T {
  if (!(g instanceof CUDAGraph)) throw new TypeError(`torch.cuda.graph(g, fn): g must be a torch.cuda.CUDAGraph (got ${describe(g)})`);
  if (typeof fn !== 'function') throw new TypeError('torch.cuda.graph(g, fn): fn must be a function');
  const side = opts.stream ?? new Stream();
  const mode = opts.captureErrorMode ?? 'thread_local';
  synchronize();
  let result!: T;
  onStream(side, () => {
    g.captureBegin(mode);
    try {
      result = fn();
      if (result instanceof Promise) {
        result.catch(() => {}); // its outcome no longer matters: the capture is refused
        throw new TypeError('torch.cuda.graph(g, fn): fn must be synchronous (work queued after it returns would miss the capture)');
      }
    } catch (e) {
      try {
        g.captureEnd();
      } catch {
        // the capture was already invalidated by what failed
      }
      resetQuietly(g);
      throw captureError(e);
    }
    try {
      g.captureEnd();
    } catch (e) {
      resetQuietly(g);
      throw captureError(e);
    }
  });
  return result;
}

// After a failed capture the native side has already handed the pool back; what reset() could still
// complain about must not hide the capture's own error.
function resetQuietly(g: CUDAGraph): void {
  try {
    g.reset();
  } catch {
    // nothing left to clean up
  }
}

function captureError(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError) return e;
  return new TorchError(
    `torch.cuda.graph: this work cannot be captured in a CUDA graph (${e.message.split('\n')[0]}). ` +
      'Captured code must not synchronize with the CPU (item(), data(), printing), allocate pinned memory or change shapes',
  );
}
