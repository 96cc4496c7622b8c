/**
 * The one place that loads the addon (node-gyp-build) and types its exports. Before loading it checks
 * that the LibTorch found now is the one the addon was built against, and says so plainly if not: a
 * binary loaded against another LibTorch would otherwise crash or dump symbol errors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TorchError, nativeErrorClasses } from './errors';
import { setCudaQuery } from './dtype';

/**
 * A tensor handle: an opaque BigInt (at least 2^63, so never a valid int64 scalar) naming a slot of the
 * addon's handle table (native/handle.h). It has no finalizer of its own: a handle belongs in a Tensor
 * (tensor.ts wrap()) as soon as it reaches JS, whose GC backstop releases it if dispose() never comes.
 */
export type Handle = { readonly __torchnodeHandle: unique symbol };
type H = Handle;
/** One field a backward node saved (native/autograd_graph.cc): a tensor (with a handle to dispose), a list
 * of them, or any other value as Python's str() of it. */
export type SavedField = {
  name: string;
  tensor?: { id: bigint; shape: N[]; handle: H } | null;
  tensors?: ({ id: bigint; shape: N[]; handle: H } | null)[];
  text?: string;
};
/** A grad_fn node (native/autograd_graph.cc): an External that keeps the node alive until collected. */
export type NodeHandle = { readonly __torchnodeNode: unique symbol };
type N = number;
type Operand = H | number | boolean | bigint;
type Opt<T> = T | undefined;
type IndexItem = number | null | boolean | '...' | H | { start?: number | null; stop?: number | null; step?: number | null };

interface LibTorchInfo {
  root: string;
  source: string;
  version: string;
  cuda: boolean;
  cxx11Abi: number;
  libDir: string;
}
interface LibTorchModule {
  findLibTorch(opts?: { install?: boolean }): LibTorchInfo;
  describe(root: string, source: string): LibTorchInfo | null;
  summary(lt: LibTorchInfo): string;
  mismatch(record: BuildRecord, lt: LibTorchInfo): string | null;
  PROJECT_ROOT: string;
}
/** build/Release/torchnode.json of a source build, or prebuilds/<platform>-<arch>/torchnode.json of a prebuild. */
interface BuildRecord {
  torchVersion: string;
  /** The LibTorch folder a source build links to (its rpath); a prebuild's names the builder's. */
  root?: string;
  cuda: boolean;
  cxx11Abi?: number | null;
  prebuild?: boolean;
}

/** A torch.cuda.Event's native handle. */
export type CudaEventHandle = { readonly __torchnodeCudaEvent: unique symbol };
/** A torch.distributed process group (c10d::ProcessGroup). */
export type ProcessGroupHandle = { readonly __torchnodeProcessGroup: unique symbol };
/** DistributedDataParallel's c10d::Reducer. */
export type ReducerHandle = { readonly __torchnodeReducer: unique symbol };
/** A TorchScript module (native/jit.cc): an External whose finalizer frees the module. */
export type ModuleHandle = { readonly __torchnodeScriptModule: unique symbol };
/** A loaded AOTInductor package (native/aoti.cc). */
export type PackageHandle = { readonly __torchnodeAotiPackage: unique symbol };
/** An open torch.save archive (native/serialize.cc) that loaded tensors are rebuilt from. */
export type ArchiveHandle = { readonly __torchnodeArchive: unique symbol };
/** A captured CUDA graph (native/cuda/graph.cc). */
export type GraphHandle = { readonly __torchnodeCudaGraph: unique symbol };
/** A gather job on ATen's inter-op pool (native/data.cc). */
export type Job = { readonly __torchnodeGatherJob: unique symbol };
/** A torch.Generator (native/data.cc). */
export type NativeGenerator = { readonly __torchnodeGenerator: unique symbol };

