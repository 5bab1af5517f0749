"""float32 matmul throughput: minidl's C++ kernel against NumPy (OpenBLAS) and PyTorch.

    python -m benchmarks.matmul                  # the default shapes
    python -m benchmarks.matmul --sizes 512 1024 --repeat 9
    python -m benchmarks.matmul --dtype float64

Prints GFLOP/s (2*M*N*K / best time) for each shape and each implementation, and the ratio to
NumPy. The peers:
    minidl     minidl._C.matmul, the C++ kernel (csrc/cpu/matmul.cpp), called directly
    reference  minidl.backend.reference.matmul, the NumPy twin the kernel is tested against
    numpy      numpy.matmul on 2-d arrays: OpenBLAS (or whatever BLAS NumPy was built with)
    torch      torch.matmul on CPU tensors, when PyTorch is installed
All run on the same number of threads (--threads, default: every core this process may use).

Timing: one warm-up call, then the best of --repeat rounds, each round long enough (about 0.2 s)
for the clock to be accurate; rounds during which other processes used the CPU are run again. Each implementation is timed in its own block after a short pause:
thread pools (OpenMP's and OpenBLAS's) spin for a while after each call, and interleaving them
call by call would measure the two pools fighting over the cores instead of either kernel.
"""

import argparse
import os
import platform
import time

THREADS_DEFAULT = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _limit_threads_before_imports(threads):
    # OpenBLAS and OpenMP read these once, when they load: they must be set before numpy/torch
    # are imported. (python -m benchmarks.matmul imports nothing heavy before this runs.)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


SQUARE_SIZES = (64, 128, 256, 512, 1024, 2048)
# (label, M, N, K): the products of an MLP layer on a minibatch, which are tall and skinny.
EXTRA_SHAPES = (
    ("mlp 128x40 @ 40x100", 128, 100, 40),
    ("mlp 512x784 @ 784x256", 512, 256, 784),
)


def cpu_description():
    model = platform.processor() or platform.machine()
    flags = set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                if model and flags:
                    break
    except OSError:
        pass
    simd = [name for name in ("avx512f", "avx2", "fma", "neon", "asimd") if name in flags]
    return model, simd


def _busy_cpu_seconds():
    """CPU seconds used so far by the whole machine, or None where /proc/stat does not exist."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds():
    times = os.times()
    return times.user + times.system


def best_seconds(fn, repeat, min_round=0.2, max_rounds=20):
    """Best time of one call of fn, over `repeat` rounds of enough calls to last min_round.

    On a shared machine another process can take a core in the middle of a round, and a kernel
    that splits its work over all cores then waits for the slowest. A round during which other
    processes used more than a tenth of a core is thrown away and run again (up to max_rounds in
    all). Returns (seconds, quiet): quiet is False when too few quiet rounds could be had.
    """
    fn()  # warm-up: caches, thread pools, lazily allocated workspaces
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(min_round / one))
    quiet_best, any_best, quiet_rounds = float("inf"), float("inf"), 0
    for _ in range(max_rounds):
        busy0, own0, start = _busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        per_call = elapsed / calls
        any_best = min(any_best, per_call)
        if busy0 is None:
            quiet = True
        else:
            others = (_busy_cpu_seconds() - busy0) - (_own_cpu_seconds() - own0)
            quiet = others <= 0.1 * elapsed + 0.02  # 0.02 s: the clock tick of /proc/stat
        if quiet:
            quiet_best, quiet_rounds = min(quiet_best, per_call), quiet_rounds + 1
            if quiet_rounds == repeat:
                return quiet_best, True
        else:
            time.sleep(0.2)
    return (quiet_best, True) if quiet_rounds else (any_best, False)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.matmul", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=list(SQUARE_SIZES), help="square sizes N (N x N @ N x N)"
    )
    parser.add_argument("--no-mlp", action="store_true", help="skip the MLP-shaped products")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--threads", type=int, default=THREADS_DEFAULT)
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per measurement")
    args = parser.parse_args(argv)

    _limit_threads_before_imports(args.threads)
    import numpy as np

    import minidl
    from minidl.backend import native, reference

    C = native.cpu_module()
    if C is None:
        raise SystemExit(f"minidl._C is not built ({native.load_error('_C')}): pip install -e .")
    C.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

    model, simd = cpu_description()
    print(f"machine : {model}, {os.cpu_count()} cores ({', '.join(simd) or 'no SIMD flags found'})")
    print(
        f"minidl  : {minidl.__version__}, micro-kernel {C.simd()}, {args.threads} threads; {C.build_info()}"
    )
    print(
        f"numpy   : {np.__version__}" + (f"; torch {torch.__version__}" if torch else "; torch not installed")
    )
    if hasattr(os, "getloadavg"):
        print(f"load    : {os.getloadavg()[0]:.2f} (1-min average; other work on the machine skews timings)")
    print(f"dtype   : {args.dtype}, GFLOP/s = 2*M*N*K / best of {args.repeat} rounds\n")

    shapes = [(f"{n}x{n} @ {n}x{n}", n, n, n) for n in args.sizes]
    if not args.no_mlp:
        shapes += list(EXTRA_SHAPES)

    names = ["minidl", "reference", "numpy"] + (["torch"] if torch else [])
    header = f"| {'shape':<24} |" + "".join(f" {n:>9} |" for n in names) + " minidl/numpy |"
    if torch:
        header += " torch/numpy |"
    print(header)
    print(
        "|"
        + "-" * 26
        + "|"
        + "-----------|" * len(names)
        + "--------------|"
        + ("-------------|" if torch else "")
    )

    rng = np.random.default_rng(0)
    for label, M, N, K in shapes:
        a = rng.standard_normal((1, M, K)).astype(args.dtype)
        b = rng.standard_normal((1, K, N)).astype(args.dtype)
        a2, b2 = a[0], b[0]
        peers = {
            "minidl": lambda: C.matmul(a, b, False, False),
            "reference": lambda: reference.matmul(a, b),
            "numpy": lambda: np.matmul(a2, b2),
        }
        if torch:
            ta, tb = torch.from_numpy(a2), torch.from_numpy(b2)
            peers["torch"] = lambda: torch.matmul(ta, tb)
        flops = 2.0 * M * N * K
        gflops, marks = {}, {}
        for name, fn in peers.items():
            time.sleep(0.3)  # let the previous library's spinning threads go to sleep
            seconds, quiet = best_seconds(fn, args.repeat)
            gflops[name], marks[name] = flops / seconds / 1e9, " " if quiet else "*"
        row = f"| {label:<24} |" + "".join(f" {gflops[n]:8.1f}{marks[n]} |" for n in names)
        row += f" {gflops['minidl'] / gflops['numpy']:12.2f} |"
        if torch:
            row += f" {gflops['torch'] / gflops['numpy']:11.2f} |"
        print(row, flush=True)
    print("\n* = the machine was busy with other work during every round: that number is unreliable")


if __name__ == "__main__":
    main()
