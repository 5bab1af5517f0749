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
import argparse
import json
import subprocess
import sys
import time

import numpy as np

import minidl as md
from minidl.functional import cross_entropy, log_softmax, softmax
from . import timing

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
    """{(op, rows, cols): (forward, forward + backward) seconds} for PyTorch, measured in this
    process; None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    timings = {}
    for op in OPS:
        for rows, cols in SHAPES:
            fwd, fwd_bwd = torch_case(torch, op, rows, cols, np.random.default_rng(0))
            timings[(op, rows, cols)] = (best_time(fwd, repeats), best_time(fwd_bwd, repeats))
    return timings


def torch_timings_in_child(threads, repeats):
    """torch_timings, run in a fresh Python process (see the module docstring for why)."""
    command = [sys.executable, "-m", "benchmarks.softmax", "--torch-only", "--threads", str(threads),
               "--repeats", str(repeats), "--clock", next(k for k, v in CLOCKS.items() if v is clock)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    listed = json.loads(result.stdout)
    return None if listed is None else {(op, rows, cols): tuple(t) for op, rows, cols, t in listed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for minidl and PyTorch")
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per timing (default 7); more finds quieter moments on a busy machine")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall (default) or cpu: CPU time of this process, steady on a busy "
                             "machine; use it with --threads 1")
    parser.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
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

    print(f"softmax benchmark, float32, {threads} thread(s); times in ms ({args.clock} clock), "
          f"best of {repeats}")
    header = (f"{'op':<14} {'shape':<11} {'pass':<8} {'native':>8} {'reference':>10} {'torch':>8} "
              f"{'ref/nat':>8} {'nat/torch':>9}")
    print(header)
    print("-" * len(header))
    for op in OPS:
        for rows, cols in SHAPES:
            shape = f"{rows}x{cols}"
            rng = np.random.default_rng(0)
            timings = {}
            for setting in ("native", "reference"):
                with md.use_kernels(setting):
                    fwd, fwd_bwd = minidl_case(op, rows, cols, rng)
                    timings[setting] = (best_time(fwd, repeats), best_time(fwd_bwd, repeats))
            if torch_all is not None:
                timings["torch"] = torch_all[(op, rows, cols)]
            for index, label in enumerate(("fwd", "fwd+bwd")):
                native, ref = timings["native"][index], timings["reference"][index]
                torch_t = timings["torch"][index] if "torch" in timings else None
                torch_text = f"{torch_t * 1e3:8.3f}" if torch_t else f"{'-':>8}"
                ratio_text = f"{native / torch_t:9.2f}" if torch_t else f"{'-':>9}"
                print(f"{op if index == 0 else '':<14} {shape if index == 0 else '':<11} {label:<8} "
                      f"{native * 1e3:8.3f} {ref * 1e3:10.3f} {torch_text} {ref / native:8.1f} {ratio_text}")


if __name__ == "__main__":
    main()