/** serRead's result: the pickle of an archive, and the archive its storages are read from. */
export interface SerReadResult {
  pkl: Buffer;
  archive: ArchiveHandle;
}
/** serTensorMeta's result: what the pickle records of a tensor. */
export type TensorMeta = [
  storageId: string,
  storageNbytes: number,
  offset: number,
  size: number[],
  stride: number[],
  dtype: string,
  device: string,
  requiresGrad: boolean,
];
/** A torchnode Module as jitTrace reads it: its tensors by name and its children, recursively. */
export interface TraceModuleSpec {
  name: string;
  training: boolean;
  params: [string, H][];
  buffers: [string, H][];
  attrs: [string, H][];
  children: [string, TraceModuleSpec][];
}
/** The data.cc gathers' arguments: rows `indices` of data (and targets), to device, pinned, as float. */
export type GatherArgs = [data: H, targets: H | null, indices: H, device: string | undefined, pin: boolean, toFloat: boolean];

/** How an optimizer step runs: one parameter at a time, LibTorch's _foreach kernels, or its fused kernel. */
export type StepKernelName = 'single' | 'foreach' | 'fused';
/**
 * sgdStep's options (native/optim.cc SgdOptions): torch.optim.SGD's hyperparameters by name, one object
 * rather than a positional list; a missing, misspelt or mistyped field is a TypeError naming it.
 */
export interface SgdStepOptions {
  lr: N;
  momentum: N;
  dampening: N;
  weightDecay: N;
  nesterov: boolean;
  maximize: boolean;
  /** A 0-d tensor on the parameters' device read when the step runs (a step captured in a CUDA graph follows lr changes). */
  lrTensor?: H;
  kernel: StepKernelName;
}
/** adamStep's options (native/optim.cc AdamOptions), checked as SgdStepOptions are. */
export interface AdamStepOptions {
  lr: N;
  beta1: N;
  beta2: N;
  eps: N;
  weightDecay: N;
  amsgrad: boolean;
  maximize: boolean;
  /** AdamW's weight decay (applied to the parameter, not the gradient). */
  decoupledWeightDecay: boolean;
  kernel: StepKernelName;
  /** Steps and bias corrections stay on the parameters' device (no host sync), so the step can be captured. */
  capturable: boolean;
  /** As SgdStepOptions.lrTensor; with capturable or the fused kernel only. */
  lrTensor?: H;
}

/**
 * native/cuda/device.cc and native/cuda/graph.cc: registered only in a build against a CUDA LibTorch, all
 * of them or none, so NativeAddon has them as optional members (see hasCudaCode).
 */
export interface CudaBuildNative {
  cudaDeviceName(device: Opt<N>): string;
  cudaMemGetInfo(device: Opt<N>): [N, N];
  cudaDeviceCapability(device: Opt<N>): [N, N];
  cudaGraphNew(): GraphHandle;
  cudaGraphCaptureBegin(g: GraphHandle, mode: string): void;
  cudaGraphCaptureEnd(g: GraphHandle): void;
  cudaGraphReplay(g: GraphHandle): void;
  cudaGraphReset(g: GraphHandle): void;
}

/** ATen's global backend switches (torch.backends). */
export interface BackendFlags {
  cudnnBenchmark: boolean;
  cudnnDeterministic: boolean;
  cudnnAllowTF32: boolean;
  matmulAllowTF32: boolean;
}

/**
 * Every function of the addon, declared once here (grouped by the native/*.cc file that registers it):
 * lib/ calls `native.<name>` with no re-typing of its own.
 */
