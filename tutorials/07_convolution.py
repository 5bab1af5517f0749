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
# # Chapter 7 — Convolution and pooling
#
# A fully connected layer gives every input position its own weights. A *convolution* slides one
# small set of weights, a filter, along the input, so the same pattern is recognised wherever it
# appears. This chapter takes convolution apart:
#
# 1. a 1-d convolution by hand, on a signal of ten numbers;
# 2. **im2col**: how a 2-d convolution becomes one matrix product, written in NumPy and compared
#    with `minidl.functional.conv2d` on both of minidl's kernel sets (NumPy reference and C++);
# 3. what the two backward kernels compute: the gradient of the input is a *transposed*
#    convolution, the gradient of the weight is a *correlation* of the input with the output's
#    gradient, checked with `gradcheck`;
# 4. max and average pooling, and where their gradients go;
# 5. convolutional networks trained on MNIST-1D and on the 8 x 8 digits, and what their first
#    layers learned (a PNG); CIFAR-10 too, when its files are on disk.
#
# Where the code lives:
#
# - [`minidl/functional/conv.py`](../minidl/functional/conv.py): `conv1d`, `conv2d`, and the
#   three autograd Functions (forward, grad-input, grad-weight) that call each other
# - [`minidl/backend/reference.py`](../minidl/backend/reference.py): the kernels in NumPy
#   (`_im2col`, `_col2im`, `conv2d_forward`, `conv2d_backward_input`, `conv2d_backward_weight`)
# - [`csrc/cpu/conv2d.cpp`](../csrc/cpu/conv2d.cpp): the same three kernels in C++, im2col plus
#   our matrix product, with the measurements that chose that method
# - [`minidl/functional/pool.py`](../minidl/functional/pool.py) and
#   [`csrc/cpu/pool2d.cpp`](../csrc/cpu/pool2d.cpp): pooling
# - [`minidl/nn/conv.py`](../minidl/nn/conv.py), [`minidl/nn/pooling.py`](../minidl/nn/pooling.py):
#   the layers `Conv1d`, `Conv2d`, `MaxPool2d`, ...
# - [`minidl/train/models.py`](../minidl/train/models.py): the CNNs trained below

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.functional as F
from minidl import nn
from minidl.train import accuracy, fit
from minidl.train.models import digits_cnn, mnist1d_cnn, mnist1d_mlp

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)
rng = np.random.default_rng(0)
print("kernels in use on the CPU:", md.backend.active_kernels())

# %% [markdown]
# ## 1. A 1-d convolution by hand
#
# A filter `w` of width `k` slides along the signal `x`; at each stop it takes a dot product:
#
#     y[t] = w[0] * x[t*stride] + w[1] * x[t*stride + 1] + ... + w[k-1] * x[t*stride + k-1]
#
# (Mathematicians would flip `w` first and call this a *cross-correlation*; every deep-learning
# framework, PyTorch and minidl included, computes it unflipped and calls it convolution. A
# learned filter does not care which way round it is stored.)
#
# `padding=p` adds `p` zeros at both ends, `stride=s` moves the filter `s` steps at a time, so
# the output has `(L + 2p - k) // s + 1` values. The filter `[-1, 0, 1]` responds to a rising
# edge with a positive number and to a falling edge with a negative one:

# %%
signal = np.array([0, 0, 1, 3, 4, 3, 1, 0, 0, 0], dtype=np.float32)
edge = np.array([-1, 0, 1], dtype=np.float32)


def conv1d_by_hand(x, w, stride=1, padding=0):
    x = np.pad(x, padding)
    k = len(w)
    n_out = (len(x) - k) // stride + 1
    return np.array([sum(w[j] * x[t * stride + j] for j in range(k)) for t in range(n_out)])


for stride, padding in [(1, 0), (1, 1), (2, 1)]:
    mine = conv1d_by_hand(signal, edge, stride, padding)
    # minidl's conv1d takes batches of multi-channel signals: x (N, C_in, L), w (C_out, C_in, k)
    theirs = F.conv1d(
        md.tensor(signal).reshape(1, 1, -1), md.tensor(edge).reshape(1, 1, -1), stride=stride, padding=padding
    )
    print(
        f"stride {stride} padding {padding}: {mine.astype(int)}  matches conv1d: "
        f"{np.allclose(mine, theirs.numpy().ravel())}"
    )

