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
# # Chapter 10 — Recurrent networks
#
# An MLP or a CNN sees an input of fixed size. Text, speech and time series come as sequences of
# any length, and a **recurrent network** reads them one step at a time, carrying a hidden state
# h_t from each step to the next. This chapter:
#
# 1. writes a recurrent step by hand (a matmul and a tanh) and **unrolls** it over a sequence;
# 2. runs **backpropagation through time** and *measures* how the gradient reaching each earlier
#    step shrinks: the **vanishing gradient**, for a plain tanh RNN and for an LSTM;
# 3. explains the **LSTM's gates** and checks a hand-written LSTM step against `nn.LSTMCell`;
# 4. trains `nn.RNN` and `nn.LSTM` on a task that needs a long memory.
#
# Where the code lives:
#
# | what | file |
# |---|---|
# | `nn.RNN`, `nn.LSTM`, `nn.GRU` and the cells | [`../minidl/nn/rnn.py`](../minidl/nn/rnn.py) |
# | one fused op per layer: the loop over time and its backward | [`../minidl/functional/recurrent.py`](../minidl/functional/recurrent.py) |
# | `clip_grad_norm_` | [`../minidl/nn/utils.py`](../minidl/nn/utils.py) |
# | `autograd.grad` (the gradient w.r.t. any tensor of the graph) | [`../minidl/autograd/engine.py`](../minidl/autograd/engine.py) |
#
# It writes `10_gradient_norms.png` (the measured vanishing gradient) and `10_memory_task.png`.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.nn.functional as F
from minidl import nn, optim

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)
rng = np.random.default_rng(0)
md.set_num_threads(1)  # tiny products: a second thread costs more than it brings (chapter 6)

# %% [markdown]
# ## 1. One step, then the whole sequence
#
# A recurrent step mixes the new input x_t with the previous state h_{t-1}:
#
# $$h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}).$$
#
# The *same* weights are used at every step, so one small set of parameters handles any length.
# Unrolling is just a Python loop. `nn.RNN` does the same computation, so with its weights our loop
# must give its outputs:

# %%
IN, H, T, N = 3, 5, 7, 2
rnn = nn.RNN(IN, H)  # input (T, N, IN), PyTorch's layout
x = md.randn(T, N, IN)
W_ih, W_hh, b_ih, b_hh = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0


def rnn_step(x_t, h):
    return md.tanh(x_t @ W_ih.mT + b_ih + h @ W_hh.mT + b_hh)


h = md.zeros(N, H)
by_hand = []
for t in range(T):
    h = rnn_step(x[t], h)
    by_hand.append(h)
out, h_n = rnn(x)
print("output", tuple(out.shape), " h_n", tuple(h_n.shape))
print("max |loop - nn.RNN| =", float(np.abs(md.stack(by_hand).detach().numpy() - out.detach().numpy()).max()))

# %% [markdown]
# ## 2. Backpropagation through time, and the vanishing gradient
#
# Unrolled, the RNN is just a deep network with shared weights, T layers deep, and backprop runs
# through it like through any other graph: this is **backpropagation through time** (BPTT). The
# gradient that reaches step t from a loss at the end is a product of one Jacobian per later step,
#
# $$\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}\prod_{s=t+1}^{T}
#   \mathrm{diag}(1 - h_s^2)\, W_{hh},$$
#
# and a product of many matrices that shrink vectors goes to zero geometrically. Then the loss
# cannot tell the early steps what to change: the network cannot learn long-range dependencies.
#
# Let us measure it. We run 60 steps, put a loss on the *last* state only, and ask autograd for
# ∂L/∂h_t at every step (`md.autograd.grad` accepts any tensor of the graph as an input).

# %%
T_LONG, H, N = 60, 32, 16


def gradient_norms(step, state, x):
    """||dL/dh_t|| per step t for a loss on the last state; ``step(x_t, state) -> state``, whose
    first element (or itself) is h_t."""
    hs = []
    for t in range(x.shape[0]):
        state = step(x[t], state)
        hs.append(state[0] if isinstance(state, tuple) else state)
    loss = (hs[-1] * md.tensor(readout)).sum()  # a fixed random readout of the last state
    grads = md.autograd.grad(loss, hs)
    return np.array([np.linalg.norm(g.numpy()) / N for g in grads])


