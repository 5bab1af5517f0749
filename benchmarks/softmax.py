"""Softmax family speed: minidl's native kernels vs its NumPy reference vs PyTorch (CPU), float32.

    python -m benchmarks.softmax                  # all cases, the default thread count
    python -m benchmarks.softmax --threads 1      # one thread for minidl and PyTorch alike
    python -m benchmarks.softmax --quick          # fewer repeats
    python -m benchmarks.softmax --repeats 30     # more repeats: on a busy machine the best of
                                                  # many is closer to what a quiet one measures
    python -m benchmarks.softmax --threads 1 --clock cpu   # CPU time: steady on a busy machine

Each op is timed through its public function (``minidl.functional.softmax`` / ``log_softmax`` /
``cross_entropy``, along dim 1 of (rows, cols) logits), forward alone and forward + backward, as
PyTorch is timed through ``torch.nn.functional``. A timing is the best of several repeats of a loop
calibrated to take about 0.2 s, so a busy machine disturbs it less. Ratios: reference / native (how
much the C++ buys) and native / PyTorch (below 1 is faster than PyTorch).

PyTorch runs in a child process: it brings its own OpenMP runtime, whose idle threads spin-wait
next to ours, and on a 2-core machine each library then slows the other down in turn.

The floor, for scale: softmax reads its input once and writes its output once; at 4096 x 1000
float32 that is 2 x 16 MB, about 0.9 ms at this machine's ~37 GB/s. PyTorch is used only here,
for comparison, when it is installed.
"""

import time

import numpy as np

import minidl as md
from minidl.functional import cross_entropy, log_softmax, softmax

from . import timing
from .table import Table

SHAPES = [(4096, 1000), (128, 10)]
OPS = ("softmax", "log_softmax", "cross_entropy")


# The clock timings are read from: wall time (time.perf_counter), or this process's CPU time
# (time.process_time), which leaves out the time other programs hold the cores. With one thread,
# CPU time is what a quiet machine's wall time would be; with more, it adds up all threads.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def best_time(fn, repeats, budget=0.2):
    """timing.best_time on the clock chosen with --clock."""
    return timing.best_time(fn, repeats, budget, clock)


def minidl_case(op, rows, cols, rng):
    x = md.tensor(rng.standard_normal((rows, cols)).astype(np.float32), requires_grad=True)
    target = md.tensor(rng.integers(0, cols, rows))
    grad = md.tensor(rng.standard_normal((rows, cols)).astype(np.float32))
    run = {
        "softmax": lambda: softmax(x, 1),
        "log_softmax": lambda: log_softmax(x, 1),
        "cross_entropy": lambda: cross_entropy(x, target),
    }[op]

    return timing.forward_and_backward(run, [x], None if op == "cross_entropy" else grad, md.no_grad)


def torch_case(torch, op, rows, cols, rng):
    F = torch.nn.functional
    x = torch.tensor(rng.standard_normal((rows, cols)).astype(np.float32), requires_grad=True)
    target = torch.tensor(rng.integers(0, cols, rows))
    grad = torch.tensor(rng.standard_normal((rows, cols)).astype(np.float32))
    run = {
        "softmax": lambda: F.softmax(x, 1),
        "log_softmax": lambda: F.log_softmax(x, 1),
        "cross_entropy": lambda: F.cross_entropy(x, target),
    }[op]

    return timing.forward_and_backward(run, [x], None if op == "cross_entropy" else grad, torch.no_grad)


def torch_timings(threads, repeats):
    """{(op, rows, cols): (forward, forward + backward) seconds} for PyTorch; None without it."""
    keys = [(op, rows, cols) for op in OPS for rows, cols in SHAPES]
    return timing.torch_timings(
        threads,
        keys,
        lambda torch, key: torch_case(torch, *key, np.random.default_rng(0)),
        lambda fn: best_time(fn, repeats),
    )


def main(argv=None):
    parser = timing.kernel_arguments(__doc__)
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall (default) or cpu: CPU time of this process, steady on a busy "
        "machine; use it with --threads 1",
    )
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    threads, repeats = timing.threads_and_repeats(args)
    if args.torch_only:
        timing.print_timings(torch_timings(threads, repeats))
        return
    torch_all = timing.torch_timings_in_child(
        "benchmarks.softmax", ["--threads", str(threads), "--repeats", str(repeats), "--clock", args.clock]
    )

    print(
        f"softmax benchmark, float32, {threads} thread(s); times in ms ({args.clock} clock), "
        f"best of {repeats}"
    )
    table = Table({"op": 14, "shape": 11}, {"native": 8, "reference": 10, "torch": 8})
    table.print_header()
    for op in OPS:
        for rows, cols in SHAPES:
            rng = np.random.default_rng(0)
            times = {}
            for setting in ("native", "reference"):
                with md.use_kernels(setting):
                    fwd, fwd_bwd = minidl_case(op, rows, cols, rng)
                    times[setting] = (best_time(fwd, repeats), best_time(fwd_bwd, repeats))
            if torch_all is not None:
                times["torch"] = torch_all[(op, rows, cols)]
            table.print_case([op, f"{rows}x{cols}"], times)


if __name__ == "__main__":
    main()
