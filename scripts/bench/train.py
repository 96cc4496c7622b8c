"""The Python half of scripts/bench/train.js: PyTorch eager training steps of the reference SE-ResNets.

    python3 scripts/bench/train.py '<config JSON>'
    prints {"ready": torch version} after the warm-up, then for each line read from stdin times one repeat
    and prints {"ms": per-step ms} (train.js alternates these repeats with its own)

A step is what the seeds run: zero_grad, forward, cross-entropy, backward, SGD (momentum 0.9, weight
decay 5e-4) step; on CUDA with cudnn.benchmark, optional bf16 autocast and channels_last. Each repeat
times `steps` steps after `warmup` untimed ones and ends with a synchronize (loss.item()).
With "graph": true (CUDA), the whole step is captured once in a CUDA graph, as PyTorch's documentation
does it (three warm-up steps on a side stream, gradients set to None before capture), and each step is
a copy into the static input and a replay.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import seresnet as R  # noqa: E402


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c.get("threads") or torch.get_num_threads())
    device = torch.device(c["device"])
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = getattr(R, c["model"])(num_classes=c.get("classes", 10), width=c.get("width", 64)).to(device)
    fmt = torch.channels_last if c.get("channelsLast") else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(c["batch"], 3, c["size"], c["size"], device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, c.get("classes", 10), (c["batch"],), device=device)
    amp = c.get("amp")

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp == "bfloat16"):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if c.get("graph"):
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        static_x = x.clone()
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp == "bfloat16"):
                static_loss = F.cross_entropy(model(static_x), y)
            static_loss.backward()
            opt.step()

        def step():  # noqa: F811 (the captured step replaces the eager one)
            static_x.copy_(x)
            graph.replay()
            return static_loss

    for _ in range(c["warmup"]):
        step()
    step().item()
    print(json.dumps({"ready": torch.__version__}), flush=True)
    for _ in sys.stdin:
        t0 = time.perf_counter()
        for _ in range(c["steps"]):
            loss = step()
        loss.item()
        if device.type == "cuda":
            torch.cuda.synchronize()
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / c["steps"]}), flush=True)


if __name__ == "__main__":
    main()