export interface NativeAddon extends Partial<CudaBuildNative> {
  buildInfo: { torchVersion: string; cuda: boolean };
  setErrorClasses(classes: object): void;
  // tensor.cc
  fromData(data: ArrayBufferView, shape: N[], dtype: Opt<N>, device: Opt<string>, requiresGrad: boolean, checked?: boolean): H;
  manualSeed(seed: N): void;
  getRngState(): H;
  getNumThreads(): N;
  setNumThreads(n: N): void;
  setRngState(state: H): void;
  shape(t: H): N[];
  stride(t: H): N[];
  dtype(t: H): string;
  device(t: H): string;
  ndim(t: H): N;
  numel(t: H): N;
  item(t: H): number | boolean;
  data(
    t: H,
  ): Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array | Uint16Array | Uint32Array | BigUint64Array;
  dispose(t: H): boolean;
  isDisposed(t: H): boolean;
  // dispatch.cc: any ATen operator by its schema (lib/dispatch.ts)
  opFind(name: string, overload: string, argNames?: string[]): number | null;
  opCall(id: number, ...args: unknown[]): unknown;
  // ops.cc: the hand-kept arithmetic
  add(a: Operand, b: Operand, alpha: Opt<N>): H;
  sub(a: Operand, b: Operand, alpha: Opt<N>): H;
  add_(t: H, b: Operand, alpha: Opt<N>): void;
  sub_(t: H, b: Operand, alpha: Opt<N>): void;
  div(a: Operand, b: Operand, roundingMode: Opt<string>): H;
  div_(t: H, b: Operand, roundingMode: Opt<string>): void;
  copy_(t: H, src: Operand, nonBlocking: boolean): void;
  // shape.cc: what lib/ calls directly
  expand(t: H, shape: N[]): H;
  contiguous(t: H): H;
  clone(t: H): H;
  detach(t: H): H;
  pinMemory(t: H): H;
  narrow(t: H, dim: N, start: N, length: N): H;
  to(t: H, dtype: Opt<N>, device: Opt<string>, nonBlocking: boolean, copy: boolean): H;
  isContiguous(t: H, memoryFormat?: string): boolean;
  isPinned(t: H): boolean;
  toMemoryFormat(t: H, memoryFormat: string): H;
  setData(t: H, src: H): void;
  // indexing.cc
  index(t: H, items: IndexItem[]): H;
  indexPut_(t: H, items: IndexItem[], value: H | number | boolean): void;
  // autograd.cc
  requiresGrad(t: H): boolean;
  requiresGrad_(t: H, flag: boolean): void;
  grad(t: H): H | null;
  setGrad(t: H, g: H | null): void;
  gradFn(t: H): string | null;
  isLeaf(t: H): boolean;
  retainGrad(t: H): void;
  retainsGrad(t: H): boolean;
  outputNr(t: H): N;
  backward(t: H, gradient: H | undefined, retainGraph: Opt<boolean>, createGraph: boolean): void;
  autogradGrad(
    outputs: H[],
    inputs: H[],
    gradOutputs: (H | null)[] | undefined,
    retainGraph: Opt<boolean>,
    createGraph: boolean,
    allowUnused: boolean,
  ): (H | null)[];
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  // memory.cc
  memory(): { handles: N; devices: Record<string, { tensors: N; bytes: N }> };
  liveHandles(): N;
  // cpu_cache.cc
  cpuCacheInfo(): { bytes: N; blocks: N; limit: N };
  cpuCacheEmpty(): void;
  // collector.cc
  attachCollector(tensorsAndHandles: unknown[]): void;
  // shape.cc
  // tensor.cc
  memoryOf(t: H): [bigint, bigint];
  // autograd_graph.cc
  autogradGraph(
    t: H,
    withSaved?: boolean,
  ): {
    nodes: { id: bigint; name: string; variable?: { id: bigint; shape: N[] }; saved?: SavedField[] }[];
    edges: [N, N][];
  } | null;
  viewBase(t: H): H | null;
  gradFnNode(t: H): NodeHandle | null;
  nodeInfo(n: NodeHandle): { id: bigint; name: string; next: [NodeHandle | null, N][] };
  nodeVariable(n: NodeHandle): H | null;
  nodeSaved(n: NodeHandle): SavedField[] | null;
  tensorId(t: H): bigint;
  releaseCollected(): void;
  // nn.cc
  conv2d(input: H, weight: H, bias: Opt<H>, stride: N[], padding: N[] | string, dilation: N[], groups: N): H;
  batchNorm(input: H, runningMean: Opt<H>, runningVar: Opt<H>, weight: Opt<H>, bias: Opt<H>, training: boolean, momentum: N, eps: N): H;
  linear(input: H, weight: H, bias: Opt<H>): H;
  maxPool2d(input: H, kernel: N[], stride: N[], padding: N[], dilation: N[], ceilMode: boolean): H;
  avgPool2d(input: H, kernel: N[], stride: N[], padding: N[], ceilMode: boolean, countIncludePad: boolean, divisorOverride: Opt<N>): H;
  adaptiveAvgPool1d(input: H, size: N[]): H;
  adaptiveAvgPool2d(input: H, size: N[]): H;
  adaptiveAvgPool3d(input: H, size: N[]): H;
  adaptiveMaxPool2d(input: H, size: N[]): H;
  dropout(input: H, p: N, training: boolean, inplace: boolean): H;
  gelu(input: H, approximate: string): H;
  leakyRelu(input: H, negativeSlope: N): H;
  elu(input: H, alpha: N): H;
  softplus(input: H, beta: N, threshold: N): H;
  hardtanh(input: H, min: N, max: N): H;
  crossEntropy(input: H, target: H, weight: Opt<H>, reduction: N, ignoreIndex: N, labelSmoothing: N): H;
  nllLoss(input: H, target: H, weight: Opt<H>, reduction: N, ignoreIndex: N): H;
  mseLoss(input: H, target: H, reduction: N): H;
  l1Loss(input: H, target: H, reduction: N): H;
  smoothL1Loss(input: H, target: H, reduction: N, beta: N): H;
  binaryCrossEntropy(input: H, target: H, weight: Opt<H>, reduction: N): H;
  binaryCrossEntropyWithLogits(input: H, target: H, weight: Opt<H>, posWeight: Opt<H>, reduction: N): H;
  einsum(equation: string, tensors: H[]): H;
  pad(input: H, pad: N[], mode: string, value: Opt<N>): H;
  interpolate(input: H, size: N[], mode: string, alignCorners: boolean, antialias: boolean): H;
  // init.cc
  initKaimingUniform_(t: H, a: Opt<N>, mode: Opt<string>, nonlinearity: Opt<string>): void;
  initKaimingNormal_(t: H, a: Opt<N>, mode: Opt<string>, nonlinearity: Opt<string>): void;
  initXavierUniform_(t: H, gain: Opt<N>): void;
  initXavierNormal_(t: H, gain: Opt<N>): void;
  initUniform_(t: H, a: N, b: N): void;
  initNormal_(t: H, mean: N, std: N): void;
  initConstant_(t: H, value: N | boolean): void;
  calculateGain(nonlinearity: string, param: Opt<N>): N;
  fanInAndFanOut(t: H): [N, N];
  // optim.cc
  /** Python's math.cos(x) and x ** y for floats (the C library's), for the lr schedules. */
  libmCos(x: N): N;
  libmPow(x: N, y: N): N;
  /** The tensors by position, the hyperparameters by name; returns the momentum buffers this step made (null elsewhere). */
  sgdStep(params: H[], grads: H[], momentumBuffers: (H | null)[], options: SgdStepOptions): (H | null)[];
  sgdStepAsync(...args: Parameters<NativeAddon['sgdStep']>): Promise<(H | null)[]>;
  /** maxExpAvgSqs is empty unless amsgrad; steps are 0-d float32 tensors, incremented in place. */
  adamStep(params: H[], grads: H[], expAvgs: H[], expAvgSqs: H[], maxExpAvgSqs: H[], steps: H[], options: AdamStepOptions): H[];
  adamStepAsync(...args: Parameters<NativeAddon['adamStep']>): Promise<H[]>;
  /** Indices of the tensors by (device, dtype) group, in the order ATen groups them (torch.optim, nn.utils). */
  foreachGroups(tensors: H[]): N[][];
  // amp.cc
  autocastEnter(deviceType: string, enabled: boolean, dtype: N): [boolean, N];
  autocastExit(deviceType: string, enabled: boolean, dtype: N): void;
  isAutocastEnabled(deviceType: string): boolean;
  ampUnscale(grads: H[], foundInf: H, invScale: H): void;
  ampUpdateScale(scale: H, growthTracker: H, foundInf: H, growthFactor: N, backoffFactor: N, growthInterval: N): void;
  // cuda.cc
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): N;
  cudnnIsAvailable(): boolean;
  cudaVersions(): { cuda: string | null; cudnn: number | null };
  cudaSynchronize(device: Opt<N>): void;
  cudaManualSeed(seed: N, device: Opt<N>): void;
  cudaGetRngState(device: Opt<N>): H;
  cudaSetRngState(state: H, device: Opt<N>): void;
  cudaMemoryStats(device: Opt<N>): [N, N, N, N];
  cudaResetPeakMemoryStats(device: Opt<N>): void;
  cudaEmptyCache(): void;
  cudaCurrentStream(device: Opt<N>): [N, N];
  cudaNewStream(device: Opt<N>, highPriority: boolean): [N, N];
  cudaSetCurrentStream(id: N, device: N): void;
  cudaStreamSynchronize(id: N, device: N): void;
  cudaStreamQuery(id: N, device: N): boolean;
  cudaEventNew(enableTiming: boolean): CudaEventHandle;
  cudaEventRecord(e: CudaEventHandle, streamId: N, device: N): void;
  cudaEventWait(e: CudaEventHandle, streamId: N, device: N): void;
  cudaEventQuery(e: CudaEventHandle): boolean;
  cudaEventSynchronize(e: CudaEventHandle): void;
  cudaEventElapsedTime(start: CudaEventHandle, end: CudaEventHandle): N;
  backendFlags(): BackendFlags;
  setBackendFlag(name: keyof BackendFlags, value: boolean): void;
  // distributed.cc
  distBackends(): { gloo: boolean; nccl: boolean };
  distInitAsync(
    backend: string,
    host: string,
    port: N,
    rank: N,
    worldSize: N,
    timeoutMs: N,
    hostStore: boolean,
    prefix: string,
  ): Promise<ProcessGroupHandle>;
  distRank(g: ProcessGroupHandle): N;
  distWorldSize(g: ProcessGroupHandle): N;
  distBackendName(g: ProcessGroupHandle): string;
  distDestroy(g: ProcessGroupHandle): void;
  distAllReduce(g: ProcessGroupHandle, tensors: H[], op: string): void;
  distAllReduceAsync(g: ProcessGroupHandle, tensors: H[], op: string): Promise<void>;
  distBroadcast(g: ProcessGroupHandle, tensors: H[], src: N): void;
  distBroadcastAsync(g: ProcessGroupHandle, tensors: H[], src: N): Promise<void>;
  distAllGather(g: ProcessGroupHandle, outputs: H[], input: H): void;
  distAllGatherAsync(g: ProcessGroupHandle, outputs: H[], input: H): Promise<void>;
  distBarrier(g: ProcessGroupHandle): void;
  distBarrierAsync(g: ProcessGroupHandle): Promise<void>;
  distBroadcastCoalesced(g: ProcessGroupHandle, tensors: H[], bufferBytes: N, src: N): void;
  // ddp.cc
  ddpVerifyParams(g: ProcessGroupHandle, params: H[]): void;
  ddpCreate(
    g: ProcessGroupHandle,
    params: H[],
    names: string[],
    bucketBytes: N,
    firstBucketBytes: N,
    findUnused: boolean,
    gradientAsBucketView: boolean,
    moduleName: string,
    broadcastBuffers: boolean,
  ): ReducerHandle;
  ddpPrepareForward(r: ReducerHandle): void;
  ddpRebuildBuckets(r: ReducerHandle): boolean;
  ddpPrepareForBackward(r: ReducerHandle, outputs: H[]): void;
  ddpDispose(r: ReducerHandle): void;
  // data.cc
  /** Gathers rows `indices` of data (and targets) on the JS thread. */
  dataGather(...args: GatherArgs): [H, H | null];
  /** The same on a worker thread (Napi::AsyncWorker). */
  dataGatherAsync(...args: GatherArgs): Promise<[H, H | null]>;
  /** The same on ATen's inter-op pool; dataGatherWait(job) collects it (blocking). */
  dataGatherStart(...args: GatherArgs): Job;
  dataGatherWait(job: Job): [H, H | null];
  dataGatherReady(job: Job): boolean;
  /** torch.Generator().manual_seed(seed). */
  dataGenerator(seed: N | bigint): NativeGenerator;
  /** g.get_state() and g.set_state(state): a uint8 tensor. */
  dataGeneratorState(generator: NativeGenerator): H;
  dataSetGeneratorState(generator: NativeGenerator, state: H): void;
  /** torch.empty((), dtype=torch.int64).random_(generator=g).item() (g omitted: the default generator). */
  dataRandomSeed(generator?: NativeGenerator): bigint;
  /** torch.randperm(n, generator=g). */
  dataRandperm(n: N, generator?: NativeGenerator): H;
  /** Deterministic uint8 inputs and int64 targets from torch.Generator().manual_seed(seed). */
  dataSynthetic(size: N, shape: N[], numClasses: N, seed: N): [H, H];
  // serialize.cc
  serTensorMeta(t: H): TensorMeta;
  serSave(tmpPath: string, path: string, pkl: Buffer, storages: H[]): void;
  serSaveAsync(tmpPath: string, path: string, pkl: Buffer, storages: H[]): Promise<void>;
  serRead(path: string): SerReadResult;
  serReadAsync(path: string): Promise<SerReadResult>;
  serRebuild(
    archive: ArchiveHandle,
    key: string,
    dtype: N,
    nbytes: N,
    device: string | undefined,
    offset: N,
    size: N[],
    stride: N[],
    requiresGrad: boolean,
  ): H;
  serRelease(archive: ArchiveHandle): void;
  // jit.cc: TorchScript modules (lib/jit/script.ts converts the values)
  jitLoad(path: string, device: string | undefined): ModuleHandle;
  jitLoadAsync(path: string, device: string | undefined): Promise<ModuleHandle>;
  jitRun(m: ModuleHandle, method: string, args: unknown[]): unknown;
  jitRunAsync(m: ModuleHandle, method: string, args: unknown[], backward?: boolean): Promise<unknown>;
  jitMethodNames(m: ModuleHandle): string[];
  jitNamedParameters(m: ModuleHandle, recurse: boolean): [string, H][];
  jitNamedBuffers(m: ModuleHandle, recurse: boolean): [string, H][];
  jitNamedChildren(m: ModuleHandle): [string, ModuleHandle][];
  jitStateDict(m: ModuleHandle): [string, H][];
  jitTrain(m: ModuleHandle, mode: boolean): void;
  jitIsTraining(m: ModuleHandle): boolean;
  jitTo(m: ModuleHandle, device: string): void;
  jitSave(m: ModuleHandle, tmpPath: string, path: string): void;
  jitDispose(m: ModuleHandle): boolean;
  // trace.cc
  jitTrace(spec: TraceModuleSpec, inputs: H[], fn: (inputs: H[]) => unknown, strict: boolean, simple: boolean): ModuleHandle;
  jitTracePushScope(name: string): void;
  jitTracePopScope(): void;
  // aoti.cc
  aotiLoad(path: string, modelName: string, runSingleThreaded: boolean, numRunners: N, deviceIndex: N): PackageHandle;
  aotiLoadAsync(path: string, modelName: string, runSingleThreaded: boolean, numRunners: N, deviceIndex: N): Promise<PackageHandle>;
  aotiRun(p: PackageHandle, inputs: H[]): H[];
  aotiRunAsync(p: PackageHandle, inputs: H[]): Promise<H[]>;
  aotiCallSpec(p: PackageHandle): string[];
  aotiConstantFqns(p: PackageHandle): string[];
  aotiMetadata(p: PackageHandle): Record<string, string>;
  aotiLoadConstants(p: PackageHandle, names: string[], tensors: H[], checkFullUpdate: boolean, userManaged: boolean): void;
  aotiDispose(p: PackageHandle): void;
  // native/cuda/*.cc: CudaBuildNative's, optional (a CPU build has none of them)
}

