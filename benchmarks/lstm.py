"""One training step of a 2-layer LSTM, minidl vs PyTorch on the CPU, as a ratio (issue 14: <= 1.5x).

    python -m benchmarks.lstm                  # 2 threads each, 7 repeats
    python -m benchmarks.lstm --quick          # 3 repeats
    python -m benchmarks.lstm --threads 1

A step is forward + ``output.sum()`` + backward + Adam, of nn.LSTM(64, 128, num_layers=2,
batch_first=True) on a batch of 32 sequences of length 64 (float32), written the same way in both
libraries. "forward" is the forward alone under no_grad. minidl runs with its native kernels and,
for comparison, with the reference ones (``minidl.use_kernels("reference")``); PyTorch runs in a
child process, so that its OpenMP threads do not spin next to ours (see timing.py).
"""

import numpy as np

from .timing import best_time, kernel_arguments, print_timings, threads_and_repeats, torch_timings_in_child

CASES = [
    # (input size, hidden size, layers, batch, length)
    (64, 128, 2, 32, 64),
    (32, 64, 1, 16, 32),
]


def make_calls(lib, optim, no_grad, case, seed=0):
    """(forward, train step) of one case in ``lib`` (minidl or torch), on the same random input."""
    inputs, hidden, layers, batch, length = case
    lib.manual_seed(seed)
    model = lib.nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    x = lib.tensor(np.random.default_rng(seed).standard_normal((batch, length, inputs), dtype=np.float32))

    def forward():
        with no_grad():
            model(x)

    def step():
        optimizer.zero_grad()
        output, _ = model(x)
        output.sum().backward()
        optimizer.step()

    return forward, step


def torch_case(torch, case):
    return make_calls(torch, torch.optim, torch.no_grad, case)


def main() -> None:
    args = kernel_arguments(__doc__).parse_args()
    if args.torch_only:
        import torch

        torch.set_num_threads(args.threads or 2)
        repeats = args.repeats or (3 if args.quick else 7)
        print_timings(
            {case: tuple(best_time(fn, repeats) for fn in torch_case(torch, case)) for case in CASES}
        )
        return
    if args.threads is None:
        args.threads = 2
    import minidl
    import minidl.optim

    threads, repeats = threads_and_repeats(args)
    child_args = ["--threads", str(threads), "--repeats", str(repeats)]
    theirs = torch_timings_in_child("benchmarks.lstm", child_args) or {}
    print(f"nn.LSTM, batch_first, float32; {threads} threads; ms per call, best of {repeats}")
    header = f"{'I':>4} {'H':>4} {'layers':>6} {'N':>4} {'L':>4}  {'pass':<8} {'native':>9} {'reference':>9} {'torch':>9} {'nat/torch':>9}"
    print(header)
    print("-" * len(header))
    for case in CASES:
        ours = {}
        for setting in ("native", "reference"):
            with minidl.use_kernels(setting):
                calls = make_calls(minidl, minidl.optim, minidl.no_grad, case)
                ours[setting] = [best_time(fn, repeats) for fn in calls]
        for row, name in enumerate(("forward", "step")):
            native, reference = ours["native"][row], ours["reference"][row]
            torch = theirs.get(case, (None, None))[row]
            cells = " ".join(f"{v:>4}" for v in case) if row == 0 else " " * 26
            ratio = f"{native / torch:9.2f}" if torch else f"{'-':>9}"
            torch_ms = f"{torch * 1e3:9.2f}" if torch else f"{'-':>9}"
            print(
                f"{cells}  {name:<8} {native * 1e3:9.2f} {reference * 1e3:9.2f} {torch_ms} {ratio}",
                flush=True,
            )


if __name__ == "__main__":
    main()