readout = rng.standard_normal((N, H)).astype(np.float32)
x_long = md.randn(T_LONG, N, 8)
md.manual_seed(0)
cell_rnn = nn.RNNCell(8, H)
cell_lstm = nn.LSTMCell(8, H)
zeros = md.zeros(N, H)
norms = {
    "tanh RNN": gradient_norms(cell_rnn, zeros, x_long),
    "LSTM": gradient_norms(cell_lstm, (zeros, zeros), x_long),
}


# %% [markdown]
# ## 3. The LSTM's gates
#
# The LSTM (Hochreiter & Schmidhuber, 1997) keeps a second state, the **cell** c_t, and changes it
# only by *adding*, under the control of three gates, each a sigmoid in (0, 1) computed from x_t
# and h_{t-1}:
#
# - the **forget gate** f: how much of the old cell to keep,
# - the **input gate** i and the candidate g = tanh(…): what to write,
# - the **output gate** o: how much of the cell to show as h_t.
#
# $$c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).$$
#
# Along the cell, ∂c_t/∂c_{t-1} is just f: no weight matrix, no tanh'. When the network keeps f
# near 1, gradient flows back over many steps. Here is one step by hand (PyTorch's gate order
# i, f, g, o in the stacked weights), against `nn.LSTMCell`:


# %%
def lstm_step(cell, x_t, h, c):
    z = x_t @ cell.weight_ih.mT + cell.bias_ih + h @ cell.weight_hh.mT + cell.bias_hh
    i, f, g, o = z.chunk(4, dim=1)
    c = md.sigmoid(f) * c + md.sigmoid(i) * md.tanh(g)
    return md.sigmoid(o) * md.tanh(c), c


h0, c0 = md.randn(N, H), md.randn(N, H)
h_hand, c_hand = lstm_step(cell_lstm, x_long[0], h0, c0)
h_lib, c_lib = cell_lstm(x_long[0], (h0, c0))
print(
    "max |hand-written LSTM step - nn.LSTMCell| =",
    float(np.abs(h_hand.detach().numpy() - h_lib.detach().numpy()).max()),
)

# %% [markdown]
# With PyTorch's initialisation the gate biases start near 0, so f ≈ sigmoid(0) = 0.5 and the cell
# halves every step: the gradient vanishes at first, like the RNN's. A common remedy is to start the
# forget gate's bias high, so the LSTM *begins* by remembering. In the stacked bias the forget gate
# is the second quarter. We measure all three:


# %%
def open_forget_gate(bias_ih, bias_hh, value):
    """Set the forget gate's share of the bias (rows H..2H of the stacked i, f, g, o) to ``value``."""
    hidden = bias_hh.shape[0] // 4
    with md.no_grad():
        b = bias_hh.detach().numpy().copy()
        b[hidden : 2 * hidden] = value
        bias_hh.copy_(md.tensor(b))
        b = bias_ih.detach().numpy().copy()
        b[hidden : 2 * hidden] = 0.0
        bias_ih.copy_(md.tensor(b))