/** Whether the addon was built against a CUDA LibTorch, so has CudaBuildNative's functions (a type guard, not a cast). */
export function hasCudaCode(addon: NativeAddon): addon is NativeAddon & CudaBuildNative {
  return typeof addon.cudaGraphNew === 'function';
}

/** Whether a value the addon returned untyped (a TorchScript result) is a tensor handle: a BigInt of at least 2^63. */
export function isHandle(v: unknown): v is Handle {
  return typeof v === 'bigint' && v >= 2n ** 63n;
}

// Plain CommonJS outside lib/ (shared with the build scripts) and an untyped package.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const libtorch = require('../../scripts/libtorch.js') as LibTorchModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

function baseVersion(v: string): string {
  return v.split('+')[0];
}

/** The LibTorch that this process would use now: $LIBTORCH or $TORCHNODE_PYTHON if set, else the folder
 * recorded (by a source build, or by the install that chose a prebuild) if it still holds that version, else
 * the same discovery as the build (without installing). */
function runtimeLibTorch(recorded: { root?: string; torchVersion: string } | null): LibTorchInfo | null {
  if (recorded?.root && !process.env.LIBTORCH && !process.env.TORCHNODE_PYTHON) {
    const lt = libtorch.describe(recorded.root, 'the install');
    if (lt && lt.version === recorded.torchVersion) return lt;
  }
  try {
    return libtorch.findLibTorch({ install: false });
  } catch {
    return null;
  }
}

