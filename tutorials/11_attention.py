# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 11 — Attention and the Transformer
#
# Chapter 10's recurrent network passes information along a chain, one step at a time. Attention
# lets every position look at every other position directly, in one matrix product. This chapter:
#
# 1. writes attention by hand, as a **soft dictionary lookup**, and draws its matrix;
# 2. adds the **causal mask** that a language model needs, and checks the hand-written version
#    against `F.scaled_dot_product_attention`;
# 3. solves three small digit tasks with a tiny **Transformer** and with an MLP of about the same
#    size, and sees where the MLP fails: when *which* position to read depends on the data;
# 4. trains a tiny **GPT** on text for a few hundred steps and samples from it.
#
# Where the code lives:
#
# | what | file |
# |---|---|
# | `F.scaled_dot_product_attention` | [`../minidl/functional/attention.py`](../minidl/functional/attention.py) |
# | `nn.MultiheadAttention` | [`../minidl/nn/attention.py`](../minidl/nn/attention.py) |
# | `nn.TransformerEncoderLayer`, `nn.TransformerEncoder` | [`../minidl/nn/transformer.py`](../minidl/nn/transformer.py) |
# | `masked_fill`, `tril` | [`../minidl/functional/masking.py`](../minidl/functional/masking.py), [`../minidl/functional/triangular.py`](../minidl/functional/triangular.py) |
# | the digit tasks (`DigitSequences`) | [`../minidl/data/sequences.py`](../minidl/data/sequences.py) |
# | the GPT, its text and sampling | [`../minidl/train/gpt.py`](../minidl/train/gpt.py), [`../minidl/train/text.py`](../minidl/train/text.py), [`../minidl/train/generate.py`](../minidl/train/generate.py) |
#
# It writes `11_attention_matrices.png` and `11_tasks.png`.

# %%
import math
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.nn.functional as F
from minidl import nn, optim
from minidl.data import DigitSequences

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)
rng = np.random.default_rng(0)
md.set_num_threads(1)  # tiny products: a second thread costs more than it brings (chapter 6)

# %% [markdown]
# ## 1. Attention as a soft dictionary lookup
#
# A Python dict maps a key to a value, and a lookup returns the value whose key *equals* the query.
# Attention softens that: it scores the query against every key with a dot product, turns the
# scores into weights with a softmax, and returns the weighted average of the values:
#
# $$\mathrm{attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V .$$
#
# Each row of the weight matrix sums to 1 and says where that query looked. Dividing by √d keeps
# the scores' spread independent of the width d, so the softmax does not saturate as d grows.
# Four keys, four values, and a query close to key 2:


# %%
def attention(q, k, v, mask=None):
    """q: (..., L, d), k: (..., S, d), v: (..., S, dv) -> (..., L, dv) and the weights (..., L, S).
    mask (L, S) bool, True = may attend."""
    scores = q @ k.mT / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: no weight at all
    weights = F.softmax(scores, dim=-1)
    return weights @ v, weights


keys = md.tensor(np.eye(4, dtype=np.float32) * 4)  # four orthogonal keys
values = md.tensor([[10.0], [20.0], [30.0], [40.0]])
query = md.tensor([[0.2, 0.1, 3.5, 0.0]])
out, w = attention(query, keys, values)
print("weights", w.numpy().round(3), "-> value", out.numpy().round(2), "(a hard lookup would give 30)")

# %% [markdown]
# In **self-attention** queries, keys and values all come from the same sequence x (L, d), through
# three learned matrices: Q = x W_q, K = x W_k, V = x W_v. Every position asks a question, and
# every position offers a key (what I am) and a value (what I say).
#
# ## 2. The causal mask
#
# A language model predicts position t+1 from positions 0..t; if position t could attend to
# position t+1 it would simply copy the answer. The **causal mask** forbids it: a lower-triangular
# boolean matrix (`md.tril`), applied by setting the forbidden scores to −∞ before the softmax.
# `F.scaled_dot_product_attention` does all of this in one op (`is_causal=True`), with the softmax
# in the native kernel and a hand-written backward. It must agree with ours, forwards and backwards:

# %%
L, d = 6, 8
q, k, v = (md.randn(2, L, d, requires_grad=True) for _ in range(3))
causal = md.tril(md.ones(L, L)).bool()
ours, weights_causal = attention(q, k, v, causal)
lib = F.scaled_dot_product_attention(q, k, v, is_causal=True)
g_ours = md.autograd.grad(ours.sum(), [q, k, v])
g_lib = md.autograd.grad(lib.sum(), [q, k, v])
print("max |ours - sdpa| output:", float(np.abs(ours.detach().numpy() - lib.detach().numpy()).max()))
print(
    "max |ours - sdpa| gradients:",
    max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(g_ours, g_lib)),
)
print("causal weights of sequence 0 (row = query, column = key):")
print(weights_causal[0].detach().numpy().round(2))

