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
# # Chapter 8 — Generalisation
#
# A network is trained on one set of examples and judged on examples it has never seen. With
# enough weights it can simply memorise the training set: training accuracy reaches 100 % while
# test accuracy stalls far below. That is **overfitting**, and this chapter makes it happen on
# purpose — a wide MLP on a *small* part of MNIST-1D — and then tries the usual remedies, one at a
# time, with everything else fixed:
#
# 1. **L2 regularisation / weight decay**: pull every weight towards zero (`optim.AdamW`);
# 2. **dropout**: zero random activations while training (`nn.Dropout`);
# 3. **batch normalisation**: normalise each feature over the batch (`nn.BatchNorm1d`);
# 4. **data augmentation**: train on randomly shifted copies of the signals (a transform of ours).
#
# It ends with a table of final train and test accuracies and two figures.
#
# Where the code lives:
#
# - [`minidl/optim/adam.py`](../minidl/optim/adam.py), [`minidl/optim/adamw.py`](../minidl/optim/adamw.py),
#   [`minidl/optim/sgd.py`](../minidl/optim/sgd.py): `weight_decay`, coupled and decoupled
# - [`minidl/nn/dropout.py`](../minidl/nn/dropout.py) and
#   [`minidl/functional/dropout.py`](../minidl/functional/dropout.py): dropout
# - [`minidl/nn/normalization.py`](../minidl/nn/normalization.py) and
#   [`minidl/functional/norm.py`](../minidl/functional/norm.py): batch norm
# - [`minidl/data/transforms.py`](../minidl/data/transforms.py): transforms, and how a dataset
#   applies one to a whole batch (`apply_batch`)
# - [`minidl/nn/module.py`](../minidl/nn/module.py): `train()` / `eval()`, the switch that dropout
#   and batch norm read

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.functional as F
from minidl import nn
from minidl.data import MNIST1D, DataLoader, Subset

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The setting
#
# MNIST-1D has 4000 training signals; we keep a random 1000 of them, so memorising is easy, and
# test on all 1000 test signals. The model is an MLP 40 -> 256 -> 256 -> 10 with about 78,000
# weights — 78 per training example. `make_mlp` can add batch norm after each hidden `Linear` and
# dropout after each ReLU, so the variants below differ in exactly one thing.

# %%
N_TRAIN, EPOCHS, BATCH, LR = 1000, 50, 50, 3e-3
subset = rng.permutation(4000)[:N_TRAIN]
train_plain = Subset(MNIST1D(root=DATA, train=True), subset)  # for measuring: never augmented
test_set = MNIST1D(root=DATA, train=False)


def make_mlp(hidden=256, dropout=0.0, batch_norm=False):
    layers, width = [nn.Flatten()], 40
    for _ in range(2):
        layers.append(nn.Linear(width, hidden))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def evaluate(model, dataset):
    """(accuracy, mean cross-entropy) of ``model`` on ``dataset``, in eval mode, without a graph."""
    model.eval()
    with md.no_grad():
        x, y = dataset.__getitems__(np.arange(len(dataset)))  # the whole set as one batch
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        acc = (logits.argmax(dim=1) == y).float().mean().item()
    return acc, loss


def train(model, optimizer, train_set, epochs=EPOCHS):
    """Train with shuffled batches; after every epoch measure train (un-augmented) and test."""
    loader = DataLoader(train_set, batch_size=BATCH, shuffle=True, seed=0)
    history = {"train_acc": [], "test_acc": [], "train_loss": [], "test_loss": []}
    for _ in range(epochs):
        model.train()  # dropout on, batch norm uses batch statistics
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for split, dataset in (("train", train_plain), ("test", test_set)):
            acc, loss = evaluate(model, dataset)
            history[f"{split}_acc"].append(acc)
            history[f"{split}_loss"].append(loss)
    return history


runs = {}  # name -> history


