// The seed tutorials' modules written as the seeds write them — Python's positional arguments
// (`nn.Conv2d(planes, planes, 3, stride, 1, bias=False)`, `nn.MaxPool2d(2, 2)`, `F.avg_pool2d(out, 4)`,
// `nn.Conv2d(channel, group_ch, 1, groups=groups)`) — against the same Python classes from the same weights:
// outputs, gradients and state-dict keys equal. Where a seed's code has a slip, the comment says what
// PyTorch's own code does instead.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;
const py = usePyTorch();
const TOL = { rtol: 1e-10, atol: 1e-12 };

// ---- seed 001: SE_Block, SEBottleneck, EfficientSE, SE3D ----
class SE_Block extends nn.Module {
  gap = new nn.AdaptiveAvgPool2d(1);
  fc: torch.nn.Sequential;
  constructor(channel: number, ratio = 16) {
    super();
    this.fc = new nn.Sequential(
      new nn.Linear(channel, Math.floor(channel / ratio), false),
      new nn.ReLU(true),
      new nn.Linear(Math.floor(channel / ratio), channel, false),
      new nn.Sigmoid(),
    );
  }
  forward(x: Tensor): Tensor {
    const [b, c] = x.shape;
    const y = this.fc(this.gap(x).view(b, c)).view(b, c, 1, 1);
    return x.mul(y.expandAs(x));
  }
}
class SEBottleneck extends nn.Module {
  conv1: torch.nn.Conv2d;
  bn1: torch.nn.BatchNorm2d;
  conv2: torch.nn.Conv2d;
  bn2: torch.nn.BatchNorm2d;
  conv3: torch.nn.Conv2d;
  bn3: torch.nn.BatchNorm2d;
  se: SE_Block;
  shortcut: torch.nn.Sequential;
  constructor(inplanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = new nn.Conv2d(inplanes, planes, 1, { bias: false });
    this.bn1 = new nn.BatchNorm2d(planes);
    this.conv2 = new nn.Conv2d(planes, planes, 3, stride, 1, { bias: false });
    this.bn2 = new nn.BatchNorm2d(planes);
    this.conv3 = new nn.Conv2d(planes, planes * 4, 1, { bias: false });
    this.bn3 = new nn.BatchNorm2d(planes * 4);
    this.se = new SE_Block(planes * 4);
    // the seed elides the shortcut ("self.shortcut ...") and writes `out self.shortcut(x)`: PyTorch's
    // bottleneck adds a 1×1 conv + BN projection when the shape changes, the identity otherwise
    this.shortcut =
      stride !== 1 || inplanes !== planes * 4
        ? new nn.Sequential(new nn.Conv2d(inplanes, planes * 4, 1, stride, { bias: false }), new nn.BatchNorm2d(planes * 4))
        : new nn.Sequential();
  }
  forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1(this.conv1(x)));
    out = F.relu(this.bn2(this.conv2(out)));
    out = this.bn3(this.conv3(out));
    out = this.se(out);
    return F.relu(out.add(this.shortcut(x)));
  }
}
class EfficientSE extends nn.Module {
  gap = new nn.AdaptiveAvgPool2d(1);
  fc1: torch.nn.Conv2d;
  fc2: torch.nn.Conv2d;
  act = new nn.ReLU();
  sigmoid = new nn.Sigmoid();
  constructor(
    channel: number,
    readonly groups = 4,
  ) {
    super();
    const groupCh = Math.floor(channel / groups);
    this.fc1 = new nn.Conv2d(channel, groupCh, 1, { groups });
    this.fc2 = new nn.Conv2d(groupCh, channel, 1, { groups });
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.sigmoid(this.fc2(this.act(this.fc1(this.gap(x))))));
  }
}
class SE3D extends nn.Module {
  gap = new nn.AdaptiveAvgPool3d(1);
  fc: torch.nn.Sequential;
  constructor(channel: number) {
    super();
    this.fc = new nn.Sequential(
      new nn.Linear(channel, Math.floor(channel / 16)),
      new nn.ReLU(),
      new nn.Linear(Math.floor(channel / 16), channel),
      new nn.Sigmoid(),
    );
  }
  forward(x: Tensor): Tensor {
    const [b, c] = x.shape;
    return x.mul(this.fc(this.gap(x).view(b, c)).view(b, c, 1, 1, 1));
  }
}
const PY_001 = `
class SE_Block(nn.Module):
    def __init__(self, channel, ratio=16):
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel//ratio, bias=False), nn.ReLU(inplace=True), nn.Linear(channel//ratio, channel, bias=False), nn.Sigmoid())
    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.gap(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)
class SEBottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes*4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes*4)
        self.se = SE_Block(planes*4)
        self.shortcut = nn.Sequential(nn.Conv2d(inplanes, planes*4, 1, stride, bias=False), nn.BatchNorm2d(planes*4)) if stride != 1 or inplanes != planes*4 else nn.Sequential()
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.se(out)
        return F.relu(out + self.shortcut(x))
class EfficientSE(nn.Module):
    def __init__(self, channel, groups=4):
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.groups = groups
        group_ch = channel // groups
        self.fc1 = nn.Conv2d(channel, group_ch, 1, groups=groups)
        self.fc2 = nn.Conv2d(group_ch, channel, 1, groups=groups)
        self.act = nn.ReLU()
        self.sigmoid = nn.Sigmoid()
    def forward(self, x):
        y = self.gap(x)
        y = self.fc1(y)
        y = self.act(y)
        y = self.fc2(y)
        y = self.sigmoid(y)
        return x * y
class SE3D(nn.Module):
    def __init__(self, channel):
        super().__init__()
        self.gap = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel//16), nn.ReLU(), nn.Linear(channel//16, channel), nn.Sigmoid())
    def forward(self, x):
        b, c, _, _, _ = x.size()
        y = self.gap(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1, 1)
        return x * y
`;

