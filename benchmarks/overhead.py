"""Per-op overhead: the time of ops on tiny tensors, where the arithmetic is nothing and what is
measured is the framework (argument checks, type promotion, Function.apply, the graph, the
engine). minidl and PyTorch in the same run, as a ratio.

    python -m benchmarks.overhead                 # this checkout
    python -m benchmarks.overhead --repeats 15    # more runs: the best is kept

To compare two versions of minidl, run it with each on ``PYTHONPATH`` in turn, alternating, on a
quiet machine: the ratio to PyTorch in the same run is what to compare.
"""

import argparse
import time

from .timing import best_time

CASES = {
    # name: (setup, statement), written once for both frameworks: ``lib`` is minidl or torch
    "a + b": ("a = lib.randn(4); b = lib.randn(4)", "a + b"),
    "a * 2.0": ("a = lib.randn(4)", "a * 2.0"),
    "int32 + 0.5": ("a = lib.ones(4, dtype=lib.int32)", "a + 0.5"),
    "x.sum()": ("x = lib.randn(4, 4)", "x.sum()"),
    "x.relu()": ("x = lib.randn(4, 4)", "x.relu()"),
    "x[1:3]": ("x = lib.randn(4, 4)", "x[1:3]"),
    "(w * b).sum().backward()": (
        "w = lib.randn(4, requires_grad=True); b = lib.randn(4)",
        "(w * b).sum().backward()",
    ),
}


def time_case(lib, setup: str, statement: str, repeats: int) -> float:
    scope = {"lib": lib}
    exec(setup, scope)
    code = compile(statement, "<overhead>", "exec")
    return best_time(lambda: exec(code, scope), repeats, clock=time.process_time)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import minidl

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(f"minidl from {minidl.__file__}; CPU time per call (us), best of {args.repeats}")
    print(f"{'op':28s} {'minidl':>9s} {'PyTorch':>9s} {'ratio':>7s}")
    for name, (setup, statement) in CASES.items():
        ours = time_case(minidl, setup, statement, args.repeats) * 1e6
        theirs = time_case(torch, setup, statement, args.repeats) * 1e6 if torch is not None else float("nan")
        print(f"{name:28s} {ours:9.2f} {theirs:9.2f} {ours / theirs:7.2f}")


if __name__ == "__main__":
    main()