def run(name, model, optimizer, train_set=train_plain):
    start = time.perf_counter()
    runs[name] = history = train(model, optimizer, train_set)
    print(
        f"{name:24s} train acc {100 * history['train_acc'][-1]:5.1f}%  test acc "
        f"{100 * history['test_acc'][-1]:5.1f}%  test loss {history['test_loss'][-1]:.2f}  "
        f"({time.perf_counter() - start:.1f} s)"
    )


# %% [markdown]
# ## 1. Overfitting
#
# Plain Adam, no regularisation. Watch the two accuracies part ways: the training accuracy climbs
# to 100 % within a few epochs while the test accuracy stops near 50 %, and the test *loss* turns
# around and grows. The network keeps becoming more confident on training examples it already
# classifies correctly, and that confidence is wrong on many test examples.

# %%
md.manual_seed(0)
model = make_mlp()
run("baseline", model, md.optim.Adam(model.parameters(), lr=LR))
base = runs["baseline"]
best = int(np.argmin(base["test_loss"]))
print(
    f"test loss was lowest after epoch {best + 1} ({base['test_loss'][best]:.2f}); "
    f"at the end it is {base['test_loss'][-1]:.2f}"
)

# %% [markdown]
# ## 2. L2 regularisation and weight decay
#
# L2 regularisation adds `(λ/2) * sum(w²)` to the loss. Its gradient is `λ w`, so every step also
# pulls each weight towards zero, and the network can only keep large weights that pay for
# themselves in the data loss. Small weights mean a smoother function, which tends to generalise.
#
# For plain SGD, adding the penalty to the loss and passing `weight_decay=λ` are the same thing
# (`sgd.py` adds `weight_decay * p` to the gradient). One step of each, from the same weights:

# %%
lam = 0.1
md.manual_seed(0)
a = make_mlp(hidden=8)
b = make_mlp(hidden=8)
b.load_state_dict(a.state_dict())
x, y = train_plain.__getitems__(np.arange(50))

loss = F.cross_entropy(a(x), y) + lam / 2 * sum((p * p).sum() for p in a.parameters())
opt_a = md.optim.SGD(a.parameters(), lr=0.1)
opt_a.zero_grad()
loss.backward()
opt_a.step()

opt_b = md.optim.SGD(b.parameters(), lr=0.1, weight_decay=lam)
opt_b.zero_grad()
F.cross_entropy(b(x), y).backward()
opt_b.step()
diff = max(
    np.abs(p.detach().numpy() - q.detach().numpy()).max() for p, q in zip(a.parameters(), b.parameters())
)
print(f"penalty in the loss vs SGD(weight_decay={lam}): max |difference| of the new weights = {diff:.1e}")

# %% [markdown]
# With Adam the two stop being the same: Adam divides each gradient by a running estimate of its
# size, so `λ w` added to the gradient is divided too, and weights with large gradients are hardly
# decayed. **AdamW** *decouples* the decay: each step first shrinks every weight by the factor
# `1 - lr * λ`, then takes Adam's step with the plain gradient (`adamw.py`, and the
# `decoupled_weight_decay` branch in `adam.py`). With our `lr = 3e-3` and `λ = 1`, a weight that
# the data does not defend loses 0.3 % per step.

# %%
md.manual_seed(0)
model = make_mlp()
run("weight decay (AdamW)", model, md.optim.AdamW(model.parameters(), lr=LR, weight_decay=1.0))

# %% [markdown]
# ## 3. Dropout
#
# Dropout zeroes each activation with probability `p` during training and scales the survivors by
# `1 / (1 - p)`, so their expected value is unchanged; in eval mode it does nothing. No unit can
# rely on one particular other unit being there, which discourages co-adapted, memorising
# features. `model.train()` and `model.eval()` (in `module.py`) set the `training` flag that
# `nn.Dropout` passes to `F.dropout`:

# %%
drop = nn.Dropout(0.5)
ones = md.ones(10)
print("train mode:", drop(ones).numpy())
drop.eval()
print("eval mode: ", drop(ones).numpy())