// ---- seed 002: the CIFAR ResNet's BasicBlock and head (F.avg_pool2d(out, 4), F.cross_entropy(…, reduction='sum')) ----
class BasicBlock extends nn.Module {
  conv1: torch.nn.Conv2d;
  bn1: torch.nn.BatchNorm2d;
  conv2: torch.nn.Conv2d;
  bn2: torch.nn.BatchNorm2d;
  shortcut: torch.nn.Sequential;
  constructor(inPlanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = new nn.Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(planes);
    this.conv2 = new nn.Conv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(planes);
    this.shortcut =
      stride !== 1 || inPlanes !== planes
        ? new nn.Sequential(new nn.Conv2d(inPlanes, planes, 1, { stride, bias: false }), new nn.BatchNorm2d(planes))
        : new nn.Sequential();
  }
  forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1(this.conv1(x)));
    out = this.bn2(this.conv2(out));
    return F.relu(out.add(this.shortcut(x)));
  }
}
class Head extends nn.Module {
  block = new BasicBlock(8, 16, 2);
  linear = new nn.Linear(16, 10);
  forward(x: Tensor): Tensor {
    const out = F.avgPool2d(this.block(x), 4);
    return this.linear(out.view(out.shape[0], -1));
  }
}
const PY_002 = `
class BasicBlock(nn.Module):
    expansion = 1
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion*planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, self.expansion*planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(self.expansion*planes))
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = BasicBlock(8, 16, 2)
        self.linear = nn.Linear(16, 10)
    def forward(self, x):
        out = F.avg_pool2d(self.block(x), 4)
        return self.linear(out.view(out.size(0), -1))
`;

