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
# # Chapter 4 — From linear regression to an MLP
#
# Chapters 1–3 built tensors, autograd and the tools to check gradients. Here we put them to work
# and train models, one small step at a time:
#
# 1. **Linear regression** by gradient descent, first with bare tensors and a hand-written update,
#    then with the pieces a real training loop uses: `nn.Linear`, `nn.MSELoss`, `optim.SGD`.
# 2. **Classification**: softmax regression and the cross-entropy loss, and why it is computed
#    as `log_softmax` followed by the negative log-likelihood instead of `log(softmax(z))`.
# 3. **A multi-layer perceptron** (40-100-100-10) on MNIST-1D, fed by a `DataLoader`, against the
#    linear classifier on the same data.
#
# Where the code lives:
#
# | what | file |
# |---|---|
# | `nn.Linear` (y = x Wᵀ + b) | [`../minidl/nn/linear.py`](../minidl/nn/linear.py) |
# | `nn.MSELoss`, `nn.CrossEntropyLoss` | [`../minidl/nn/loss.py`](../minidl/nn/loss.py) → [`../minidl/functional/loss.py`](../minidl/functional/loss.py) |
# | `log_softmax` (and its C++ kernel) | [`../minidl/functional/activation.py`](../minidl/functional/activation.py), [`../csrc/cpu/softmax.cpp`](../csrc/cpu/softmax.cpp) |
# | `optim.SGD`, `optim.Adam` | [`../minidl/optim/sgd.py`](../minidl/optim/sgd.py), [`../minidl/optim/adam.py`](../minidl/optim/adam.py) |
# | `DataLoader`, `MNIST1D` | [`../minidl/data/dataloader.py`](../minidl/data/dataloader.py), [`../minidl/data/mnist1d.py`](../minidl/data/mnist1d.py) |
#
# The chapter ends with `mlp_curves.png` (training curves of both classifiers) and a printed table.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
from minidl import nn, optim
from minidl.data import MNIST1D, DataLoader

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)

md.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# One practical note before we start. Every matrix product in this chapter is tiny (a batch of
# 100 signals times a 40×100 weight). Our C++ matmul splits a product over both cores when it is
# large enough, but for products this small the cost of waking the second thread and waiting for
# it is about as large as the work itself, and on a machine that is busy with other programs the
# wait can be much longer. So the small models of this chapter run their kernels on one thread.
# Chapter 6 measures threads properly.

# %%
md.set_num_threads(1)

# %% [markdown]
# ## 1. Linear regression with bare tensors
#
# We make data with a known answer: inputs x ∈ ℝ³, targets y = x·w* + b* plus a little noise.
# The model is ŷ = x w + b, and the loss is the mean squared error
#
# $$L(w, b) = \frac{1}{N}\sum_{n=1}^{N} (x_n w + b - y_n)^2 .$$
#
# Gradient descent repeats one move: compute L, let autograd fill `w.grad` and `b.grad`, and step
# against the gradient, w ← w − η ∂L/∂w. The update is done under `md.no_grad()` (it is not part of
# the model, so it must not be recorded), and the gradients are cleared afterwards, because
# `backward()` *adds* into `.grad`.

# %%
N = 256
true_w = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)
true_b = 0.3
x_np = rng.standard_normal((N, 3)).astype(np.float32)
y_np = x_np @ true_w + true_b + 0.1 * rng.standard_normal((N, 1)).astype(np.float32)
x, y = md.tensor(x_np), md.tensor(y_np)

w = md.zeros(3, 1, requires_grad=True)
b = md.zeros(1, requires_grad=True)
lr = 0.1
for step in range(101):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with md.no_grad():
        w.sub_(lr * w.grad)
        b.sub_(lr * b.grad)
    w.grad = None
    b.grad = None
    if step % 25 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

print("learned w:", np.round(w.detach().numpy().ravel(), 3), " b:", round(b.item(), 3))
print("true    w:", true_w.ravel(), " b:", true_b)

# %% [markdown]
# The loss levels off at about 0.0075, close to the variance of the noise we added (0.1² = 0.01,
# and a little less on this particular sample): no line can fit the noise, so that is as good as
# it gets. For a linear model we can also solve the least-squares problem directly, and gradient
# descent should land on the same answer:

# %%
X1 = np.hstack([x_np, np.ones((N, 1), np.float32)])  # a column of ones carries the bias
closed_form = np.linalg.lstsq(X1, y_np, rcond=None)[0].ravel()
print("least squares w, b:", np.round(closed_form, 3))

# %% [markdown]
# ## 2. The same model with `nn.Linear`, `nn.MSELoss` and `optim.SGD`
#
# The loop above has three parts that every training loop has, and minidl (like PyTorch) gives
# each one a name:
#
# - the **model**: `nn.Linear(3, 1)` holds `weight` (1×3, one row per output) and `bias`, both
#   `Parameter`s, and computes `x @ weight.mT + bias`
#   ([`linear.py`](../minidl/nn/linear.py));
# - the **loss**: `nn.MSELoss()` is the mean of the squared differences;
# - the **optimizer**: `optim.SGD(model.parameters(), lr)` does the `p -= lr * p.grad` for every
#   parameter, and `zero_grad()` clears the gradients
#   ([`sgd.py`](../minidl/optim/sgd.py)).

# %%
md.manual_seed(0)
model = nn.Linear(3, 1)
loss_fn = nn.MSELoss()
opt = optim.SGD(model.parameters(), lr=0.1)
print(model)
for _ in range(101):
    loss = loss_fn(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"after 101 steps: loss {loss.item():.4f}")
print(
    "weight:",
    np.round(model.weight.detach().numpy().ravel(), 3),
    " bias:",
    np.round(model.bias.detach().numpy(), 3),
)

# %% [markdown]
# Same answer, and the loop no longer knows how many parameters the model has. That is what lets
# the *same* four lines (`model(x)`, loss, `zero_grad`/`backward`, `step`) train an MLP below.
#
# ## 3. Classification: softmax and cross-entropy
#
# For K classes, a linear classifier outputs K numbers per sample, the **logits** z = x W + b.
# Softmax turns them into probabilities, and we want the probability of the right class y to be
# high, so we minimise its negative log:
#
# $$p_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \qquad
#   L = -\log p_y = -z_y + \log \sum_j e^{z_j} .$$
#
# This is **softmax regression** (multinomial logistic regression); with two classes and logits
# (z, 0) it is exactly ordinary logistic regression, since e^z / (e^z + 1) = σ(z):

# %%
z = md.tensor([[2.0, 0.0]])
print(
    "softmax of (2, 0):",
    md.softmax(z, dim=1).numpy().round(4),
    "  sigmoid(2):",
    round(md.sigmoid(md.tensor(2.0)).item(), 4),
)

# %% [markdown]
# ### Why `log_softmax`, not `log(softmax(z))`
#
# Computed literally, eᶻ overflows float32 for z above about 88, and the probability of a class far
# behind the winner rounds to 0, whose log is −∞. Logits of a few hundred are not exotic in a
# confident network. The fix is the log-sum-exp identity: subtracting any constant m from every
# logit does not change the softmax, and with m = max_j z_j every exponent is ≤ 0, so nothing
# overflows:
#
# $$\log p_k = (z_k - m) - \log \sum_j e^{z_j - m}.$$
#
# `md.log_softmax` computes exactly this (in C++, in
# [`csrc/cpu/softmax.cpp`](../csrc/cpu/softmax.cpp), with the NumPy twin in
# [`backend/reference.py`](../minidl/backend/reference.py)), never the log of a rounded-off
# probability:

# %%
z = md.tensor([[1000.0, 0.0, -1000.0]])
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive = (z.exp() / z.exp().sum(dim=1, keepdim=True)).log()
print("log(softmax(z)) computed literally:", naive.numpy())
print("md.log_softmax(z):                 ", md.log_softmax(z, dim=1).numpy())

zn = z.numpy()
m = zn.max(axis=1, keepdims=True)
print("by hand, (z - m) - log sum exp(z - m):", (zn - m) - np.log(np.exp(zn - m).sum(axis=1, keepdims=True)))

# %% [markdown]
# The loss is then the **negative log-likelihood** of the right class: pick −log p_y out of each
# row and average. `F.cross_entropy(z, y)` (and `nn.CrossEntropyLoss`) is precisely
# `F.nll_loss(F.log_softmax(z, dim=1), y)`, which is why a classifier ends in raw logits, with no
# softmax layer of its own.
#
# The gradient is as simple as it gets: ∂L/∂z = p − onehot(y), the predicted distribution minus
# the target one (divided by N for the batch mean). Autograd agrees:

# %%
F = nn.functional
logits = md.randn(4, 3, requires_grad=True)
labels = md.tensor([0, 2, 1, 2])
ce = F.cross_entropy(logits, labels)
nll = F.nll_loss(F.log_softmax(logits, dim=1), labels)
print(f"cross_entropy {ce.item():.6f}   nll_loss(log_softmax) {nll.item():.6f}")

ce.backward()
p = md.softmax(logits.detach(), dim=1).numpy()
onehot = np.eye(3, dtype=np.float32)[labels.numpy()]
print("max |autograd - (p - onehot)/N| =", float(np.abs(logits.grad.numpy() - (p - onehot) / 4).max()))

# %% [markdown]
# ## 4. MNIST-1D: a linear classifier and an MLP
#
# MNIST-1D ([`data/mnist1d.py`](../minidl/data/mnist1d.py)) is ten digit shapes drawn as 1-D
# signals of 40 samples, shifted, scaled, sheared and noised: 4000 for training, 1000 for testing.
# It is generated on this machine the first time (a few seconds) and cached in `MINIDL_DATA`.
# It is small enough to train on in seconds, yet a linear model, an MLP and a CNN score very
# differently on it (the paper: about 32 %, 68 % and 94 %).
#
# A `DataLoader` ([`data/dataloader.py`](../minidl/data/dataloader.py)) cuts the training set into
# shuffled batches of 100, a fresh order every epoch. Each batch is `x` (100, 1, 40) and `y` (100,).

# %%
t0 = time.perf_counter()
train_set = MNIST1D(root=DATA, train=True)
test_set = MNIST1D(root=DATA, train=False)
print(train_set)
print(test_set)
print(f"(ready in {time.perf_counter() - t0:.1f} s)")

loader = DataLoader(train_set, batch_size=100, shuffle=True, seed=0)
xb, yb = next(iter(loader))
print("one batch:", tuple(xb.shape), xb.dtype, tuple(yb.shape), yb.dtype, "labels", yb.numpy()[:10], "...")

# %%
fig, axes = plt.subplots(2, 5, figsize=(12, 3.6), sharex=True, sharey=True)
for digit, ax in enumerate(axes.ravel()):
    i = int(np.flatnonzero(train_set.labels == digit)[0])
    signal, _ = train_set[i]
    ax.plot(signal.numpy().ravel(), color="C0")
    ax.set_title(f"digit {digit}", fontsize=9)
fig.suptitle("one MNIST-1D training signal per class")
fig.tight_layout()
fig.savefig(os.path.join(OUT, "mnist1d_examples.png"), dpi=90)
print("wrote", os.path.join(OUT, "mnist1d_examples.png"))

# %% [markdown]
# The two models. Both start with `nn.Flatten()`, which turns (batch, 1, 40) into (batch, 40).
# The linear one is a single `Linear(40, 10)`: softmax regression, exactly section 3. The MLP puts
# two hidden layers of 100 units with ReLU, max(0, h), between input and output. Without the
# ReLUs the three layers would multiply out to one linear map and gain nothing; with them, the
# network can carve the input space into many linear pieces. The MLP is the one `minidl train
# --model mlp` trains, so we take it from there,
# [`../minidl/train/models.py`](../minidl/train/models.py) (`mnist1d_mlp`: an `nn.Sequential`,
# printed below layer by layer).

# %%
from minidl.train.models import mnist1d_mlp as mlp_model


def logistic_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(40, 10))


def n_params(model):
    return sum(p.numel() for p in model.parameters())


print(mlp_model())
print("parameters: logistic", n_params(logistic_model()), " MLP", n_params(mlp_model()))

# %% [markdown]
# The training loop is the one from section 2, with `nn.CrossEntropyLoss` and batches from the
# loader. We use the MNIST-1D paper's optimizer, Adam with learning rate 10⁻² (chapter 5 explains
# what Adam does differently from SGD). Accuracy is measured with recording off (`md.no_grad()`)
# and the model in eval mode; `argmax` over the logits is the predicted class.


# %%
def accuracy(model, dataset):
    model.eval()
    correct = 0
    with md.no_grad():
        for xb, yb in DataLoader(dataset, batch_size=1000):
            correct += int((model(xb).argmax(dim=1) == yb).sum().item())
    model.train()
    return correct / len(dataset)