md.manual_seed(0)
model = make_mlp(dropout=0.5)
run("dropout 0.5", model, md.optim.Adam(model.parameters(), lr=LR))

# %% [markdown]
# ## 4. Batch normalisation
#
# `BatchNorm1d` normalises each feature to mean 0 and variance 1 over the batch, then applies a
# learned scale and shift. It was introduced to make training faster and more stable, and it does
# that here (look at the first epochs in the figure). Because a sample's output depends a little
# on which other samples share its batch, it also adds some noise while training. In eval mode it
# uses running averages of the statistics instead, so a prediction does not depend on the batch.

# %%
md.manual_seed(0)
model = make_mlp(batch_norm=True)
run("batch norm", model, md.optim.Adam(model.parameters(), lr=LR))

# %% [markdown]
# ## 5. Data augmentation
#
# The cheapest regulariser is more data. Where we know a change that does not alter the label, we
# can make new examples from old ones. An MNIST-1D digit is the same digit when it sits a few
# steps to the left or right (the dataset's generator itself places each digit at a random
# offset), so we shift each training signal by a random amount, filling with zeros, every time it
# is drawn. The network never sees exactly the same example twice.
#
# A transform is any callable on one sample (a `(1, 40)` tensor here). Giving it an `apply_batch`
# method as well lets the dataset shift a whole batch in one NumPy operation, as minidl's own
# `RandomCrop` does (`minidl/data/transforms.py`); randomness comes from minidl's generator so that
# `md.manual_seed` makes it repeatable.


# %%
class RandomShift:
    """Shift a signal (..., L) by a random whole number of steps in [-max_shift, max_shift], filling with zeros."""

    def __init__(self, max_shift):
        self.max_shift = max_shift

    def apply_batch(self, x):  # x: (N, C, L)
        signals = x.numpy()
        n, _, length = signals.shape
        m = self.max_shift
        shifts = md.random.generator().integers(-m, m + 1, size=n)
        padded = np.pad(signals, ((0, 0), (0, 0), (m, m)))
        # sample i reads padded[i, :, m - shift_i : m - shift_i + L]: its signal moved right by shift_i
        positions = (m - shifts)[:, None] + np.arange(length)  # (N, L)
        return md.tensor(np.take_along_axis(padded, positions[:, None, :], axis=2))

    def __call__(self, x):  # one sample (C, L)
        return self.apply_batch(x.unsqueeze(0))[0]


shift = RandomShift(8)
train_shifted = Subset(MNIST1D(root=DATA, train=True, transform=shift), subset)
example = train_plain[0][0]
md.manual_seed(2)
shifted_examples = [train_shifted[0][0] for _ in range(4)]  # the same sample drawn four times

md.manual_seed(0)
model = make_mlp()
run("shift augmentation", model, md.optim.Adam(model.parameters(), lr=LR), train_set=train_shifted)

# %% [markdown]
# ## Too much of a good thing
#
# If each remedy helps, why not use them all? Here are the strongest settings together: shifts,
# dropout 0.5 and weight decay 1. Watch what happens to the *training* accuracy.

# %%
md.manual_seed(0)
model = make_mlp(dropout=0.5)
run(
    "shift + dropout + decay",
    model,
    md.optim.AdamW(model.parameters(), lr=LR, weight_decay=1.0),
    train_set=train_shifted,
)

# %% [markdown]
# The gap is almost gone — but because the training accuracy fell to the test accuracy, not
# because the test accuracy rose. The model is now *underfitting*: it is held back so hard that it
# cannot learn within our 50 epochs what it could learn before. Regularisation trades one error
# for another, and its strength (the dropout rate, `λ`, how far to shift) is a setting to tune,
# on data held out from training, like the learning rate.

