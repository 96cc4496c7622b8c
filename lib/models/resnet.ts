/**
 * ResNet and SE-ResNet (torchvision's layout and names, so state dicts match PyTorch's): SEBasicBlock,
 * SEBottleneck, SEResNet, and the factories seResNet18…152 / resNet18…152 (the same code with SE off).
 */
import { Module, pipe, release } from '../nn/module';
import { Sequential, releasesIntermediates } from '../nn/container';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Identity, Linear, MaxPool2d, ReLU } from '../nn/layers';
import * as init from '../nn/init';
import { describe } from '../core/dtype';
import { intArg, optionsArg } from '../core/args';
import type { Tensor } from '../core/tensor';
import { SEModule, type SEOptions } from './se';

export interface BlockOptions {
  stride?: number;
  downsample?: Module<[Tensor], Tensor> | null;
  /** SEModule options, or false for a plain ResNet block. */
  se?: SEOptions | false;
}
export interface BottleneckOptions extends BlockOptions {
  /** Where the stride goes: the 3×3 conv (torchvision, default) or the first 1×1 (the original ResNet paper). */
  strideOn?: '3x3' | '1x1';
}

/** The block type SEResNet takes: a class with an expansion and the blocks' constructor. */
export interface BlockType {
  readonly expansion: number;
  new (inplanes: number, planes: number, opts?: BottleneckOptions): SEBasicBlock | SEBottleneck;
}

function conv3x3(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
}
function conv1x1(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });
}

/** Two 3×3 convs; SE after bn2, before the residual add (the SENet paper's SE-ResNet block). */
export class SEBasicBlock extends Module {
  static readonly expansion = 1;
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  declare conv2: Conv2d;
  declare bn2: BatchNorm2d;
  declare se?: SEModule;
  declare downsample: Module<[Tensor], Tensor> | null;

  constructor(inplanes: number, planes: number, opts: BlockOptions = {}) {
    super();
    const stride = opts.stride ?? 1;
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU({ inplace: true });
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    if (opts.se !== false) this.se = new SEModule(planes, opts.se ?? {});
    this.downsample = opts.downsample ?? null;
  }

  forward(x: Tensor): Tensor {
    const out = pipe(x, this.conv1, this.bn1, this.relu, this.conv2, this.bn2, ...(this.se ? [this.se] : []));
    // the shortcut after the main branch, in PyTorch's order (hooks and errors follow it)
    const identity = this.downsample ? this.downsample(x) : x;
    out.add_(identity);
    if (identity !== x) release(identity);
    return this.relu(out);
  }
}

/** 1×1 → 3×3 → 1×1 (×4 channels); SE after bn3, before the residual add (the SENet paper's SE-ResNet block). */
export class SEBottleneck extends Module {
  static readonly expansion = 4;
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare conv2: Conv2d;
  declare bn2: BatchNorm2d;
  declare conv3: Conv2d;
  declare bn3: BatchNorm2d;
  declare relu: ReLU;
  declare se?: SEModule;
  declare downsample: Module<[Tensor], Tensor> | null;

  constructor(inplanes: number, planes: number, opts: BottleneckOptions = {}) {
    super();
    const stride = opts.stride ?? 1;
    const strideOn = opts.strideOn ?? '3x3';
    if (strideOn !== '3x3' && strideOn !== '1x1') throw new TypeError(`strideOn must be '3x3' or '1x1' (got ${describe(strideOn)})`);
    this.conv1 = conv1x1(inplanes, planes, strideOn === '1x1' ? stride : 1);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes, strideOn === '3x3' ? stride : 1);
    this.bn2 = new BatchNorm2d(planes);
    this.conv3 = conv1x1(planes, planes * SEBottleneck.expansion);
    this.bn3 = new BatchNorm2d(planes * SEBottleneck.expansion);
    this.relu = new ReLU({ inplace: true });
    if (opts.se !== false) this.se = new SEModule(planes * SEBottleneck.expansion, opts.se ?? {});
    this.downsample = opts.downsample ?? null;
  }

  forward(x: Tensor): Tensor {
    const out = pipe(x, this.conv1, this.bn1, this.relu, this.conv2, this.bn2, this.relu, this.conv3, this.bn3, ...(this.se ? [this.se] : []));
    // the shortcut after the main branch, in PyTorch's order (hooks and errors follow it)
    const identity = this.downsample ? this.downsample(x) : x;
    out.add_(identity);
    if (identity !== x) release(identity);
    return this.relu(out);
  }
}

export interface SEResNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** 'imagenet': 7×7/2 conv + BN + ReLU + 3×3/2 max-pool; 'cifar': 3×3/1 conv + BN + ReLU, no pool (for 32×32 inputs such as CIFAR-10 and MNIST). */
  stem?: 'imagenet' | 'cifar';
  /** Zero the last BN of each block, so each residual branch starts as identity. */
  zeroInitResidual?: boolean;
  /** SEModule options for every block, or false for a plain ResNet. */
  se?: SEOptions | false;
  /** For bottleneck blocks: stride on the '3x3' (default) or the first '1x1'. */
  strideOn?: '3x3' | '1x1';
  /** Channels of the stem and first stage (64 as in ResNet; the stages are w, 2w, 4w, 8w): a narrower
   * SE-ResNet for small data or CPUs. */
  width?: number;
}

/** The (SE-)ResNet of torchvision's layout with optional squeeze-and-excitation in every block; build one with models.seResNet18…152 or resNet18…152, or `new SEResNet(SEBasicBlock | SEBottleneck, [layers per stage], options)`. */
export class SEResNet extends Module {
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  declare maxpool: MaxPool2d | Identity;
  declare layer1: Sequential;
  declare layer2: Sequential;
  declare layer3: Sequential;
  declare layer4: Sequential;
  declare avgpool: AdaptiveAvgPool2d;
  declare fc: Linear;
  private inplanes: number;