# %% [markdown]
# `conv1d` has no code of its own: it adds a height-1 axis and calls `conv2d`
# (`conv1d` at the bottom of `functional/conv.py`). So everything below about 2-d convolutions
# holds for 1-d ones too.
#
# ## 2. im2col: a convolution is a matrix product
#
# In 2-d, filter `o` (of shape `C_in x kh x kw`) is laid over each window of the image and
# multiplied element by element. Copy every window into one *column* of a matrix — that is
# **im2col**, "image to columns" — and all the dot products for all filters become one product:
#
#     cols    : (C_in * kh * kw) rows  x  (OH * OW) columns, one column per output position
#     y       = W.reshape(C_out, C_in * kh * kw) @ cols       ->  reshape to (C_out, OH, OW)
#
# Here it is on a 5 x 5 image holding the numbers 0..24, so you can read each window in its column:


# %%
def im2col(x, kh, kw, stride=1, padding=0):
    """x (C, H, W) -> cols (C*kh*kw, OH*OW), and (OH, OW). One column per window."""
    C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    OH = (H + 2 * padding - kh) // stride + 1
    OW = (W + 2 * padding - kw) // stride + 1
    cols = np.empty((C * kh * kw, OH * OW), dtype=x.dtype)
    for r in range(OH):
        for s in range(OW):
            window = xp[:, r * stride : r * stride + kh, s * stride : s * stride + kw]
            cols[:, r * OW + s] = window.reshape(-1)
    return cols, (OH, OW)


image = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
cols, (OH, OW) = im2col(image, 3, 3)
print("image:\n", image[0].astype(int))
print(f"cols ({cols.shape[0]} x {cols.shape[1]}): column j is the 3x3 window of output position j")
print(cols.astype(int))

# %% [markdown]
# Each pixel is copied up to `kh * kw = 9` times: im2col trades memory for a matrix product,
# which is the best-tuned loop we have (chapter 6, `csrc/cpu/matmul.cpp`). Now a real
# case — 3 input channels, 4 filters, stride 2 and padding 1 — against `conv2d` on both kernel
# sets. `md.use_kernels("reference")` runs the NumPy twins in `backend/reference.py` (whose
# `_im2col` does the same gather with 9 strided slices instead of a loop over pixels); the
# default runs the C++ kernels of `csrc/cpu/conv2d.cpp`.

# %%
x = rng.standard_normal((3, 7, 7)).astype(np.float32)
W = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
cols, (OH, OW) = im2col(x, 3, 3, stride=2, padding=1)
y_mine = (W.reshape(4, -1) @ cols).reshape(4, OH, OW)

xt, Wt = md.tensor(x[None]), md.tensor(W)
with md.use_kernels("reference"):
    y_ref = F.conv2d(xt, Wt, stride=2, padding=1).numpy()[0]
y_default = F.conv2d(xt, Wt, stride=2, padding=1).numpy()[0]
print("output shape", y_mine.shape)
print(f"im2col vs reference kernels: max |diff| = {np.abs(y_mine - y_ref).max():.2e}")
print(
    f"im2col vs {md.backend.active_kernels()} kernels:    max |diff| = {np.abs(y_mine - y_default).max():.2e}"
)