function readRecord<T>(file: string): T | null {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : null;
}

// RTLD_NODELETE (not in os.constants.dlopen): keeps a library loaded after process.dlopen gives up on it.
const RTLD_NODELETE = process.platform === 'darwin' ? 0x80 : 0x1000;

/**
 * A prebuild's rpath names the LibTorch of the machine that built it, which may be absent here or another
 * version. Loading LibTorch's libraries from the folder found here first makes the addon's dependencies
 * (libtorch, libtorch_cpu, libc10, and the CUDA ones; matched by their sonames) these, whatever the rpath.
 * process.dlopen loads them and then refuses them as addons ("did not self-register"); RTLD_NODELETE keeps
 * them loaded.
 */
function preloadLibTorch(lt: LibTorchInfo): void {
  const ext = process.platform === 'darwin' ? '.dylib' : '.so';
  const names = ['c10', 'torch_cpu', 'torch', ...(lt.cuda ? ['c10_cuda', 'torch_cuda'] : [])];
  for (const name of names) {
    const file = path.join(lt.libDir, `lib${name}${ext}`);
    try {
      process.dlopen({ exports: {} }, file, os.constants.dlopen.RTLD_NOW | RTLD_NODELETE);
    } catch (e) {
      const message = (e as Error).message;
      if (!message.includes('did not self-register')) {
        throw new TorchError(`torchnode: could not load ${file} of LibTorch ${lt.version} (${lt.root}): ${message.split('\n')[0]}`);
      }
    }
  }
}