// ---- seed 004: SimpleCNN with its SEBlock (nn.MaxPool2d(2, 2)) ----
class SEBlock extends nn.Module {
  fc1: torch.nn.Linear;
  fc2: torch.nn.Linear;
  constructor(inChannels: number, reduction = 16) {
    super();
    this.fc1 = new nn.Linear(inChannels, Math.floor(inChannels / reduction), { bias: false });
    this.fc2 = new nn.Linear(Math.floor(inChannels / reduction), inChannels, { bias: false });
  }
  forward(x: Tensor): Tensor {
    const [b, c] = x.shape;
    const y = F.adaptiveAvgPool2d(x, 1).view(b, c);
    return x.mul(
      this.fc2(F.relu(this.fc1(y)))
        .sigmoid()
        .view(b, c, 1, 1),
    );
  }
}
class SimpleCNN extends nn.Module {
  conv1 = new nn.Conv2d(3, 64, 3, { padding: 1 });
  relu = new nn.ReLU();
  pool = new nn.MaxPool2d(2, 2);
  se = new SEBlock(64);
  fc = new nn.Linear(64 * 16 * 16, 10);
  forward(x: Tensor): Tensor {
    const y = this.se(this.pool(this.relu(this.conv1(x))));
    return this.fc(y.view(y.shape[0], -1));
  }
}
const PY_004 = `
class SEBlock(nn.Module):
    def __init__(self, in_channels, reduction=16):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels // reduction, bias=False)
        self.fc2 = nn.Linear(in_channels // reduction, in_channels, bias=False)
    def forward(self, x):
        b, c, _, _ = x.size()
        y = F.adaptive_avg_pool2d(x, 1).view(b, c)
        y = torch.sigmoid(self.fc2(F.relu(self.fc1(y)))).view(b, c, 1, 1)
        return x * y
class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2, 2)
        self.se = SEBlock(64)
        self.fc = nn.Linear(64 * 16 * 16, 10)
    def forward(self, x):
        x = self.se(self.pool(self.relu(self.conv1(x))))
        return self.fc(x.view(x.size(0), -1))
`;

type Case = [string, () => torch.nn.Module, string, string, number[], boolean];
const cases: Case[] = [
  [
    'seed 001 SEBottleneck (stride 2, projection shortcut)',
    () => new SEBottleneck(32, 16, 2),
    PY_001,
    'SEBottleneck(32, 16, 2)',
    [2, 32, 8, 8],
    true,
  ],
  ['seed 001 SEBottleneck (identity shortcut)', () => new SEBottleneck(64, 16), PY_001, 'SEBottleneck(64, 16)', [2, 64, 6, 6], true],
  ['seed 001 EfficientSE (grouped 1×1 convs)', () => new EfficientSE(64), PY_001, 'EfficientSE(64)', [2, 64, 5, 5], false],
  ['seed 001 SE3D', () => new SE3D(32), PY_001, 'SE3D(32)', [2, 32, 3, 4, 4], false],
  ['seed 002 BasicBlock + F.avg_pool2d(out, 4) head', () => new Head(), PY_002, 'Head()', [3, 8, 8, 8], true],
  ['seed 004 SimpleCNN', () => new SimpleCNN(), PY_004, 'SimpleCNN()', [2, 3, 32, 32], true],
];

describe("the seeds' modules, written as the seeds write them, compute what Python computes", () => {
  it.each(cases)('%s', async (_name, make, pyDefs, pyCtor, shape, train) => {
    torch.manualSeed(1);
    const m = make().to('float64');
    m.train(train);
    const state = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.clone()]));
    const x = torch.randn(shape, { dtype: 'float64' });
    const y = (m as torch.nn.AnyModule)(x) as Tensor;
    const loss = F.crossEntropy(y.flatten(1), torch.zeros([shape[0]], { dtype: 'int64' }), { reduction: 'sum' });
    loss.backward();
    const ref = await py.run<[string[], Tensor, Tensor[]]>(
      `from torch import nn
import torch.nn.functional as F
${pyDefs}
m = ${pyCtor}.double()
m.load_state_dict(state)
m.train(${train ? 'True' : 'False'})
y = m(x)
F.cross_entropy(y.flatten(1), torch.zeros(${shape[0]}, dtype=torch.long), reduction='sum').backward()
out = [list(m.state_dict().keys()), y, [p.grad for p in m.parameters()]]`,
      { state, x },
    );
    expect(Object.keys(state)).toEqual(ref[0]);
    expectClose(y.detach(), ref[1], TOL);
    m.parameters().forEach((p, i) => expectClose(p.grad!, ref[2][i], TOL));
  });
});
