"""SE-ResNet / ResNet reference in plain torch.nn, for torchnode's parity tests (issue 3).

Built from the seed tutorials in /work/shared/seeds (000: SEModule, SEBasicBlock, SEResNet18;
001: SE_Block, SEBottleneck, SE_ResNet/se_resnet50; 002: CIFAR ResNet-18; 003: ResNet-50/SE-ResNet-50
from `Block`). Names follow torchvision's ResNet so that state_dict keys match what torchnode produces.

Where the seeds slip or disagree, this file does what PyTorch/torchvision do:
  - 000 SEModule calls its gate `sigmoid`; we call it `gate` (it may be Hardsigmoid). It has no
    parameters, so state_dict keys are unchanged. 000 registers fc1, fc2, relu, sigmoid; we register
    avg_pool, fc1, relu, fc2, gate (same key order: fc1.* before fc2.*).
  - 000 builds no weight init (PyTorch defaults); we use torchvision's ResNet init (kaiming_normal_
    fan_out/relu on every Conv2d, BN weight 1 / bias 0, optional zero_init_residual).
  - 000/001 hidden SE width is a plain `channels // reduction`; we keep that (no max(1, .)): the
    smallest SE here is on 64 channels, so with reduction 16 it is 4. A reduction > channels gives 0.
  - 001 SE_Block has no bias (and names `gap` + an `fc` Sequential); 000 and 003 have biases. We
    default bias=True (the SENet paper / 000 / 003; needed for the required counts) and offer bias=False.
  - 001 blocks take no `downsample` argument, yet its _make_layer passes one; its `shortcut = ...` is
    a placeholder and `out += self.shortcut(x)` lost its `+=`. We take torchvision's
    `downsample` (1x1 conv, no bias, + BN) and add it to the output.
  - 001's table gives SE-ResNet50 26.04M params; with its bias-free SE it is 28,071,976 and with
    biases (the SENet paper, this file's default) 28,088,024. ResNet50 25.56M is right (25,557,032).
  - 001 fuse_se_conv folds fc2 (not the whole SE, which is not linear) into a conv: not an exact
    fusion; not reproduced here.
  - 002 (CIFAR ResNet-18) names the skip `shortcut` (an empty Sequential when identity), the head
    `linear`, has no maxpool and uses F.avg_pool2d(out, 4) (== adaptive 1x1 pool at 32x32 input).
    Our stem='cifar' is the same network with torchvision names: downsample/fc/avgpool.
  - 003 `Block` puts the stride on the first 1x1 conv (ResNet v1 / Caffe); torchvision (v1.5) puts
    it on the 3x3. Default stride_on='3x3'; stride_on='1x1' gives 003's layout. 003's SE is
    1x1 convs with bias on the pooled tensor = our impl='conv'. 003 names (conv1/2/3 as Sequentials,
    shortcut, Stage1-4, global_average_pool, fc as a Sequential) differ from torchvision's; we keep
    torchvision's. 003 uses non-inplace ReLUs (no numeric difference).
  - 003 trains at 32x32 with the ImageNet stem (7x7/2 + maxpool): valid, but layer4 is 1x1 then.
"""
import argparse
import json

import torch
from torch import nn

GATES = {"sigmoid": nn.Sigmoid, "hardsigmoid": nn.Hardsigmoid}


class SEModule(nn.Module):
    def __init__(self, channels, reduction=16, gate="sigmoid", bias=True, impl="linear"):
        super(SEModule, self).__init__()
        if gate not in GATES:
            raise ValueError(f"gate must be one of {list(GATES)}, got {gate!r}")
        if impl not in ("linear", "conv"):
            raise ValueError(f"impl must be 'linear' or 'conv', got {impl!r}")
        hidden = channels // reduction  # as in the seeds (no max(1, .)); see the header
        self.impl = impl
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        if impl == "linear":
            self.fc1 = nn.Linear(channels, hidden, bias=bias)
            self.relu = nn.ReLU(inplace=True)
            self.fc2 = nn.Linear(hidden, channels, bias=bias)
        else:  # seed 003: 1x1 convs on the pooled N x C x 1 x 1 tensor
            self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1, bias=bias)
            self.relu = nn.ReLU(inplace=True)
            self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1, bias=bias)
        self.gate = GATES[gate]()  # seed 000 calls this `sigmoid`; no params, keys unchanged

    def forward(self, x):
        batch, channels, _, _ = x.size()
        y = self.avg_pool(x)
        if self.impl == "linear":
            y = y.view(batch, channels)
        y = self.fc1(y)
        y = self.relu(y)
        y = self.fc2(y)
        y = self.gate(y).view(batch, channels, 1, 1)
        return x * y.expand_as(x)


