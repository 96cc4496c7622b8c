"""The Python half of scripts/bench/jit.js: a scripted SE-ResNet-50's inference time in PyTorch.

    python3 scripts/bench/jit.py '<config JSON>'
    scripts the model, saves it to config["file"], warms up, prints {"ready": version}; then times one
    repeat per stdin line and prints {"ms": per-forward ms}.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import seresnet as R  # noqa: E402


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c["threads"])
    device = torch.device(c["device"])
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    scripted = torch.jit.script(R.se_resnet50(num_classes=1000).eval())
    scripted.save(c["file"])
    model = torch.jit.load(c["file"], map_location=device)
    x = torch.randn(c["batch"], 3, c["size"], c["size"], device=device)

    def run():
        with torch.no_grad():
            return model(x)

    for _ in range(c["warmup"]):
        run()
    run().sum().item()
    print(json.dumps({"ready": torch.__version__}), flush=True)
    for _ in sys.stdin:
        t0 = time.perf_counter()
        for _ in range(c["steps"]):
            y = run()
        y.sum().item()
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / c["steps"]}), flush=True)


if __name__ == "__main__":
    main()