/** The checks before a prebuilt binary (prebuilds/<platform>-<arch>/) loads: its LibTorch must be the one found now. */
function preparePrebuild(addonPath: string, built: BuildRecord | null, root: string): void {
  const rebuild = 'Build it from source for this LibTorch with `npm rebuild torchnode`';
  if (!built) {
    throw new TorchError(
      `torchnode: the prebuilt binary ${addonPath} has no torchnode.json next to it, so which LibTorch it needs is ` + `unknown. ${rebuild}.`,
    );
  }
  const chosen = readRecord<{ root?: string; torchVersion: string }>(path.join(root, 'build', 'prebuild.json'));
  const found = runtimeLibTorch(chosen?.torchVersion === built.torchVersion ? chosen : null);
  if (!found) {
    throw new TorchError(
      `torchnode: the prebuilt binary ${addonPath} needs LibTorch ${built.torchVersion} and no LibTorch is found. ` +
        'Set LIBTORCH to an unpacked LibTorch folder or TORCHNODE_PYTHON to a python that has PyTorch.',
    );
  }
  const why = libtorch.mismatch(built, found);
  if (why) {
    throw new TorchError(
      `torchnode: the prebuilt binary ${addonPath} cannot run here: ${why} (found LibTorch ${found.version} at ` +
        `${found.root}, through ${found.source}). ${rebuild}, or point LIBTORCH / TORCHNODE_PYTHON at LibTorch ${built.torchVersion}.`,
    );
  }
  preloadLibTorch(found);
}