def _se_options(se):
    """None/True -> {} (SE with defaults), False -> None (no SE), dict -> itself."""
    if se is False:
        return None
    if se is None or se is True:
        return {}
    return dict(se)


class SEBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, se=None):
        super(SEBasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        se = _se_options(se)
        if se is not None:
            self.se = SEModule(planes, **se)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if hasattr(self, "se"):
            out = self.se(out)  # after bn2, before the residual add
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        out = self.relu(out)
        return out


class SEBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, se=None, stride_on="3x3"):
        super(SEBottleneck, self).__init__()
        if stride_on not in ("3x3", "1x1"):
            raise ValueError(f"stride_on must be '3x3' or '1x1', got {stride_on!r}")
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=s3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        se = _se_options(se)
        if se is not None:
            self.se = SEModule(planes * 4, **se)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if hasattr(self, "se"):
            out = self.se(out)  # after bn3 on planes*4, before the residual add
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        out = self.relu(out)
        return out


class SEResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, in_channels=3, stem="imagenet",
                 zero_init_residual=False, se=None, stride_on="3x3", width=64):
        super(SEResNet, self).__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        if block is SEBasicBlock and stride_on != "3x3":
            raise ValueError("stride_on applies to SEBottleneck only")
        self._se = se  # the SE options handed to every block (a plain attribute, not a module)
        self._block_kw = {"stride_on": stride_on} if block is SEBottleneck else {}
        self.inplanes = width  # 64 in every seed; smaller for tests and the dispatch-bound benchmark
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
        else:  # seed 002's CIFAR stem
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        if stem == "imagenet":
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        else:
            # CIFAR has no max-pool; Identity keeps the attribute layout (named_children) the same
            # and has no parameters, so the state_dict is unaffected.
            self.maxpool = nn.Identity()
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

        # torchvision's ResNet init. Every Conv2d, so impl='conv' SE convs too (their biases keep
        # PyTorch's default); Linear layers (fc, impl='linear' SE) keep PyTorch's default init.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, SEBottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, SEBasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = []
        layers.append(block(self.inplanes, planes, stride, downsample, se=self._se, **self._block_kw))
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, se=self._se, **self._block_kw))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        return x


LAYERS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}


def _build(depth, se, **kw):
    block = SEBasicBlock if depth < 50 else SEBottleneck
    return SEResNet(block, LAYERS[depth], se=se, **kw)


def se_resnet18(**kw): return _build(18, kw.pop("se", None), **kw)
def se_resnet34(**kw): return _build(34, kw.pop("se", None), **kw)
def se_resnet50(**kw): return _build(50, kw.pop("se", None), **kw)
def se_resnet101(**kw): return _build(101, kw.pop("se", None), **kw)
def se_resnet152(**kw): return _build(152, kw.pop("se", None), **kw)
def resnet18(**kw): return _build(18, False, **kw)
def resnet34(**kw): return _build(34, False, **kw)
def resnet50(**kw): return _build(50, False, **kw)
def resnet101(**kw): return _build(101, False, **kw)
def resnet152(**kw): return _build(152, False, **kw)


MODELS = {f.__name__: f for f in (se_resnet18, se_resnet34, se_resnet50, se_resnet101, se_resnet152,
                                   resnet18, resnet34, resnet50, resnet101, resnet152)}


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="se_resnet18", choices=sorted(MODELS))
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--in-channels", type=int, default=3)
    ap.add_argument("--stem", default="imagenet", choices=["imagenet", "cifar"])
    ap.add_argument("--stride-on", default="3x3", choices=["3x3", "1x1"])
    ap.add_argument("--zero-init-residual", action="store_true")
    ap.add_argument("--reduction", type=int, default=16)
    ap.add_argument("--gate", default="sigmoid", choices=sorted(GATES))
    ap.add_argument("--impl", default="linear", choices=["linear", "conv"])
    ap.add_argument("--no-se-bias", action="store_true")
    ap.add_argument("--print-keys", action="store_true", help="print {state_dict key: shape} as JSON")
    ap.add_argument("--count", action="store_true", help="print the parameter count")
    a = ap.parse_args()
    kw = dict(num_classes=a.num_classes, in_channels=a.in_channels, stem=a.stem,
              zero_init_residual=a.zero_init_residual, stride_on=a.stride_on)
    if a.model.startswith("se_"):  # SE options are ignored for the plain resnets
        kw["se"] = dict(reduction=a.reduction, gate=a.gate, bias=not a.no_se_bias, impl=a.impl)
    model = MODELS[a.model](**kw)
    if a.print_keys:
        print(json.dumps({k: list(v.shape) for k, v in model.state_dict().items()}))
    if a.count or not a.print_keys:
        print(count_params(model))


if __name__ == "__main__":
    main()
