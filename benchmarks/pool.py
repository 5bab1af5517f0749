"""Pooling speed: minidl's native kernels vs its NumPy reference vs PyTorch (CPU), float32.

    python -m benchmarks.pool                  # all cases, the default thread count
    python -m benchmarks.pool --threads 1      # one thread for minidl and PyTorch alike
    python -m benchmarks.pool --quick          # fewer repeats

Each op is timed through its public function (``minidl.functional.max_pool2d`` / ``avg_pool2d``),
forward alone (under no_grad) and forward + backward, as PyTorch is timed through
``torch.nn.functional``. A timing is the best of several repeats of a loop calibrated to take about
0.2 s, so a busy machine disturbs it less. Ratios: reference / native (what the C++ buys) and
native / PyTorch (below 1 is faster than PyTorch).

The cases are the pooling layers of small CNNs: 2x2 stride 2 over 28x28 maps (C=6: LeNet's first
pooling; C=16: a small MNIST net), batch 64; and 3x3 stride 2 padding 1 (the ResNet stem's
window), which takes the general path of the kernels rather than the 2x2 one.

The floor, for scale: max pooling 64x16x28x28 float32 reads 3.2 MB and writes 0.8 MB of values
plus 1.6 MB of int64 indices; a plain NumPy maximum of four strided views (no indices, shown as
"numpy" for the 2x2 max forward) is the cheapest way NumPy has to do the arithmetic alone.

PyTorch runs in a child process: it brings its own OpenMP runtime, whose idle threads spin-wait
next to ours, and on a 2-core machine each library then slows the other down in turn. PyTorch is
used only here, for comparison, when it is installed.
"""

import numpy as np

import minidl as md
from minidl.functional import avg_pool2d, max_pool2d

from . import timing
from .table import Table
from .timing import best_time, forward_and_backward

# (label, N, C, H, W, kernel, stride, padding)
CASES = [
    ("2x2", 64, 16, 28, 28, 2, 2, 0),
    ("2x2", 64, 6, 28, 28, 2, 2, 0),
    ("3x3s2p1", 64, 16, 28, 28, 3, 2, 1),
]
OPS = ("max_pool2d", "avg_pool2d")


def _inputs(n, c, h, w):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    return x, rng


def minidl_case(op, case):
    _, n, c, h, w, k, s, p = case
    x_array, rng = _inputs(n, c, h, w)
    x = md.tensor(x_array, requires_grad=True)
    pool = max_pool2d if op == "max_pool2d" else avg_pool2d
    with md.no_grad():
        out_shape = pool(x, k, s, p).shape
    grad = md.tensor(rng.standard_normal(out_shape).astype(np.float32))

    return forward_and_backward(lambda: pool(x, k, s, p), [x], grad, md.no_grad)


def torch_case(torch, op, case):
    _, n, c, h, w, k, s, p = case
    x_array, rng = _inputs(n, c, h, w)
    x = torch.tensor(x_array, requires_grad=True)
    pool = getattr(torch.nn.functional, op)
    with torch.no_grad():
        out_shape = pool(x, k, s, p).shape
    grad = torch.tensor(rng.standard_normal(tuple(out_shape)).astype(np.float32))

    return forward_and_backward(lambda: pool(x, k, s, p), [x], grad, torch.no_grad)


def numpy_max_2x2(case, repeats):
    """The 2x2 max forward as four strided NumPy views, no indices: the arithmetic alone."""
    _, n, c, h, w, _, _, _ = case
    x, _ = _inputs(n, c, h, w)
    return best_time(
        lambda: np.maximum(
            np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
            np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]),
        ),
        repeats,
    )


def torch_timings(threads, repeats):
    """{(op, case index): (forward, forward + backward) seconds} for PyTorch; None without it."""
    keys = [(op, index) for op in OPS for index in range(len(CASES))]
    return timing.torch_timings(
        threads,
        keys,
        lambda torch, key: torch_case(torch, key[0], CASES[key[1]]),
        lambda fn: best_time(fn, repeats),
    )


def main(argv=None):
    args = timing.kernel_arguments(__doc__).parse_args(argv)
    threads, repeats = timing.threads_and_repeats(args)
    if args.torch_only:
        timing.print_timings(torch_timings(threads, repeats))
        return
    torch_all = timing.torch_timings_in_child(
        "benchmarks.pool", ["--threads", str(threads), "--repeats", str(repeats)]
    )

    print(f"pooling benchmark, float32, {threads} thread(s); times in ms, best of {repeats}")
    table = Table(
        {"op": 11, "window": 8, "input": 14}, {"native": 8, "reference": 10, "torch": 8, "numpy": 8}
    )
    table.print_header()
    for op in OPS:
        for index, case in enumerate(CASES):
            label, n, c, h, w = case[:5]
            times = {}
            for setting in ("native", "reference"):
                with md.use_kernels(setting):
                    fwd, fwd_bwd = minidl_case(op, case)
                    times[setting] = (best_time(fwd, repeats), best_time(fwd_bwd, repeats))
            if torch_all is not None:
                times["torch"] = torch_all[(op, index)]
            if op == "max_pool2d" and label == "2x2":
                times["numpy"] = (numpy_max_2x2(case, repeats), None)
            table.print_case([op, label, f"{n}x{c}x{h}x{w}"], times)


if __name__ == "__main__":
    main()
