"""Timing the way every benchmark here does: warm up, then the best of several loops; the pair of
calls timed for an op (forward, forward + backward); PyTorch's timings from a child process."""

import argparse
import json
import subprocess
import sys
import time


def best_time(fn, repeats, budget=0.2, clock=time.perf_counter):
    """Seconds per call: the best, over ``repeats`` runs, of a loop long enough to take ``budget``.

    The best (not the mean) because on a shared machine every disturbance only adds time.
    ``clock=time.process_time`` counts CPU time instead, which on a busy machine is what a quiet
    machine's wall time would be (for one thread).
    """
    fn()  # warm up: caches, allocator, thread pools
    start = clock()
    fn()
    once = max(clock() - start, 1e-6)
    loops = max(1, int(budget / once))
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(loops):
            fn()
        best = min(best, (clock() - start) / loops)
    return best


def forward_and_backward(run, leaves, grad, no_grad):
    """The two calls each benchmark times for an op, in minidl or PyTorch alike: ``run()`` with
    recording off (``no_grad``: md.no_grad or torch.no_grad), and ``run().backward(grad)`` after
    clearing the leaves' gradients (``grad`` None: the output is a scalar loss)."""

    def forward():
        with no_grad():
            run()

    def forward_backward():
        for leaf in leaves:
            leaf.grad = None
        out = run()
        out.backward() if grad is None else out.backward(grad)

    return forward, forward_backward


def torch_timings(threads, keys, case, measure):
    """{key: (forward, forward + backward) seconds} for PyTorch, measured in this process;
    ``case(torch, key)`` gives the two calls (as forward_and_backward does) and ``measure(fn)`` the
    seconds of one. None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return {key: tuple(measure(fn) for fn in case(torch, key)) for key in keys}


def print_timings(timings):
    """What a benchmark run with --torch-only prints: torch_timings as JSON (keys are tuples)."""
    print(json.dumps(None if timings is None else [[*key, value] for key, value in timings.items()]))


def torch_timings_in_child(module, args):
    """torch_timings, measured by ``python -m <module> --torch-only <args>`` in a fresh process.

    PyTorch brings its own OpenMP runtime, whose idle threads spin-wait next to ours: on a 2-core
    machine each library then slows the other down in turn. In a child, PyTorch has the cores to
    itself while it runs, and is gone when minidl's turn comes.
    """
    command = [sys.executable, "-m", module, "--torch-only", *args]
    listed = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return None if listed is None else {tuple(key): tuple(value) for *key, value in listed}


def kernel_arguments(description):
    """The command line the pool and softmax benchmarks share: --threads, --quick, --repeats, and
    --torch-only (hidden: what the PyTorch child is run with)."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for minidl and PyTorch")
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats per timing (default 7); more finds quieter moments on a busy machine",
    )
    parser.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)
    return parser


def threads_and_repeats(args):
    """Apply --threads to minidl; returns (threads in use, repeats per timing)."""
    import minidl

    if args.threads:
        minidl.set_num_threads(args.threads)
    return minidl.get_num_threads(), args.repeats or (3 if args.quick else 7)