# %% [markdown]
# ## 3. What attention can do that an MLP cannot
#
# `DigitSequences` ([`data/sequences.py`](../minidl/data/sequences.py)) makes three tasks on random
# digit sequences, each with a held-out test side no training sequence comes from:
#
# - **reverse**: output the sequence backwards — a fixed permutation of the positions;
# - **sort**: output it sorted — a permutation that depends on the data;
# - **lookup**: every token is also an address; position i outputs the token at position
#   x_i mod L — *which* position to read depends on a token's value.

# %%
for task in ("reverse", "sort", "lookup"):
    x, y = DigitSequences(task, length=8, vocab=16, size=1, seed=1)[0]
    print(f"{task:8s} {x.numpy()} -> {y.numpy()}")

# %% [markdown]
# The models. The Transformer embeds each token, adds a learned vector per position (attention by
# itself does not know the order), runs two `nn.TransformerEncoderLayer`s (self-attention, then a
# small MLP, each with a residual connection and layer norm) and reads each position's answer with
# one `Linear`. The MLP sees the whole one-hot sequence at once and outputs every position's logits.
# We score **exact-sequence accuracy** on held-out sequences: all positions right.


# %%
class TinyTransformer(nn.Module):
    """(N, L) tokens -> (N, L, vocab) logits."""

    def __init__(self, vocab, length, width=64, heads=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(md.randn(length, width) * 0.1)
        layer = nn.TransformerEncoderLayer(
            width, heads, 2 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Linear(width, vocab)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x) + self.pos))


class SequenceMLP(nn.Module):
    """(N, L) tokens -> one-hot (N, L * vocab) -> two hidden layers of 256 -> (N, L, vocab)."""

    def __init__(self, vocab, length, hidden=256):
        super().__init__()
        self.vocab, self.length = vocab, length
        self.net = nn.Sequential(
            nn.Linear(length * vocab, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, length * vocab),
        )

    def forward(self, x):
        one_hot = F.one_hot(x, self.vocab).float().reshape(x.shape[0], -1)
        return self.net(one_hot).reshape(x.shape[0], self.length, self.vocab)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def train_task(model, task, length, vocab, steps):
    train = DigitSequences(task, length, vocab, size=20000, seed=0)
    test = DigitSequences(task, length, vocab, size=2000, train=False, seed=0)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x, y = train.__getitems__(rng.integers(0, len(train), 128))
        loss = F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with md.no_grad():
        x, y = test.tensors
        return (model(x).argmax(dim=-1) == y).all(dim=1).float().mean().item()


LENGTH, VOCAB, STEPS = 8, 16, 200
results, models = {}, {}
for task in ("reverse", "sort", "lookup"):
    for name, build in (("Transformer", TinyTransformer), ("MLP", SequenceMLP)):
        md.manual_seed(0)
        model = build(VOCAB, LENGTH)
        start = time.perf_counter()
        results[task, name] = train_task(model, task, LENGTH, VOCAB, STEPS)
        models[task, name] = model
        print(
            f"{task:8s} {name:12s} {n_params(model):7d} parameters, {STEPS} steps in "
            f"{time.perf_counter() - start:4.1f} s: {100 * results[task, name]:5.1f} % of held-out sequences exact"
        )

# %% [markdown]
# Reversing is a fixed wiring, which an MLP learns at once. Sorting looks harder, but an MLP can
# cheat by counting: how many of each digit there are is a *linear* function of the one-hot input,
# and the sorted sequence follows from the counts. Lookup has no such shortcut: the answer at
# position i is a product of two inputs (the address x_i and the token at that address), and the
# MLP, which shares no weights across positions, gets almost no sequence right. For attention it is
# one layer: the query says "I want position x_i mod L", the key says "I am position j".
#
# We can *see* that. Take the lookup Transformer and draw the first layer's attention
# (averaged over heads) for one test sequence: each row should look at the address its token names.

# %%
lookup_tf = models["lookup", "Transformer"]
x_test, _ = DigitSequences("lookup", LENGTH, VOCAB, size=1, train=False, seed=3)[0]
with md.no_grad():
    first = lookup_tf.encoder.layers[0]
    z = first.norm1(lookup_tf.embed(x_test[None]) + lookup_tf.pos)
    _, learned = first.self_attn(z, z, z, need_weights=True)
tokens = x_test.numpy()
print("tokens     ", tokens)
print("addresses  ", tokens % LENGTH)
print("most weight", learned[0].numpy().argmax(axis=1))

