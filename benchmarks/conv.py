"""Convolution speed: minidl's native kernels vs its NumPy reference vs PyTorch (CPU), float32.

    python -m benchmarks.conv                  # all cases, the default thread count
    python -m benchmarks.conv --threads 1      # one thread for minidl and PyTorch alike (NumPy's
                                               # BLAS keeps its own: OPENBLAS_NUM_THREADS=1)
    python -m benchmarks.conv --quick          # fewer repeats

Each case is timed through the public op (``minidl.functional.conv2d`` / ``conv1d``, with bias),
forward alone and forward + backward (gradients of input, weight and bias), as PyTorch is timed
through ``torch.nn.functional``. Ratios: reference / native (how much the C++ buys) and
native / PyTorch (below 1 is faster than PyTorch). PyTorch is used only here, for comparison,
when it is installed.

Timing on a shared machine: a timing is the fastest single call seen, and the contestants take
turns, a few calls each per round, so a burst of load from elsewhere hits them all alike and the
minimum catches the moments the cores were free. Before each turn the benchmark pauses briefly:
OpenBLAS (under the NumPy reference) and PyTorch keep their worker threads spinning for a while
after a call, and a contestant started right away shares the cores with them (measured: a
32x64->64 forward takes 50 ms instead of 25 right after a NumPy matmul). The header prints the
load average: with other work running on a 2-core machine, multi-threaded timings (ours,
PyTorch's, OpenBLAS's) can be several times slower than on a quiet one, and their ratios say
little.
"""

import argparse
import os
import time

import numpy as np

import minidl as md
from minidl.functional import conv1d, conv2d

from .table import Table
from .timing import forward_and_backward

# (name, N, C_in, C_out, spatial size, kernel, padding); a 1-tuple size is a conv1d
CASES = [
    ("LeNet conv1", 64, 1, 6, (28, 28), 5, 0),
    ("LeNet conv2", 64, 6, 16, (14, 14), 5, 0),
    ("ResNet-ish 3x3", 32, 64, 64, (32, 32), 3, 1),
    ("conv1d", 128, 1, 32, (40,), 5, 0),
]


def race(contestants, rounds, round_seconds=0.1, settle_seconds=0.15):
    """{name: seconds per call}: the fastest single call of each function in ``contestants``
    ({name: fn}), over ``rounds`` rounds in which each runs for about ``round_seconds`` in turn,
    after ``settle_seconds`` of quiet for the previous one's threads to go to sleep."""
    calls = {}
    for name, fn in contestants.items():
        fn()  # warm up: caches, scratch buffers, thread pools
        start = time.perf_counter()
        fn()
        calls[name] = max(1, int(round_seconds / max(time.perf_counter() - start, 1e-6)))
    best = {name: float("inf") for name in contestants}
    for _ in range(rounds):
        for name, fn in contestants.items():
            time.sleep(settle_seconds)
            for _ in range(calls[name]):
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def minidl_case(n, c_in, c_out, size, kernel, padding, rng):
    op = conv1d if len(size) == 1 else conv2d
    x = md.tensor(rng.standard_normal((n, c_in) + size).astype(np.float32), requires_grad=True)
    w = md.tensor(
        rng.standard_normal((c_out, c_in) + (kernel,) * len(size)).astype(np.float32) * 0.1,
        requires_grad=True,
    )
    b = md.tensor(np.zeros(c_out, np.float32), requires_grad=True)
    grad = md.tensor(np.ones(op(x, w, b, padding=padding).shape, np.float32))

    return forward_and_backward(lambda: op(x, w, b, padding=padding), [x, w, b], grad, md.no_grad)


def torch_case(torch, n, c_in, c_out, size, kernel, padding, rng):
    F = torch.nn.functional
    op = F.conv1d if len(size) == 1 else F.conv2d
    x = torch.tensor(rng.standard_normal((n, c_in) + size).astype(np.float32), requires_grad=True)
    w = torch.tensor(
        rng.standard_normal((c_out, c_in) + (kernel,) * len(size)).astype(np.float32) * 0.1,
        requires_grad=True,
    )
    b = torch.zeros(c_out, requires_grad=True)
    grad = torch.ones(op(x, w, b, padding=padding).shape)

    return forward_and_backward(lambda: op(x, w, b, padding=padding), [x, w, b], grad, torch.no_grad)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for minidl and PyTorch")
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 8")
    args = parser.parse_args(argv)
    if args.threads:
        md.set_num_threads(args.threads)
    threads = md.get_num_threads()
    rounds = 3 if args.quick else 8
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None

    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"conv benchmark, float32, {threads} thread(s), {os.cpu_count()} cores, load average {load}; "
        f"times in ms, fastest call over {rounds} rounds"
    )
    table = Table({"case": 16, "shape": 28}, {"native": 8, "reference": 10, "torch": 8}, digits=2)
    table.print_header()
    for name, n, c_in, c_out, size, kernel, padding in CASES:
        shape = f"{n}x{c_in}->{c_out} {'x'.join(map(str, size))} k{kernel}" + (
            f" p{padding}" if padding else ""
        )
        rng = np.random.default_rng(0)
        contestants = {}
        for setting in ("native", "reference"):
            with md.use_kernels(setting):
                contestants[setting] = minidl_case(n, c_in, c_out, size, kernel, padding, rng)
        if torch is not None:
            contestants["torch"] = torch_case(torch, n, c_in, c_out, size, kernel, padding, rng)
        best = [
            race({who: _with_setting(who, pair[index]) for who, pair in contestants.items()}, rounds)
            for index in range(2)
        ]  # the forward race, then the forward + backward one
        table.print_case([name, shape], {who: (best[0][who], best[1][who]) for who in contestants})


def _with_setting(who, fn):
    """``fn`` run under minidl's kernel setting ``who`` (PyTorch's functions run as they are)."""
    if who not in ("native", "reference"):
        return fn

    def run():
        with md.use_kernels(who):
            fn()

    return run


if __name__ == "__main__":
    main()
