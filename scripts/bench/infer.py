"""The Python half of scripts/bench/infer.js.

    python3 infer.py prepare '<config JSON>'       build the model (seeded) and write into config["dir"]:
        weights.pt (its state dict), x.pt and y.pt (an input and eager's output), script.pt (frozen
        TorchScript), model.pt2 (an AOTInductor package compiled with freezing), model.onnx (when the
        onnx package is installed); prints {"ready": version, "onnx": bool}
    python3 infer.py <eager|script|aoti> '<config JSON>'   one form, timed: prints {"ready": ..., "diff":
        max |y - eager's y|}, then answers each stdin line with {"ms": per-forward ms} for one repeat
"""
import json
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import seresnet as R  # noqa: E402

warnings.simplefilter("ignore")


def build(c):
    if c["model"] == "seResNet18":
        return R.se_resnet18(num_classes=10)
    return R.se_resnet50(num_classes=1000)


def prepare(c):
    d = c["dir"]
    torch.manual_seed(0)
    model = build(c).eval()
    x = torch.randn(c["batch"], 3, c["size"], c["size"])
    with torch.no_grad():
        torch.save(model.state_dict(), os.path.join(d, "weights.pt"))
        torch.save({"x": x, "y": model(x)}, os.path.join(d, "io.pt"))
        torch.jit.freeze(torch.jit.script(model)).save(os.path.join(d, "script.pt"))
        torch._inductor.config.freezing = True
        torch._inductor.aoti_compile_and_package(torch.export.export(model, (x,)), package_path=os.path.join(d, "model.pt2"))
    onnx = False
    try:
        import onnx as _  # noqa: F401  (the legacy exporter needs it)
        torch.onnx.export(model, (x,), os.path.join(d, "model.onnx"), dynamo=False, input_names=["x"], output_names=["y"])
        onnx = True
    except ImportError:
        pass
    print(json.dumps({"ready": torch.__version__, "onnx": onnx}), flush=True)


def serve(form, c):
    d = c["dir"]
    torch.set_num_threads(c["threads"])
    io = torch.load(os.path.join(d, "io.pt"))
    x = io["x"]
    if form == "eager":
        model = build(c).eval()
        model.load_state_dict(torch.load(os.path.join(d, "weights.pt")))
    elif form == "script":
        model = torch.jit.load(os.path.join(d, "script.pt"))
    else:
        model = torch._inductor.aoti_load_package(os.path.join(d, "model.pt2"))

    def run():
        with torch.no_grad():
            return model(x)

    for _ in range(c["warmup"]):
        y = run()
    print(json.dumps({"ready": torch.__version__, "diff": float((y - io["y"]).abs().max())}), flush=True)
    for _ in sys.stdin:
        t0 = time.perf_counter()
        for _ in range(c["steps"]):
            y = run()
        float(y.sum())
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / c["steps"]}), flush=True)


if __name__ == "__main__":
    config = json.loads(sys.argv[2])
    prepare(config) if sys.argv[1] == "prepare" else serve(sys.argv[1], config)