  constructor(
    readonly block: BlockType,
    layers: [number, number, number, number],
    readonly opts: SEResNetOptions = {},
  ) {
    super();
    optionsArg(opts, 'SEResNet', ['numClasses', 'inChannels', 'stem', 'zeroInitResidual', 'se', 'strideOn', 'width'], '{numClasses: 10}');
    const { numClasses = 1000, inChannels = 3, stem = 'imagenet', zeroInitResidual = false, width = 64 } = opts;
    if (intArg(width, 'width') < 1) throw new RangeError(`width must be a positive integer (got ${width})`);
    if (block !== SEBasicBlock && block !== SEBottleneck) throw new TypeError('block must be SEBasicBlock or SEBottleneck');
    if (!Array.isArray(layers) || layers.length !== 4) throw new TypeError(`layers must be 4 block counts (got ${describe(layers)})`);
    if (stem !== 'imagenet' && stem !== 'cifar') throw new TypeError(`stem must be 'imagenet' or 'cifar' (got ${describe(stem)})`);
    if (block === SEBasicBlock && (opts.strideOn ?? '3x3') !== '3x3') throw new TypeError('strideOn applies to SEBottleneck only');
    this.inplanes = width;
    this.conv1 =
      stem === 'imagenet'
        ? new Conv2d(intArg(inChannels, 'inChannels'), width, 7, { stride: 2, padding: 3, bias: false })
        : new Conv2d(intArg(inChannels, 'inChannels'), width, 3, { stride: 1, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(width);
    this.relu = new ReLU({ inplace: true });
    // The CIFAR stem has no max-pool; Identity keeps the attribute layout (it has no parameters).
    this.maxpool = stem === 'imagenet' ? new MaxPool2d(3, { stride: 2, padding: 1 }) : new Identity();
    this.layer1 = this.makeLayer(width, layers[0]);
    this.layer2 = this.makeLayer(width * 2, layers[1], 2);
    this.layer3 = this.makeLayer(width * 4, layers[2], 2);
    this.layer4 = this.makeLayer(width * 8, layers[3], 2);
    this.avgpool = new AdaptiveAvgPool2d([1, 1]);
    this.fc = new Linear(width * 8 * block.expansion, intArg(numClasses, 'numClasses'));

    // torchvision's ResNet initialisation (Linear layers keep PyTorch's default).
    for (const m of this.modules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d && m.weight && m.bias) {
        init.constant_(m.weight, 1);
        init.constant_(m.bias, 0);
      }
    }
    if (zeroInitResidual) {
      for (const m of this.modules()) {
        if (m instanceof SEBottleneck && m.bn3.weight) init.constant_(m.bn3.weight, 0);
        else if (m instanceof SEBasicBlock && m.bn2.weight) init.constant_(m.bn2.weight, 0);
      }
    }
  }

  private makeLayer(planes: number, blocks: number, stride = 1): Sequential {
    const { expansion } = this.block;
    let downsample: Sequential | null = null;
    if (stride !== 1 || this.inplanes !== planes * expansion) {
      downsample = releasesIntermediates(new Sequential(conv1x1(this.inplanes, planes * expansion, stride), new BatchNorm2d(planes * expansion)));
    }
    const blockOpts = { se: this.opts.se, ...(this.block === SEBottleneck ? { strideOn: this.opts.strideOn } : {}) };
    const layers: Module[] = [new this.block(this.inplanes, planes, { stride, downsample, ...blockOpts })];
    this.inplanes = planes * expansion;
    for (let i = 1; i < intArg(blocks, 'layers'); i++) layers.push(new this.block(this.inplanes, planes, blockOpts));
    return releasesIntermediates(new Sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    return pipe(
      x,
      this.conv1,
      this.bn1,
      this.relu,
      this.maxpool,
      this.layer1,
      this.layer2,
      this.layer3,
      this.layer4,
      this.avgpool,
      (t) => t.flatten(1),
      this.fc,
    );
  }
}

const LAYERS: Record<number, [number, number, number, number]> = {
  18: [2, 2, 2, 2],
  34: [3, 4, 6, 3],
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
};
function build(depth: number, opts: SEResNetOptions, se: boolean): SEResNet {
  const o = { ...opts, se: se ? (opts.se ?? {}) : (false as const) };
  return new SEResNet(depth < 50 ? SEBasicBlock : SEBottleneck, LAYERS[depth], o);
}
export type ResNetOptions = Omit<SEResNetOptions, 'se'>;

export const seResNet18 = (opts: SEResNetOptions = {}): SEResNet => build(18, opts, true);
export const seResNet34 = (opts: SEResNetOptions = {}): SEResNet => build(34, opts, true);
export const seResNet50 = (opts: SEResNetOptions = {}): SEResNet => build(50, opts, true);
export const seResNet101 = (opts: SEResNetOptions = {}): SEResNet => build(101, opts, true);
export const seResNet152 = (opts: SEResNetOptions = {}): SEResNet => build(152, opts, true);
export const resNet18 = (opts: ResNetOptions = {}): SEResNet => build(18, opts, false);
export const resNet34 = (opts: ResNetOptions = {}): SEResNet => build(34, opts, false);
export const resNet50 = (opts: ResNetOptions = {}): SEResNet => build(50, opts, false);
export const resNet101 = (opts: ResNetOptions = {}): SEResNet => build(101, opts, false);
export const resNet152 = (opts: ResNetOptions = {}): SEResNet => build(152, opts, false);