open_forget_gate(cell_lstm.bias_ih, cell_lstm.bias_hh, 3.0)  # sigmoid(3) = 0.95
norms["LSTM, forget bias 3"] = gradient_norms(cell_lstm, (zeros, zeros), x_long)
for name, n in norms.items():
    print(f"{name:20s} ||dL/dh_t|| at t = T: {n[-1]:.2e}   t = T-20: {n[-21]:.2e}   t = 1: {n[0]:.2e}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, n in norms.items():
    ax.semilogy(np.arange(1, T_LONG + 1), n, label=name)
ax.set(
    xlabel="time step t (the loss is at t = 60)",
    ylabel="||∂L/∂h_t|| (per sample)",
    title="backprop through time: the gradient reaching each step (measured)",
)
ax.legend()
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
path = os.path.join(OUT, "10_gradient_norms.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# The plain RNN's gradient falls by orders of magnitude within a few dozen steps; the LSTM with the
# default biases falls too (its f is 0.5), and with the forget gate open the gradient reaching step
# 1 is many orders of magnitude larger. The gates are learned, so training can open and close this
# path as the data needs.
#
# ## 4. `nn.RNN` and `nn.LSTM` on a task that needs memory
#
# The library layers run the whole loop in one op
# ([`functional/recurrent.py`](../minidl/functional/recurrent.py)): the input projection of every
# step in one matmul, then one small matmul and the gate arithmetic per step, and a backward that
# walks the steps in reverse. Their parameters are PyTorch's (`weight_ih_l0`, …, gates i, f, g, o),
# so a PyTorch `state_dict` loads unchanged.
#
# The task: a sequence of T random symbols (one-hot, 8 kinds); after the last one, say which symbol
# came **first**. Everything after step 1 is noise to be ignored, and the answer must be carried
# across all T steps. Chance is 1/8. Gradient clipping (`clip_grad_norm_`) keeps the occasional
# exploding step in check.

# %%
SYMBOLS, T_TASK, STEPS = 8, 40, 600


def memory_batch(rng, n):
    s = rng.integers(0, SYMBOLS, (n, T_TASK))
    x = np.eye(SYMBOLS, dtype=np.float32)[s].transpose(1, 0, 2)  # (T, N, SYMBOLS)
    return md.tensor(np.ascontiguousarray(x)), md.tensor(s[:, 0])


def train_memory(kind):
    md.manual_seed(0)
    rng = np.random.default_rng(0)
    layer = nn.RNN(SYMBOLS, H) if kind == "RNN" else nn.LSTM(SYMBOLS, H)
    if kind == "LSTM":
        open_forget_gate(layer.bias_ih_l0, layer.bias_hh_l0, 3.0)
    head = nn.Linear(H, SYMBOLS)
    params = list(layer.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=1e-2)
    losses, start = [], time.perf_counter()
    for _ in range(STEPS):
        x, y = memory_batch(rng, 64)
        out, _ = layer(x)
        loss = F.cross_entropy(head(out[-1]), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
    x, y = memory_batch(np.random.default_rng(1), 2000)  # fresh sequences
    with md.no_grad():
        out, _ = layer(x)
        acc = (head(out[-1]).argmax(dim=1) == y).float().mean().item()
    print(
        f"{kind:5s} T={T_TASK}: {STEPS} steps in {time.perf_counter() - start:4.1f} s, "
        f"final loss {losses[-1]:.3f}, accuracy on new sequences {100 * acc:.1f} % (chance 12.5 %)"
    )
    return losses


curves = {kind: train_memory(kind) for kind in ("RNN", "LSTM")}

fig, ax = plt.subplots(figsize=(7, 4))
for kind, losses in curves.items():
    ax.plot(np.convolve(losses, np.ones(20) / 20, mode="valid"), label=kind)
ax.axhline(np.log(SYMBOLS), color="gray", ls="--", lw=0.8)
ax.text(5, np.log(SYMBOLS) + 0.05, "chance: ln 8", color="gray", fontsize=8)
ax.set(
    xlabel="training step",
    ylabel="cross-entropy (moving average of 20)",
    title=f"recall the first of {T_TASK} symbols",
)
ax.legend()
fig.tight_layout()
path = os.path.join(OUT, "10_memory_task.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# The RNN stays at chance: the signal from step 1 is gone long before the loss, and so is the
# gradient that would teach it to keep it. The LSTM learns the task, through its cell.
#
# Recurrence has a second cost: step t cannot start before step t−1 is done, so a long sequence is
# a long chain of small sequential matmuls. Chapter 11's attention looks at all positions at once.
#
# ## Exercises
#
# 1. Repeat the gradient measurement with `nn.RNNCell(8, H, nonlinearity="relu")`. Does the
#    gradient still vanish, or can it explode? Multiply the RNN's `weight_hh` by 3 and look again.
# 2. Train the memory task with the LSTM's default forget bias (skip `open_forget_gate`). How many
#    steps does it need now? Try `T_TASK = 10` and `20` for the RNN: where does it stop learning?
# 3. Replace `nn.LSTM` with `nn.GRU` (gates r, z, n). How does it do on the memory task, with
#    no bias trick?
# 4. Remove `clip_grad_norm_` and plot the gradient norm of each training step. Are there spikes?