def train(model, epochs, lr=1e-2, seed=0):
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(train_set, batch_size=100, shuffle=True, seed=seed)
    history = {"loss": [], "train_acc": [], "test_acc": []}
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * yb.shape[0]
        history["loss"].append(total / len(train_set))
        history["train_acc"].append(accuracy(model, train_set))
        history["test_acc"].append(accuracy(model, test_set))
    return history


EPOCHS = 30
results = {}
for name, build in (("logistic", logistic_model), ("MLP", mlp_model)):
    md.manual_seed(0)
    model = build()
    t0 = time.perf_counter()
    results[name] = train(model, EPOCHS)
    h = results[name]
    print(
        f"{name:8s} {EPOCHS} epochs in {time.perf_counter() - t0:4.1f} s: train loss {h['loss'][-1]:.3f}, "
        f"train acc {100 * h['train_acc'][-1]:.1f} %, test acc {100 * h['test_acc'][-1]:.1f} %"
    )

# %% [markdown]
# ## 5. What we got
#
# A table of the final numbers next to the paper's, and the curves, epoch by epoch.

# %%
paper = {"logistic": 32, "MLP": 68}
print(f"{'model':10s} {'params':>7s} {'train acc':>10s} {'test acc':>9s} {'best test':>10s} {'paper':>6s}")
for name, h in results.items():
    params = n_params(logistic_model() if name == "logistic" else mlp_model())
    print(
        f"{name:10s} {params:7d} {100 * h['train_acc'][-1]:9.1f}% {100 * h['test_acc'][-1]:8.1f}% "
        f"{100 * max(h['test_acc']):9.1f}% {paper[name]:5d}%"
    )
print(f"{'chance':10s} {'':7s} {'':10s} {10.0:8.1f}%")

epochs = np.arange(1, EPOCHS + 1)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
for (name, h), color in zip(results.items(), ("C0", "C1")):
    ax_loss.plot(epochs, h["loss"], color=color, label=name)
    ax_acc.plot(epochs, 100 * np.array(h["test_acc"]), color=color, label=f"{name} test")
    ax_acc.plot(epochs, 100 * np.array(h["train_acc"]), color=color, ls=":", label=f"{name} train")
    ax_acc.axhline(paper[name], color=color, lw=0.8, ls="--")
ax_acc.axhline(10, color="gray", lw=0.8, ls="--")
ax_acc.text(1, 11, "chance", color="gray", fontsize=8)
ax_loss.set(xlabel="epoch", ylabel="mean training cross-entropy", title="training loss", yscale="log")
ax_acc.set(
    xlabel="epoch", ylabel="accuracy (%)", title="accuracy (dashed: the paper's test accuracy)", ylim=(0, 100)
)
ax_loss.legend()
ax_acc.legend(fontsize=8, loc="center right")
fig.tight_layout()
path = os.path.join(OUT, "mlp_curves.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# Reading the curves: the linear classifier levels off around a third of the test signals, well
# above chance (10 %) but limited by being linear. The MLP's training accuracy keeps climbing
# towards 100 % while its test accuracy stops in the 60s: it is **overfitting**, memorising the
# 4000 training signals rather than learning what a shifted "3" looks like. A convolutional
# network, which shares its weights along the signal and so recognises a shape wherever it is,
# closes most of that gap: chapter 7 builds one (and `minidl train` trains one to about 93 %).
#
# ## Exercises
#
# 1. Set the learning rate of the bare-tensor regression to 0.8, then 0.95. What happens, and why?
#    Gradient descent on a quadratic is stable only for steps below 2 / (the largest eigenvalue of
#    its Hessian). Here the Hessian is 2·XᵀX/N, with X the inputs plus a column of ones (`X1`
#    above): compute the limit with `np.linalg.eigvalsh` and check it against your runs.
# 2. Remove the two `nn.ReLU()` layers from the MLP and train again. Which of the two models does
#    it now behave like, and why?
# 3. Write `my_cross_entropy(z, y)` with `md.logsumexp` and indexing, check it against
#    `F.cross_entropy` on random logits, and check its gradient with `md.gradcheck` (chapter 3).
# 4. The MLP overfits. Try `weight_decay=1e-4` in `optim.Adam`, or an `nn.Dropout(0.2)` after each
#    ReLU, or fewer epochs. Which helps the test accuracy most?