# %% [markdown]
# ## The results
#
# The table gives the final accuracies, the *generalisation gap* (train minus test) and the best
# test accuracy seen in any epoch. `08_generalisation.png` shows each variant's train and test
# accuracy per epoch next to the baseline's test accuracy; `08_loss_and_augmentation.png` the
# test losses and what the shift augmentation does to a signal.

# %%
print(f"{'':24s} {'train acc':>9s} {'test acc':>9s} {'gap':>6s} {'best test':>9s}")
for name, h in runs.items():
    train_acc, test_acc = 100 * h["train_acc"][-1], 100 * h["test_acc"][-1]
    print(
        f"{name:24s} {train_acc:8.1f}% {test_acc:8.1f}% {train_acc - test_acc:5.1f}  "
        f"{100 * max(h['test_acc']):8.1f}%"
    )

epochs = np.arange(1, EPOCHS + 1)
fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True, sharey=True, layout="constrained")
for ax, (name, h) in zip(axes.ravel(), runs.items()):
    if name != "baseline":
        ax.plot(epochs, runs["baseline"]["test_acc"], color="0.7", label="baseline test")
    ax.plot(epochs, h["train_acc"], "--", color="tab:blue", label="train")
    ax.plot(epochs, h["test_acc"], color="tab:red", label="test")
    ax.set_title(name)
    ax.grid(alpha=0.3)
for ax in axes[1]:
    ax.set_xlabel("epoch")
for ax in axes[:, 0]:
    ax.set_ylabel("accuracy")
axes[0, 1].legend(loc="lower right", fontsize=8)
fig.suptitle(f"An MLP on {N_TRAIN} MNIST-1D signals: train and test accuracy per epoch")
path = os.path.join(OUT, "08_generalisation.png")
fig.savefig(path, dpi=100)
print("wrote", path)

fig, (ax_loss, ax_shift) = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
for name, h in runs.items():
    ax_loss.plot(epochs, h["test_loss"], label=name)
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("test cross-entropy")
ax_loss.set_title("test loss: overfitting shows as a rise")
ax_loss.legend(fontsize=8)
ax_shift.plot(example.numpy().ravel(), "k", linewidth=2)
for i, s in enumerate(shifted_examples, start=1):
    ax_shift.plot(s.numpy().ravel() - 5 * i)  # drawn one below the other
ax_shift.set_yticks([-5 * i for i in range(5)], ["original"] + [f"draw {i}" for i in range(1, 5)])
ax_shift.set_title("one training signal as RandomShift(8) hands it out, four times")
ax_shift.set_xlabel("position")
path = os.path.join(OUT, "08_loss_and_augmentation.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# What to take away:
#
# - the baseline memorises: 100 % train accuracy, a test accuracy far below, and a test loss that
#   rises after the first few epochs;
# - weight decay and dropout narrow the gap and keep the test loss from running away, but they
#   cannot teach the MLP what it lacks;
# - batch norm mostly speeds up the start;
# - shifting the signals helps most, because it tells the model the one thing that makes MNIST-1D
#   hard for an MLP: a digit is the same digit wherever it sits. A convolutional network
#   (chapter 7) has that knowledge built in, and on all 4000 signals it scores above 90 %;
# - stacking every remedy at full strength underfits: the gap closes from below.
#
# ## Exercises
#
# 1. Repeat the baseline with `N_TRAIN = 4000` (all of the training set). How much of the gap was
#    due to the small training set? How long does the run take now?
# 2. Try `weight_decay` of 0.1, 1 and 3 with AdamW, and the same values with `Adam` (coupled L2).
#    Which setting of which optimizer gives the best test accuracy? Why do the two optimizers need
#    different values?
# 3. Early stopping: keep a copy of the weights (`model.state_dict()`) from the epoch with the
#    lowest test loss. Why should you really choose that epoch on a *validation* set split off the
#    training data (`minidl.data.random_split`), not on the test set?
# 4. Write a `RandomScale` transform that multiplies each signal by a random factor in [0.8, 1.2],
#    and chain it with `RandomShift` using `md.data.transforms.Compose`. Does it help?
