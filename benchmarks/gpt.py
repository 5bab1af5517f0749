"""One training step of ``minidl train``'s character models, minidl vs PyTorch on the CPU (issue 14:
<= 1.5x, the moonshot <= 1.0x).

    python -m benchmarks.gpt                   # 2 threads each, 7 repeats
    python -m benchmarks.gpt --quick           # 3 repeats
    python -m benchmarks.gpt --threads 1

A step is what ``minidl train --model gpt`` (or ``lstm``) does per batch: forward, cross-entropy
over every position, backward, clip_grad_norm_(1.0), AdamW; of the default configs (train/config.py):

    gpt    4 layers, 4 heads, width 128, context 128, vocabulary 103 (0.84 M parameters), batch 32
    lstm   Embedding 256, LSTM 2 x 256, Linear to 103, context 64, batch 32

The PyTorch models below are the same architectures written with torch.nn (F.scaled_dot_product_
attention, nn.LSTM), on the same random ids. "forward" is the forward and loss alone, under
no_grad. PyTorch runs in a child process so that its OpenMP threads do not spin next to ours.
"""

import numpy as np

from .timing import best_time, kernel_arguments, print_timings, threads_and_repeats, torch_timings_in_child

VOCABULARY, BATCH = 103, 32
CASES = [("gpt", 128), ("lstm", 64)]  # (model, context)


def minidl_model(name):
    from minidl.train.charlstm import CharLSTM
    from minidl.train.gpt import GPT

    return GPT(VOCABULARY) if name == "gpt" else CharLSTM(VOCABULARY)


def torch_model(torch, name):
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self, width=128, heads=4):
            super().__init__()
            self.heads = heads
            self.ln_1, self.ln_2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.mlp = nn.Sequential(
                nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width)
            )

        def forward(self, x):
            b, t, c = x.shape
            qkv = self.qkv(self.ln_1(x)).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, width=128, context=128):
            super().__init__()
            self.token, self.position = nn.Embedding(VOCABULARY, width), nn.Embedding(context, width)
            self.blocks = nn.Sequential(*(Block() for _ in range(4)))
            self.ln_f, self.head = nn.LayerNorm(width), nn.Linear(width, VOCABULARY)

        def forward(self, ids):
            x = self.token(ids) + self.position(torch.arange(ids.shape[1]))
            return self.head(self.ln_f(self.blocks(x)))

    class CharLSTM(nn.Module):
        def __init__(self, width=256):
            super().__init__()
            self.embedding = nn.Embedding(VOCABULARY, width)
            self.lstm = nn.LSTM(width, width, num_layers=2, batch_first=True)
            self.head = nn.Linear(width, VOCABULARY)

        def forward(self, ids):
            return self.head(self.lstm(self.embedding(ids))[0])

    return GPT() if name == "gpt" else CharLSTM()


def make_calls(lib, model, case, seed=0):
    """(forward, train step) of ``model`` in ``lib`` (minidl or torch) on one fixed random batch."""
    _, context = case
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.integers(0, VOCABULARY, size=(BATCH, context)))
    y = lib.tensor(rng.integers(0, VOCABULARY, size=(BATCH, context)))
    optimizer = lib.optim.AdamW(model.parameters(), lr=2e-3)
    cross_entropy, clip = lib.nn.functional.cross_entropy, lib.nn.utils.clip_grad_norm_

    def loss():
        return cross_entropy(model(x).reshape(-1, VOCABULARY), y.reshape(-1))

    def forward():
        with lib.no_grad():
            loss()

    def step():
        optimizer.zero_grad()
        loss().backward()
        clip(model.parameters(), 1.0)
        optimizer.step()

    return forward, step


def main() -> None:
    args = kernel_arguments(__doc__).parse_args()
    threads = args.threads or 2
    if args.torch_only:
        import torch

        torch.set_num_threads(threads)
        repeats = args.repeats or (3 if args.quick else 7)
        timings = {}
        for case in CASES:
            torch.manual_seed(0)
            calls = make_calls(torch, torch_model(torch, case[0]), case)
            timings[case] = tuple(best_time(fn, repeats) for fn in calls)
        print_timings(timings)
        return
    import minidl

    args.threads = threads
    threads, repeats = threads_and_repeats(args)
    theirs = (
        torch_timings_in_child("benchmarks.gpt", ["--threads", str(threads), "--repeats", str(repeats)]) or {}
    )
    print(
        f"character models of minidl train, batch {BATCH}, float32; {threads} threads; ms per call, best of {repeats}"
    )
    header = f"{'model':<6} {'T':>4}  {'pass':<8} {'minidl':>9} {'torch':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for case in CASES:
        minidl.manual_seed(0)
        ours = [best_time(fn, repeats) for fn in make_calls(minidl, minidl_model(case[0]), case)]
        for row, name in enumerate(("forward", "step")):
            torch = theirs.get(case, (None, None))[row]
            cells = f"{case[0]:<6} {case[1]:>4}" if row == 0 else " " * 11
            torch_ms = f"{torch * 1e3:9.1f}" if torch else f"{'-':>9}"
            ratio = f"{ours[row] / torch:7.2f}" if torch else f"{'-':>7}"
            print(f"{cells}  {name:<8} {ours[row] * 1e3:9.1f} {torch_ms} {ratio}", flush=True)


if __name__ == "__main__":
    main()