/** The checks before a source build (build/Release) loads: the LibTorch found now is the one it links. */
function prepareSourceBuild(built: BuildRecord): void {
  const found = runtimeLibTorch(built);
  if (found && found.version !== built.torchVersion) {
    throw new TorchError(
      `torchnode was built against LibTorch ${built.torchVersion} (${built.root}) but finds LibTorch ${found.version} ` +
        `(${found.root}, through ${found.source}) now. Rebuild it for this LibTorch with \`npm rebuild torchnode\`, ` +
        `or point LIBTORCH / TORCHNODE_PYTHON back at ${built.torchVersion}.`,
    );
  }
  if (built.root && !fs.existsSync(built.root)) {
    throw new TorchError(
      `torchnode was built against LibTorch ${built.torchVersion} at ${built.root}, which is gone. Run \`npm rebuild torchnode\`.`,
    );
  }
}

/** The version of the LibTorch the addon runs on, as its version.py spells it ('2.13.0+cpu'). */
let loadedTorchVersion = '';

function load(): NativeAddon {
  const root = libtorch.PROJECT_ROOT;
  let addonPath: string;
  try {
    // A source build (build/Release) if there is one, else the prebuild for this platform (prebuilds/).
    addonPath = nodeGypBuild.path(root);
  } catch {
    throw new TorchError(`torchnode: the native addon is not built. Run \`npm install\` (or \`npm run build:native\`) in ${root}.`);
  }
  const built = readRecord<BuildRecord>(path.join(path.dirname(addonPath), 'torchnode.json'));
  const isPrebuild = path.relative(path.join(root, 'prebuilds'), addonPath).split(path.sep)[0] !== '..';
  if (isPrebuild) preparePrebuild(addonPath, built, root);
  else if (built) prepareSourceBuild(built);
  let addon: NativeAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only now
    addon = require(addonPath) as NativeAddon;
  } catch (e) {
    const what = built ? `LibTorch ${built.torchVersion}${built.root && !isPrebuild ? ` at ${built.root}` : ''}` : 'its LibTorch';
    throw new TorchError(
      `torchnode: could not load ${addonPath} built against ${what}: ${(e as Error).message.split('\n')[0]}. ` +
        'Rebuild it with `npm rebuild torchnode`.',
    );
  }
  if (built && baseVersion(built.torchVersion) !== addon.buildInfo.torchVersion) {
    throw new TorchError(
      `torchnode: ${addonPath} was compiled with LibTorch ${addon.buildInfo.torchVersion} headers but ` +
        `its record says ${built.torchVersion}. Rebuild it with \`npm rebuild torchnode\`.`,
    );
  }
  addon.setErrorClasses(nativeErrorClasses);
  const torchVersion = built?.torchVersion ?? addon.buildInfo.torchVersion;
  loadedTorchVersion = torchVersion;
  let cuda: { available: boolean; count: number; torchVersion: string } | null = null;
  setCudaQuery(() => (cuda ??= { available: addon.cudaIsAvailable(), count: addon.cudaDeviceCount(), torchVersion }));
  return addon;
}

export const native: NativeAddon = load();

/** What the addon was built against. */
export const buildInfo = native.buildInfo;

/** torch.version: torch.__version__ of the LibTorch in use, and the CUDA it was built with (null: CPU only). */
export const version: { readonly torch: string; readonly cuda: string | null } = Object.freeze({
  torch: loadedTorchVersion,
  cuda: native.cudaVersions().cuda,
});
