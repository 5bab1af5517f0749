"""Attention speed: F.scaled_dot_product_attention, nn.MultiheadAttention and one
nn.TransformerEncoderLayer, forward and forward + backward, minidl (native and reference kernels)
vs PyTorch (CPU), float32.

    python -m benchmarks.attention --threads 2            # the issue's setting: 2 threads each
    python -m benchmarks.attention --threads 2 --quick    # fewer repeats
    python -m benchmarks.attention --threads 2 --repeats 30   # on a busy machine: the best of many

Cases (batch-first shapes):
    sdpa         q, k, v (8, 4, 128, 32): B=8, heads=4, L=S=128, d=32 (the issue's target: <= 1.5x)
    sdpa causal  the same with is_causal=True
    mha          MultiheadAttention(128, 4, batch_first=True), self-attention on x (8, 128, 128),
                 need_weights=False (the path a Transformer takes)
    encoder      TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0, batch_first=True)
                 on x (8, 128, 128)
The forward + backward pass backpropagates a fixed random gradient of the output into the
inputs and, for the layers, the parameters. PyTorch runs in a child process (benchmarks/timing.py
says why); the weights differ between the two (timings do not depend on them).
"""

import numpy as np

import minidl as md

from . import timing
from .table import Table

B, H, L, D = 8, 4, 128, 32
E = H * D
CASES = ("sdpa", "sdpa causal", "mha", "encoder")


def _case(lib, name, rng, no_grad):
    """(forward, forward + backward) calls of case ``name`` for ``lib`` (minidl or torch)."""
    nn, F = lib.nn, lib.nn.functional

    def leaf(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    if name.startswith("sdpa"):
        q, k, v = leaf(B, H, L, D), leaf(B, H, L, D), leaf(B, H, L, D)
        causal = name.endswith("causal")
        leaves = [q, k, v]

        def run():
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    else:
        x = leaf(B, L, E)
        if name == "mha":
            layer = nn.MultiheadAttention(E, H, batch_first=True)

            def run():
                return layer(x, x, x, need_weights=False)[0]

        else:
            layer = nn.TransformerEncoderLayer(E, H, 4 * E, dropout=0.0, batch_first=True)

            def run():
                return layer(x)

        leaves = [x, *layer.parameters()]
    grad = lib.tensor(
        rng.standard_normal((B, H, L, D) if name.startswith("sdpa") else (B, L, E)).astype(np.float32)
    )
    return timing.forward_and_backward(run, leaves, grad, no_grad)


def torch_timings(threads, repeats):
    """{(case,): (forward, forward + backward) seconds} for PyTorch; None without it."""
    return timing.torch_timings(
        threads,
        [(name,) for name in CASES],
        lambda torch, key: _case(torch, key[0], np.random.default_rng(0), torch.no_grad),
        lambda fn: timing.best_time(fn, repeats),
    )


def main(argv=None):
    args = timing.kernel_arguments(__doc__).parse_args(argv)
    threads, repeats = timing.threads_and_repeats(args)
    if args.torch_only:
        timing.print_timings(torch_timings(threads, repeats))
        return
    torch_all = timing.torch_timings_in_child(
        "benchmarks.attention", ["--threads", str(threads), "--repeats", str(repeats)]
    )
    print(f"attention benchmark, float32, {threads} thread(s); times in ms (wall clock), best of {repeats}")
    table = Table({"case": 12, "shape": 16}, {"native": 8, "reference": 10, "torch": 8})
    table.print_header()
    for name in CASES:
        times = {}
        for setting in ("native", "reference"):
            with md.use_kernels(setting):
                fwd, fwd_bwd = _case(md, name, np.random.default_rng(0), md.no_grad)
                times[setting] = (timing.best_time(fwd, repeats), timing.best_time(fwd_bwd, repeats))
        if torch_all is not None:
            times["torch"] = torch_all[(name,)]
        shape = f"{B}x{H}x{L}x{D}" if name.startswith("sdpa") else f"{B}x{L}x{E}"
        table.print_case([name, shape], times)


if __name__ == "__main__":
    main()
