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
import argparse
import json
import subprocess
import sys

import numpy as np

import minidl as md
from minidl.functional import avg_pool2d, max_pool2d
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
    return best_time(lambda: np.maximum(np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
                                        np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])), repeats)


def torch_timings(threads, repeats):
    """{(op, case index): (forward, forward + backward) seconds} for PyTorch, measured in this
    process; None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    timings = {}
    for op in OPS:
        for index, case in enumerate(CASES):
            fwd, fwd_bwd = torch_case(torch, op, case)
            timings[(op, index)] = (best_time(fwd, repeats), best_time(fwd_bwd, repeats))
    return timings


def torch_timings_in_child(threads, repeats):
    """torch_timings, run in a fresh Python process (see the module docstring for why)."""
    command = [sys.executable, "-m", "benchmarks.pool", "--torch-only", "--threads", str(threads),
               "--repeats", str(repeats)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    listed = json.loads(result.stdout)
    return None if listed is None else {(op, index): tuple(t) for op, index, t in listed}


def _ms(seconds, width):
    return f"{seconds * 1e3:{width}.3f}" if seconds else f"{'-':>{width}}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for minidl and PyTorch")
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--repeats", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.threads:
        md.set_num_threads(args.threads)
    threads = md.get_num_threads()
    repeats = args.repeats or (3 if args.quick else 7)
    if args.torch_only:
        timings = torch_timings(threads, repeats)
        listed = None if timings is None else [[*key, value] for key, value in timings.items()]
        print(json.dumps(listed))
        return
    torch_all = torch_timings_in_child(threads, repeats)

    print(f"pooling benchmark, float32, {threads} thread(s); times in ms, best of {repeats}")
    header = (f"{'op':<11} {'window':<8} {'input':<14} {'pass':<8} {'native':>8} {'reference':>10} "
              f"{'torch':>8} {'numpy':>8} {'ref/nat':>8} {'nat/torch':>9}")
    print(header)
    print("-" * len(header))
    for op in OPS:
        for index, case in enumerate(CASES):
            label, n, c, h, w = case[:5]
            timings = {}
            for setting in ("native", "reference"):
                with md.use_kernels(setting):
                    fwd, fwd_bwd = minidl_case(op, case)
                    timings[setting] = (best_time(fwd, repeats), best_time(fwd_bwd, repeats))
            torch_pair = torch_all[(op, index)] if torch_all is not None else (None, None)
            numpy_fwd = numpy_max_2x2(case, repeats) if op == "max_pool2d" and label == "2x2" else None
            for row, pass_name in enumerate(("fwd", "fwd+bwd")):
                native, ref = timings["native"][row], timings["reference"][row]
                torch_t = torch_pair[row]
                ratio = f"{native / torch_t:9.2f}" if torch_t else f"{'-':>9}"
                first = row == 0
                print(f"{op if first else '':<11} {label if first else '':<8} "
                      f"{f'{n}x{c}x{h}x{w}' if first else '':<14} {pass_name:<8} {_ms(native, 8)} "
                      f"{_ms(ref, 10)} {_ms(torch_t, 8)} {_ms(numpy_fwd if first else None, 8)} "
                      f"{ref / native:8.1f} {ratio}")


if __name__ == "__main__":
    main()
