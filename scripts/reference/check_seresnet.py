"""Self-check for seresnet.py: parameter counts, shapes, SE options, init, CLI. Run: python3 check_seresnet.py"""
import json
import os
import subprocess
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seresnet as R  # noqa: E402

fails = 0


def check(name, got, want):
    global fails
    ok = got == want
    fails += not ok
    show = lambda v: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
    if isinstance(got, dict):
        show = lambda v: f"{len(v)} keys"
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {show(got)}" + ("" if ok else f" (want {show(want)})"))


COUNTS = [
    ("se_resnet18", {}, 11_778_592), ("se_resnet34", {}, 21_958_868), ("se_resnet50", {}, 28_088_024),
    ("se_resnet101", {}, 49_326_872), ("se_resnet152", {}, 66_821_848), ("resnet50", {}, 25_557_032),
    ("resnet18", {}, 11_689_512),
    ("se_resnet18", {"num_classes": 10}, 11_270_722), ("se_resnet50", {"num_classes": 10}, 26_059_514),
]
for name, kw, want in COUNTS:
    check(f"{name}({kw}) params", R.count_params(R.MODELS[name](**kw)), want)

# SE options that keep the count: conv impl, hardsigmoid gate
check("se_resnet50 impl=conv params", R.count_params(R.se_resnet50(se={"impl": "conv"})), 28_088_024)
check("se_resnet50 gate=hardsigmoid params", R.count_params(R.se_resnet50(se={"gate": "hardsigmoid"})), 28_088_024)
nobias = R.count_params(R.se_resnet50(se={"bias": False}))
print(f"info se_resnet50 bias=False params: {nobias:,}")
# cifar stem: conv1 7x7x3x64 -> 3x3x3x64
check("se_resnet18 cifar params", R.count_params(R.se_resnet18(stem="cifar")), 11_778_592 - 64 * 3 * (49 - 9))
check("se_resnet18 in_channels=1 params", R.count_params(R.se_resnet18(in_channels=1)), 11_778_592 - 64 * 2 * 49)

# resnet* must equal torchvision's resnet layout: no `se` keys anywhere
check("resnet50 has no se keys", any(".se." in k for k in R.resnet50().state_dict()), False)

# forward shapes
torch.manual_seed(0)
with torch.no_grad():
    for name, kw, x in [("se_resnet18", {}, (2, 3, 224, 224)), ("se_resnet50", {"num_classes": 10}, (2, 3, 64, 64)),
                        ("se_resnet18", {"num_classes": 10, "stem": "cifar", "in_channels": 1,
                                         "se": {"gate": "hardsigmoid", "impl": "conv"}}, (2, 1, 32, 32)),
                        ("se_resnet50", {"num_classes": 10, "stride_on": "1x1", "se": {"impl": "conv"}}, (2, 3, 32, 32))]:
        m = R.MODELS[name](**kw).eval()
        check(f"{name}({kw}) {x} -> out shape", list(m(torch.randn(x)).shape), [x[0], kw.get("num_classes", 1000)])

# linear and conv SE compute the same thing given the same weights
torch.manual_seed(0)
lin, conv = R.SEModule(64), R.SEModule(64, impl="conv")
with torch.no_grad():
    for n in ("fc1", "fc2"):
        getattr(conv, n).weight.copy_(getattr(lin, n).weight[:, :, None, None])
        getattr(conv, n).bias.copy_(getattr(lin, n).bias)
    x = torch.randn(2, 64, 5, 5)
    check("SE linear == conv", torch.allclose(lin(x), conv(x), atol=1e-6), True)
    y = lin(x)
    p = x.mean((2, 3))
    ref = x * torch.sigmoid(lin.fc2(torch.relu(lin.fc1(p))))[:, :, None, None]
    check("SE == x*sigmoid(fc2(relu(fc1(gap))))", torch.allclose(y, ref, atol=1e-6), True)
    h = R.SEModule(64, gate="hardsigmoid")
    check("hardsigmoid gate", type(h.gate) is nn.Hardsigmoid, True)

# stride placement
b = R.se_resnet50(stride_on="1x1").layer2[0]
check("stride_on=1x1 strides (conv1, conv2)", (b.conv1.stride, b.conv2.stride), ((2, 2), (1, 1)))
b = R.se_resnet50().layer2[0]
check("stride_on=3x3 strides (conv1, conv2)", (b.conv1.stride, b.conv2.stride), ((1, 1), (2, 2)))

# init
m = R.se_resnet18(zero_init_residual=True).requires_grad_(False)
check("zero_init_residual bn2 zero", all(float(blk.bn2.weight.abs().sum()) == 0 for L in
                                         (m.layer1, m.layer2, m.layer3, m.layer4) for blk in L), True)
check("bn1 weight ones", bool((m.layer1[0].bn1.weight == 1).all()), True)
m = R.se_resnet50(zero_init_residual=True).requires_grad_(False)
check("zero_init_residual bn3 zero", float(m.layer3[2].bn3.weight.abs().sum()) == 0, True)
w = R.resnet50().layer4[0].conv2.weight.detach()  # fan_out = 512*9
check("kaiming fan_out std ~ sqrt(2/fan_out)", abs(float(w.std()) / (2 / (512 * 9)) ** 0.5 - 1) < 0.02, True)
check("cifar maxpool is Identity", type(R.se_resnet18(stem="cifar").maxpool) is nn.Identity, True)

# CLI
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seresnet.py")
args = ["--model", "se_resnet18", "--num-classes", "10", "--stem", "cifar", "--gate", "hardsigmoid",
        "--impl", "conv", "--in-channels", "1"]
keys = json.loads(subprocess.check_output([sys.executable, here, *args, "--print-keys"]))
ref = R.se_resnet18(num_classes=10, stem="cifar", in_channels=1, se={"gate": "hardsigmoid", "impl": "conv"})
check("CLI --print-keys", keys, {k: list(v.shape) for k, v in ref.state_dict().items()})
check("CLI conv1 shape", keys["conv1.weight"], [64, 1, 3, 3])
check("CLI se fc1 shape", keys["layer1.0.se.fc1.weight"], [4, 64, 1, 1])
n = int(subprocess.check_output([sys.executable, here, *args, "--count"]))
check("CLI --count", n, R.count_params(ref))

print("ALL OK" if not fails else f"{fails} FAILED")
sys.exit(1 if fails else 0)
