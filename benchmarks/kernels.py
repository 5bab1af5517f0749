"""Every CPU kernel benchmark in one run: matmul, conv2d, pooling, softmax/cross-entropy.

    python -m benchmarks.kernels [--threads N] [--quick]

Each family is its own module (``benchmarks/matmul.py``, ``conv.py``, ``pool.py``,
``softmax.py``), runnable alone; this runs them one after another, each in a fresh interpreter so
that the thread settings every module applies before importing NumPy and PyTorch take effect.
Every table compares native, reference, NumPy (OpenBLAS) and PyTorch CPU in the same run, as
ratios. Results and the machine go in ``benchmarks/RESULTS.md``.
"""

import argparse
import os
import subprocess
import sys

FAMILIES = ("matmul", "conv", "pool", "softmax")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kernels", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every peer")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (not for RESULTS.md)")
    parser.add_argument("--only", nargs="*", choices=FAMILIES, default=list(FAMILIES))
    args = parser.parse_args(argv)
    failed = []
    for family in args.only:
        command = [sys.executable, "-m", f"benchmarks.{family}", "--threads", str(args.threads)]
        if args.quick and family != "matmul":  # matmul has --repeat instead of --quick
            command.append("--quick")
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        if subprocess.run(command).returncode != 0:
            failed.append(family)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
