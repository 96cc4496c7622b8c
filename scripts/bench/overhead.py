#!/usr/bin/env python3
"""Python half of scripts/bench/overhead.js: the same per-op workloads in PyTorch, timed the same way.

Run by overhead.js as a child process (with OMP_NUM_THREADS=1 in its environment) in --serve mode,
where the two sides take turns repeat by repeat. Run by hand, it times everything itself and prints
one JSON object on stdout:

    OMP_NUM_THREADS=1 python3 scripts/bench/overhead.py --workloads add,mul_scalar --reps 5

Each workload is a function of n that runs n steps and returns nothing; it is warmed up, then timed
`reps` times, and both the best and the median time per step are reported. Nothing here asserts on
time.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# Steps per timed repeat, before --scale. Keep in step with ITERS in overhead.js.
ITERS = {
    'add': 100_000,
    'mul_scalar': 100_000,
    'shape': 100_000,
    'item': 100_000,
    'matmul_backward': 10_000,
    'conv2d_backward': 10_000,
}


def make_add():
    a = torch.ones(1)
    b = torch.ones(1)

    def run(n):
        for _ in range(n):
            c = a + b  # the previous c is freed here by refcounting, as a disposed tensor in Node
        del c

    return run


def make_mul_scalar():
    x = torch.ones(1)

    def run(n):
        for _ in range(n):
            c = torch.mul(x, 2.5)
        del c

    return run


def make_shape():
    x = torch.ones(2, 3)

    def run(n):
        for _ in range(n):
            s = x.shape
        del s

    return run


def make_item():
    x = torch.ones(1)

    def run(n):
        for _ in range(n):
            v = x.item()
        del v

    return run


def make_matmul_backward():
    torch.manual_seed(0)
    x = torch.randn(4, 4)
    w = torch.randn(4, 4, requires_grad=True)

    def run(n):
        for _ in range(n):
            (x @ w).sum().backward()
            w.grad = None  # what optimizer.zero_grad() does by default (set_to_none)

    return run


def make_conv2d_backward():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 8, 8)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)

    def run(n):
        for _ in range(n):
            F.conv2d(x, w, padding=1).sum().backward()
            w.grad = None

    return run


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def make_module_step():
    torch.manual_seed(0)
    net = Net()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    x = torch.randn(4, 3, 32, 32)
    y = torch.randint(0, 10, (4,))

    def run(n):
        for _ in range(n):
            optimizer.zero_grad()
            loss = criterion(net(x), y)
            loss.backward()
            optimizer.step()
            loss.item()

    return run


MAKERS = {
    'add': make_add,
    'mul_scalar': make_mul_scalar,
    'shape': make_shape,
    'item': make_item,
    'matmul_backward': make_matmul_backward,
    'conv2d_backward': make_conv2d_backward,
    'module_step': make_module_step,
}


def measure(run, n, reps, warmup):
    run(warmup)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        run(n)
        times.append((time.perf_counter_ns() - t0) / 1e3 / n)  # µs per step
    return {
        'n': n,
        'reps': reps,
        'us_per_op': times,
        'best_us': min(times),
        'median_us': statistics.median(times),
    }


def serve():
    """Line protocol for overhead.js, so that the two sides can take turns repeat by repeat (machine
    noise then falls on both alike). One JSON object per line in, one per line out:
      {"op": "hello"}                            -> {"python", "torch", "num_threads", ...}
      {"op": "setup", "name": W, "warmup": k}    -> {"ok": true}       (build the workload, run k steps)
      {"op": "run", "name": W, "n": n}           -> {"us_per_op": x}   (one timed repeat of n steps)
    Errors come back as {"error": "..."}; end of input ends the process."""
    runs = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req.get('op')
            if op == 'hello':
                reply = info()
            elif op == 'setup':
                name = req['name']
                if name not in MAKERS:
                    raise ValueError(f'unknown workload {name!r}')
                runs[name] = MAKERS[name]()
                runs[name](max(1, int(req.get('warmup', 1))))
                reply = {'ok': True}
            elif op == 'run':
                if req.get('name') not in runs:
                    raise ValueError(f"workload {req.get('name')!r} was not set up")
                run, n = runs[req['name']], int(req['n'])
                t0 = time.perf_counter_ns()
                run(n)
                reply = {'us_per_op': (time.perf_counter_ns() - t0) / 1e3 / n}
            else:
                raise ValueError(f'unknown op {op!r}')
        except Exception as e:  # report, keep serving
            reply = {'error': f'{type(e).__name__}: {e}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()
    return 0


def info():
    return {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'num_threads': torch.get_num_threads(),
        'omp_num_threads_env': os.environ.get('OMP_NUM_THREADS'),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--workloads', default=','.join(MAKERS), help='comma-separated names: ' + ', '.join(MAKERS))
    p.add_argument('--reps', type=int, default=5, help='timed repeats per workload (best and median reported)')
    p.add_argument('--scale', type=float, default=1.0, help='multiply every iteration count (e.g. 0.1 for a quick run)')
    p.add_argument('--serve', action='store_true', help='answer overhead.js over stdin/stdout (see serve())')
    args = p.parse_args()

    torch.set_num_threads(1)
    if args.serve:
        return serve()
    out = {**info(), 'results': {}, 'errors': {}}
    for name in [w for w in args.workloads.split(',') if w]:
        if name not in MAKERS:
            out['errors'][name] = f'unknown workload {name!r}'
            continue
        try:
            n = max(1, int(ITERS[name] * args.scale))
            out['results'][name] = measure(MAKERS[name](), n, args.reps, warmup=max(1, n // 10))
        except Exception as e:  # report, do not abort the other workloads
            out['errors'][name] = f'{type(e).__name__}: {e}'
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')
    return 1 if out['errors'] else 0


if __name__ == '__main__':
    sys.exit(main())