# %% [markdown]
# ## 3. The backward kernels
#
# Take stride 1 and no padding: `y[o, r, s] = sum over c, i, j of W[o, c, i, j] * x[c, r+i, s+j]`.
# Given `g = dL/dy`, the chain rule asks for two sums over the same products:
#
# - **grad-weight**: `dL/dW[o, c, i, j] = sum over r, s of g[o, r, s] * x[c, r+i, s+j]`. That is the
#   input *correlated with* the output's gradient: a convolution of `x` whose filter is `g`.
# - **grad-input**: `dL/dx[c, a, b] = sum over o, i, j of g[o, a-i, b-j] * W[o, c, i, j]`. Each input
#   pixel collects from every output that saw it. That is a *transposed convolution*: `g`, padded
#   by `k - 1` on every side, convolved with `W` flipped in space and with its in/out channels
#   swapped. It makes the output the input's size again.
#
# So the backward of a convolution is two more convolutions. We can write both with `conv2d`
# itself and compare them with what autograd computes (`Conv2d.backward` in
# `functional/conv.py`, which calls the kernels `conv2d_backward_input` and
# `conv2d_backward_weight`; in C++ they are im2col/col2im around a product with `W^T` or `cols^T`).

# %%
x = md.tensor(rng.standard_normal((1, 3, 6, 6)), requires_grad=True)  # float64
W = md.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
y = F.conv2d(x, W)  # (1, 4, 4, 4)
g = md.tensor(rng.standard_normal(y.shape))
(y * g).sum().backward()  # so dL/dy = g

with md.no_grad():
    # grad-weight: the 3 input channels as a batch of 1-channel images, the 4 gradient planes as
    # 4 filters -> (3, 4, 3, 3), then swap to (4, 3, 3, 3)
    gW = F.conv2d(x.reshape(3, 1, 6, 6), g.reshape(4, 1, 4, 4)).permute(1, 0, 2, 3)
    # grad-input: g padded by 2, filters flipped in space, channels swapped: (3, 4, 3, 3)
    W_flipped = md.tensor(W.detach().numpy()[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).copy())
    gx = F.conv2d(g, W_flipped, padding=2)
print(
    f"grad-weight as a correlation of x with g:  max |diff| = {np.abs(gW.numpy() - W.grad.numpy()).max():.1e}"
)
print(
    f"grad-input as a transposed convolution:    max |diff| = {np.abs(gx.numpy() - x.grad.numpy()).max():.1e}"
)

# %% [markdown]
# With stride and padding the formulas get more indices but stay convolutions (a stride-2
# forward has a grad-input that spreads `g` with holes between its entries). Rather than write
# them out, let `gradcheck` (chapter 3) compare the backward with finite differences, in float64,
# through both kernel sets, for a convolution with stride, padding, dilation and groups:

# %%
x = md.randn(2, 4, 7, 6, dtype=md.float64, requires_grad=True)
W = md.randn(6, 2, 3, 2, dtype=md.float64, requires_grad=True)  # groups=2: 4 = 2 x 2 channels
b = md.randn(6, dtype=md.float64, requires_grad=True)
conv = lambda x, W, b: F.conv2d(x, W, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
for setting in ("reference", md.backend.active_kernels()):
    with md.use_kernels(setting):
        print(f"gradcheck conv2d on the {setting} kernels:", md.gradcheck(conv, (x, W, b)))

# %% [markdown]
# ## 4. Pooling
#
# Pooling shrinks a feature map by summarising each window: **max pooling** keeps the largest
# value, **average pooling** the mean. Neither has weights. Their gradients show what they do:
# max pooling sends each window's gradient to the one input that won (`MaxPoolScatter` in
# `functional/pool.py`, using the winners' indices the forward kernel returned); average pooling
# spreads it evenly, `1 / (kh * kw)` to each input of the window.

# %%
x = md.tensor(
    [[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0], [0.0, 2.0, 1.0, 1.0], [6.0, 1.0, 3.0, 9.0]]
).reshape(1, 1, 4, 4)
for name, pool in [("max_pool2d", F.max_pool2d), ("avg_pool2d", F.avg_pool2d)]:
    leaf = x.detach().requires_grad_()  # a fresh leaf for each pooling
    y = pool(leaf, 2)  # 2 x 2 windows, stride 2 (the default stride is the kernel)
    y.sum().backward()
    print(
        f"{name}(x, 2) =\n{y.detach().numpy()[0, 0]}\ngradient of its sum w.r.t. x =\n{leaf.grad.numpy()[0, 0]}\n"
    )

# %% [markdown]
# ## 5. Convolutional networks
#
# ### MNIST-1D
#
# The CNN of the MNIST-1D paper is `mnist1d_cnn()` in `minidl/train/models.py`: three `Conv1d`
# layers with stride 2 (1 -> 25 channels with width 5, then 25 -> 25 with width 3), ReLUs, and a
# `Linear(125, 10)`. Its MLP has more weights but no idea that a shifted bump is the same bump.
# We train both for a few epochs with the loop of `minidl/train/loop.py` (`fit`, the one
# `minidl train` runs):

# %%
train1d = md.data.MNIST1D(root=DATA, train=True)
test1d = md.data.MNIST1D(root=DATA, train=False)
EPOCHS_1D = 15
results = {}
for name, build in [("MNIST-1D MLP", mnist1d_mlp), ("MNIST-1D CNN", mnist1d_cnn)]:
    md.manual_seed(0)
    model = build()
    n_weights = sum(p.numel() for p in model.parameters())
    start = time.perf_counter()
    history = fit(
        model,
        md.optim.Adam(model.parameters(), lr=1e-2),
        train1d,
        test1d,
        epochs=EPOCHS_1D,
        batch_size=100,
        log=None,
        progress=False,
    )
    results[name] = (
        n_weights,
        accuracy(model, train1d),
        history[-1]["test_accuracy"],
        time.perf_counter() - start,
    )
cnn1d = model
print(cnn1d)

# %% [markdown]
# ### Digits
#
# The 8 x 8 digits are images, so `digits_cnn()` uses `Conv2d` (3 x 3, padding 1) and
# `MaxPool2d(2)` twice: 8 x 8 -> 4 x 4 -> 2 x 2, with 16 and then 32 channels.

# %%
train_digits, test_digits = md.data.Digits(train=True), md.data.Digits(train=False)
md.manual_seed(0)
cnn2d = digits_cnn()
start = time.perf_counter()
history = fit(
    cnn2d,
    md.optim.Adam(cnn2d.parameters(), lr=1e-2),
    train_digits,
    test_digits,
    epochs=8,
    batch_size=64,
    log=None,
    progress=False,
)
results["digits CNN"] = (
    sum(p.numel() for p in cnn2d.parameters()),
    accuracy(cnn2d, train_digits),
    history[-1]["test_accuracy"],
    time.perf_counter() - start,
)

print(f"{'model':14s} {'weights':>8s} {'train acc':>10s} {'test acc':>9s} {'time':>7s}")
for name, (n, train_acc, test_acc, seconds) in results.items():
    print(f"{name:14s} {n:8d} {100 * train_acc:9.1f}% {100 * test_acc:8.1f}% {seconds:6.1f}s")

# %% [markdown]
# The CNN beats the MLP on MNIST-1D with a fraction of its weights (train them longer and the
# gap stays: about 94 % against 68 % in the paper, which `minidl train` reproduces).
#
# ### What the first layers learned
#
# The first `Conv1d` holds 25 filters of width 5; the first `Conv2d` 16 filters of 3 x 3. Below:
# the 1-d filters, the 25 *feature maps* they produce on one test signal (after the ReLU: where
# along the signal each filter fires), and the 2-d filters as little images.

# %%
signal, label = test1d[0]
with md.no_grad():
    cnn1d.eval()
    feature_maps = cnn1d[1](cnn1d[0](signal.reshape(1, 1, 40))).numpy()[0]  # Conv1d then ReLU: (25, 19)
filters1d = cnn1d[0].weight.detach().numpy()[:, 0, :]  # (25, 5)
filters2d = cnn2d[0].weight.detach().numpy()[:, 0]  # (16, 3, 3)

fig = plt.figure(figsize=(13, 8), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1.4, 1])
ax_signal, ax_filters, ax_maps = left.subplots(3, 1, height_ratios=[1, 1, 2])
ax_signal.plot(signal.numpy().ravel(), "k")
ax_signal.set_title(f"MNIST-1D test signal (label {int(label.item())})")
limit = np.abs(filters1d).max()
ax_filters.imshow(filters1d.T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
ax_filters.set_ylabel("tap")
ax_filters.set_title("25 learned Conv1d filters (one per column; red > 0, blue < 0)")
ax_maps.imshow(feature_maps, aspect="auto", cmap="magma")
ax_maps.set_xlabel("position along the signal (40 -> 19 with stride 2)")
ax_maps.set_ylabel("filter")
ax_maps.set_title("their feature maps on the signal above (after ReLU)")
right.suptitle("16 learned 3x3 Conv2d filters (digits)")
limit = np.abs(filters2d).max()
for i, ax in enumerate(right.subplots(4, 4).ravel()):
    ax.imshow(filters2d[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks([])
    ax.set_yticks([])
path = os.path.join(OUT, "07_filters.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# ### CIFAR-10 (when its files are on disk)
#
# minidl downloads nothing. If you have unpacked `cifar-10-python.tar.gz` (from
# https://www.cs.toronto.edu/~kriz/cifar.html), point `MINIDL_CIFAR10` at the
# `cifar-10-batches-py` folder (default `data/cifar-10-batches-py`) and this cell trains a small
# CNN for a few hundred steps, with the usual augmentation (random crops of the padded image and
# horizontal flips, `minidl/data/transforms.py`). A few hundred steps is a start, not a result:
# expect roughly 40–50 % test accuracy (chance is 10 %).

# %%
CIFAR = os.environ.get("MINIDL_CIFAR10", os.path.join("data", "cifar-10-batches-py"))
CIFAR_STEPS = 300
# (CIFAR10 also accepts the folder that contains cifar-10-batches-py)
if not any(os.path.isfile(os.path.join(CIFAR, sub, "data_batch_1")) for sub in ("", "cifar-10-batches-py")):
    print(
        f"CIFAR-10 skipped: no files at {os.path.abspath(CIFAR)}. To run this part, unpack "
        f"cifar-10-python.tar.gz so that data_batch_1..5 and test_batch lie in that folder, "
        f"or set MINIDL_CIFAR10 to the folder that holds them."
    )
else:
    T = md.data.transforms
    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])
    cifar_train = md.data.CIFAR10(CIFAR, train=True, transform=augment)
    cifar_test = md.data.Subset(md.data.CIFAR10(CIFAR, train=False), range(2000))
    md.manual_seed(0)
    cifar_cnn = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 32 -> 16
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 16 -> 8
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 8 -> 4
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 10),
    )
    optimizer = md.optim.Adam(cifar_cnn.parameters(), lr=2e-3)
    loader = md.data.DataLoader(cifar_train, batch_size=64, shuffle=True, seed=0)
    start, step = time.perf_counter(), 0
    cifar_cnn.train()
    while step < CIFAR_STEPS:
        for xb, yb in loader:
            loss = F.cross_entropy(cifar_cnn(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % 100 == 0:
                print(f"step {step}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)")
            if step == CIFAR_STEPS:
                break
    print(
        f"CIFAR-10: {CIFAR_STEPS} steps of 64 images in {time.perf_counter() - start:.0f} s, "
        f"test accuracy on 2000 test images {100 * accuracy(cifar_cnn, cifar_test):.1f}%"
    )

# %% [markdown]
# ## Exercises
#
# 1. Change `conv1d_by_hand` to take a `dilation` argument (the filter's taps `d` apart instead of
#    adjacent) and check it against `F.conv1d(..., dilation=d)`. What is the output length?
# 2. Write `col2im`, the adjoint of `im2col` above (add each column entry back onto the pixel it
#    came from), and use it to compute grad-input as `col2im(W.reshape(C_out, -1).T @ g)`. Compare
#    with `x.grad` for the stride-2, padding-1 case, then read `_col2im` in
#    `minidl/backend/reference.py`.
# 3. Replace the stride-2 convolutions of `mnist1d_cnn` by stride-1 convolutions each followed by
#    `nn.MaxPool1d(2)`. Does accuracy change? How does the time per epoch change, and why?
# 4. Time `F.conv2d` on a batch of 64 images 3 x 32 x 32 with 32 filters, under
#    `md.use_kernels("reference")` and under the default. How much memory does im2col's column
#    matrix take here?