fig, (ax_c, ax_l) = plt.subplots(1, 2, figsize=(10, 4.4))
ax_c.imshow(weights_causal[0].detach().numpy(), cmap="viridis", vmin=0, vmax=1)
ax_c.set(title="causal self-attention (random q, k)", xlabel="key position", ylabel="query position")
im = ax_l.imshow(learned[0].numpy(), cmap="viridis", vmin=0, vmax=1)
ax_l.set_xticks(range(LENGTH), [f"{j}\n{t}" for j, t in enumerate(tokens)])
ax_l.set_yticks(range(LENGTH), [f"{i}: {t}→{t % LENGTH}" for i, t in enumerate(tokens)])
ax_l.set(
    title="trained on lookup: layer 1, heads averaged",
    xlabel="key position / token",
    ylabel="query: token → address",
)
fig.colorbar(im, ax=ax_l, fraction=0.046)
fig.tight_layout()
path = os.path.join(OUT, "11_attention_matrices.png")
fig.savefig(path, dpi=100)
print("wrote", path)

fig, ax = plt.subplots(figsize=(6, 3.6))
tasks = ["reverse", "sort", "lookup"]
for offset, name in ((-0.2, "Transformer"), (0.2, "MLP")):
    ax.bar(np.arange(3) + offset, [100 * results[t, name] for t in tasks], width=0.4, label=name)
ax.set_xticks(range(3), tasks)
ax.set(ylabel="held-out sequences exactly right (%)", title=f"{STEPS} training steps each", ylim=(0, 105))
ax.legend()
fig.tight_layout()
path = os.path.join(OUT, "11_tasks.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# ## 4. A tiny GPT
#
# A GPT is a stack of Transformer blocks with **causal** self-attention, trained to predict the next
# character at every position at once: the targets are the inputs shifted by one. `minidl train
# --model gpt` trains the full-size one (minutes); here we train a small one for a few hundred steps
# on the same text, the Python standard library's `pydoc_data.topics`, and sample from it. The model
# is `minidl.train.gpt.GPT` ([`gpt.py`](../minidl/train/gpt.py)): token and position embeddings,
# pre-norm blocks whose attention is `F.scaled_dot_product_attention(..., is_causal=True)`, a final
# layer norm and a linear head.

# %%
from minidl.train.generate import sample
from minidl.train.gpt import GPT
from minidl.train.text import CharCorpus

CONTEXT, GPT_STEPS = 64, 300
corpus = CharCorpus.load(None, CONTEXT)
md.manual_seed(0)
gpt = GPT(len(corpus.vocabulary), context=CONTEXT, layers=2, width=64, heads=4)
opt = optim.AdamW(gpt.parameters(), lr=3e-3)
print(
    f"{len(corpus.train_ids)} training characters, {len(corpus.vocabulary)} distinct; "
    f"GPT of {n_params(gpt)} parameters"
)
x_val, y_val = (md.tensor(a[:32]) for a in corpus.validation_set())
batches = np.random.default_rng(0)
start = time.perf_counter()
for step in range(1, GPT_STEPS + 1):
    xb, yb = (md.tensor(a) for a in corpus.batch(batches, 32))
    loss = F.cross_entropy(gpt(xb).reshape(-1, len(corpus.vocabulary)), yb.reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 100 == 0:
        with md.no_grad():
            val = F.cross_entropy(gpt(x_val).reshape(-1, len(corpus.vocabulary)), y_val.reshape(-1)).item()
        print(
            f"step {step:4d}  train {loss.item():.3f}  validation {val:.3f} nats/char  "
            f"({time.perf_counter() - start:.0f} s)"
        )
print(f"(a uniform guess is ln {len(corpus.vocabulary)} = {math.log(len(corpus.vocabulary)):.2f} nats/char)")

text = sample(gpt, corpus.vocabulary, prompt="The ", tokens=200, temperature=0.8, seed=0)
print(text)
with open(os.path.join(OUT, "11_gpt_sample.txt"), "w", encoding="utf-8") as f:
    f.write(text)

# %% [markdown]
# After a few hundred steps it has learned the letters, spaces and the commonest short words, not
# yet sense; `minidl train --model gpt` runs the full model for minutes and gets much further (and
# `minidl generate` samples from its checkpoint, with `--temperature` and `--top-k`).
#
# ## Exercises
#
# 1. Give `TinyTransformer` no position vectors (`self.pos` zero and frozen). Which of the three
#    tasks can it still learn, and why? (Hint: attention treats its input as a *set*.)
# 2. Does a wider MLP (`hidden=1024`) or ten times the steps rescue it on lookup? Count its
#    parameters against the Transformer's.
# 3. Use a single `TransformerEncoderLayer` on lookup and on sort. Sorting needs each token
#    compared with the others *and* then placed: does one layer suffice?
# 4. Sample from the GPT with `temperature` 0.3, 1.0 and 1.5, and with `top_k=5`. What changes?
