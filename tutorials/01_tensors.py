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
# # Chapter 1 — Tensors
#
# Everything in minidl, from a single number to a batch of images, is a `Tensor`. In this chapter
# you will learn what a tensor is made of, and how to
#
# - create tensors with the **factory functions** (`tensor`, `zeros`, `arange`, `randn`, ...);
# - choose their **dtype** (float32 by default, int64 for integers, `set_default_dtype`);
# - combine tensors of different **shapes** with **broadcasting**, and predict the result shape;
# - pick out parts of a tensor by **indexing**;
# - tell which **device** a tensor lives on, and move it;
# - pass tensors to and from **NumPy** without copying.
#
# Where the code lives:
#
# - [`minidl/autograd/tensor.py`](../minidl/autograd/tensor.py): the `Tensor` class (data, dtype,
#   device, `.numpy()`, `.to()`);
# - [`minidl/factories.py`](../minidl/factories.py): `tensor`, `zeros`, `arange`, `randn`, `from_numpy`, ...;
# - [`minidl/autograd/dtypes.py`](../minidl/autograd/dtypes.py): the dtypes and the default dtype;
# - [`minidl/backend/device.py`](../minidl/backend/device.py) and [`minidl/cuda.py`](../minidl/cuda.py): devices;
# - [`minidl/functional/methods.py`](../minidl/functional/methods.py): the table that turns ops
#   into methods and operators (`x + y`, `x.sum()`), and
#   [`minidl/functional/indexing.py`](../minidl/functional/indexing.py): `x[...]`.
#
# Run it as a script (`python tutorials/01_tensors.py`) or open it as a notebook
# (`jupytext --to ipynb tutorials/01_tensors.py`).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minidl as md

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT = md.viz.chapter_setup(seed=0).out

# %% [markdown]
# ## 1. What a tensor is
#
# A minidl tensor is a thin wrapper: it holds an **array** (a NumPy array on the CPU, a CuPy array
# on a GPU) in `t.data`, plus four things that autograd needs (chapter 2): `requires_grad`,
# `grad`, `grad_fn`. Shape, dtype and device are simply read off the array.
#
# Open [`tensor.py`](../minidl/autograd/tensor.py) and look for `__add__`: it is not there. The
# arithmetic lives in `minidl/functional/` and is attached to `Tensor` in one table,
# [`methods.py`](../minidl/functional/methods.py). `x + y` calls `functional.add(x, y)`.

# %%
t = md.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(t)
print("shape:", t.shape, " ndim:", t.ndim, " numel:", t.numel(), " dtype:", t.dtype, " device:", t.device)
print("the array inside:", type(t.data).__name__, t.data.dtype)
print("autograd fields:", "requires_grad =", t.requires_grad, " grad =", t.grad, " grad_fn =", t.grad_fn)
print("x + y is functional.add:", md.Tensor.__add__ is md.functional.add)

# %% [markdown]
# ## 2. Factory functions
#
# The names and arguments are PyTorch's. Sizes may be given as separate numbers or as one tuple.
# Random tensors come from minidl's own generator: `md.manual_seed(0)` makes them repeatable.

# %%
print("zeros(2, 3):\n", md.zeros(2, 3))
print("ones((2, 3)):\n", md.ones((2, 3)))
print("full((2, 2), 7.0):\n", md.full((2, 2), 7.0))
print("arange(5):", md.arange(5), "   arange(0, 1, 0.25):", md.arange(0, 1, 0.25))
print("linspace(0, 1, 5):", md.linspace(0, 1, 5))
print("eye(3):\n", md.eye(3))
md.manual_seed(0)
a = md.randn(2, 3)
md.manual_seed(0)
b = md.randn(2, 3)
print("randn(2, 3) twice after manual_seed(0) -> equal:", bool((a == b).all()))
print("rand(3) in [0, 1):", md.rand(3), "   randint(0, 10, (5,)):", md.randint(0, 10, (5,)))
print("zeros_like(t):", md.zeros_like(t).shape, md.zeros_like(t).dtype)

# %% [markdown]
# ## 3. Dtypes
#
# - Python floats become **float32**, the *default dtype* (fast, and precise enough for training).
# - Python ints become **int64**, bools **bool**.
# - A NumPy array keeps its own dtype: `np.arange(3.0)` is float64, so its tensor is too.
# - `md.set_default_dtype(md.float64)` changes what floats become, e.g. for checking gradients
#   (chapter 3). Set it back afterwards.
# - Convert with `.float()`, `.double()`, `.long()` or `.to(dtype)`. Only floating-point tensors can
#   require gradients.

# %%
rows = [
    ("md.tensor([1.5, 2.0])", md.tensor([1.5, 2.0])),
    ("md.tensor([1, 2])", md.tensor([1, 2])),
    ("md.tensor([True, False])", md.tensor([True, False])),
    ("md.tensor(np.arange(3.0))", md.tensor(np.arange(3.0))),
    ("md.tensor([1, 2], dtype=md.float64)", md.tensor([1, 2], dtype=md.float64)),
    ("md.tensor([1, 2]).float()", md.tensor([1, 2]).float()),
    ("md.randn(2).double()", md.randn(2).double()),
]
md.set_default_dtype(md.float64)
rows.append(("after set_default_dtype(md.float64): md.tensor([1.5])", md.tensor([1.5])))
rows.append(("after set_default_dtype(md.float64): md.zeros(2)", md.zeros(2)))
md.set_default_dtype(md.float32)
for code, value in rows:
    print(f"{code:56s} -> {value.dtype}")

try:
    md.tensor([1, 2], requires_grad=True)
except TypeError as err:
    print("\nan int64 tensor cannot require grad:", err)

# %% [markdown]
# When two dtypes meet in one op, minidl follows **NumPy's promotion rules**: an int64 tensor
# divided by 2, or added to a float32 tensor, gives float64. (PyTorch would give float32 here;
# convert with `.float()` first if you want that.)

# %%
i = md.tensor([1, 2])
f = md.tensor([0.5, 0.5])
for code, value in [
    ("int64 * 2", i * 2),
    ("int64 / 2", i / 2),
    ("float32 * 2.0", f * 2.0),
    ("int64 + float32", i + f),
    ("int64.float() + float32", i.float() + f),
]:
    print(f"{code:24s} -> {value.dtype}")

# %% [markdown]
# ## 4. Shapes and broadcasting
#
# Elementwise ops (`+ - * /`, comparisons, `maximum`, ...) accept operands of different shapes when
# they **broadcast**:
#
# 1. line the shapes up **from the right**;
# 2. pad the shorter one with 1s on the left;
# 3. in every position the sizes must be **equal, or one of them 1**; a size-1 axis is repeated
#    (without copying) to match the other.
#
# Let us write the rule ourselves, then check it against minidl on a few examples.


# %%
def broadcast_shape(*shapes):
    """The broadcast result shape, by the three rules above (None if they do not broadcast)."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]  # rule 2
    result = []
    for sizes in zip(*padded):  # rule 1: position by position, right-aligned
        big = max(sizes)
        if any(n not in (1, big) for n in sizes):  # rule 3
            return None
        result.append(big)
    return tuple(result)


def show(shape):
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


examples = [
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((5, 1, 7), (3, 1)),
    ((2, 3), ()),
    ((8, 1, 6, 1), (7, 1, 5)),
    ((3, 2), (3,)),
    ((2, 3, 4), (3, 1)),
]
print(f"{'a':>14s} {'b':>12s}   {'our rule':>14s}   {'minidl':>14s}")
for sa, sb in examples:
    ours = broadcast_shape(sa, sb)
    try:
        theirs = show((md.zeros(*sa) + md.zeros(*sb)).shape)
    except ValueError:
        theirs = "error"
    print(f"{show(sa):>14s} {show(sb):>12s}   {show(ours) if ours else 'error':>14s}   {theirs:>14s}")
try:
    md.zeros(3, 2) + md.zeros(3)
except ValueError as err:
    print("\nthe error minidl raises for (3, 2) + (3,):\n ", err)

# %% [markdown]
# Broadcasting a column against a row is an **outer** operation: `col * row` with shapes `(5, 1)`
# and `(1, 7)` gives the `(5, 7)` table of all products, without a loop. We will draw it at the end.
# Size-1 axes are also what `keepdim=True` keeps, so that a reduced tensor broadcasts back against
# the original: that is how you centre each row of a matrix.

# %%
col = md.arange(1, 6).reshape(5, 1).float()
row = md.arange(1, 8).reshape(1, 7).float()
table = col * row
print("col", col.shape, "* row", row.shape, "->", table.shape)
print(table)

x = md.randn(4, 3)
centred = x - x.mean(dim=1, keepdim=True)  # (4, 3) - (4, 1)
print(
    f"\nlargest |row mean| after centring: {centred.mean(dim=1).abs().max().item():.1e} (0 up to float32 rounding)"
)
print(
    "shapes: unsqueeze(0) ->",
    x.unsqueeze(0).shape,
    " reshape(2, 6) ->",
    x.reshape(2, 6).shape,
    " .T ->",
    x.T.shape,
    " expand ->",
    md.ones(1, 3).expand(4, 3).shape,
)

# %% [markdown]
# ## 5. Indexing
#
# `x[...]` takes the same indices as NumPy: integers, slices, `None` (a new size-1 axis), `...`,
# integer lists and boolean masks. Integers and slices give **views** that share memory with `x`;
# lists and masks make copies.

# %%
x = md.arange(12).reshape(3, 4)
print(x)
for code in [
    "x[1]",
    "x[:, 1]",
    "x[-1, ::2]",
    "x[1:, 1:3]",
    "x[None].shape",
    "x[..., None].shape",
    "x[[0, 2]]",
    "x[x > 6]",
    "x[(x >= 2) & (x < 5)]",
]:
    print(f"{code:20s} -> {eval(code)}")
print(
    "x[1] shares memory with x:",
    np.shares_memory(x[1].data, x.data),
    "  x[[1]] does:",
    np.shares_memory(x[[1]].data, x.data),
)

# %% [markdown]
# ## 6. Devices
#
# A tensor's device is where its array lives: NumPy means `cpu`, CuPy means `cuda`. The same op
# code runs on both: each op asks the array which library computes on it
# ([`backend/device.py`](../minidl/backend/device.py), `xp_of`). Mixing devices in one op is an
# error, never a silent copy. The default device is `cpu` unless `MINIDL_DEVICE=cuda` is set or
# you call `md.set_default_device("cuda")`.
#
# This cell works with or without a GPU: it asks `md.cuda.is_available()` first, and prints the
# reason when there is none.

# %%
t = md.randn(2, 3)
print("t.device:", t.device, "   default device:", md.get_default_device())
print("md.cuda.is_available():", md.cuda.is_available())
if md.cuda.is_available():
    g = t.to("cuda")
    print("on the GPU:", g.device, type(g.data).__module__, "-> back:", g.cpu().device)
    try:
        t + g
    except RuntimeError as err:
        print("mixing devices:", err)
else:
    print("no GPU here, because:", md.cuda.unavailable_reason())
    try:
        t.to("cuda")
    except RuntimeError as err:
        print("t.to('cuda') says:", err)

# %% [markdown]
# ## 7. NumPy interop
#
# - `md.from_numpy(a)` wraps the array **without copying**: changing one changes the other.
# - `t.numpy()` and `np.asarray(t)` hand back the array itself, again without a copy.
# - `md.tensor(a)` **copies**, like `torch.tensor`.
# - A tensor that requires grad refuses `.numpy()`: call `t.detach().numpy()`, which makes it
#   explicit that the values leave the graph.

# %%
a = np.arange(6.0).reshape(2, 3)
shared = md.from_numpy(a)
copied = md.tensor(a)
a[0, 0] = 100.0
print(
    "after a[0, 0] = 100:  from_numpy sees", shared[0, 0].item(), "   tensor() copy sees", copied[0, 0].item()
)
print("t.numpy() is the same array:", shared.numpy() is a, "   np.asarray(t) too:", np.asarray(shared) is a)
print(
    "NumPy functions read tensors through __array__:",
    np.linalg.norm(md.full((2,), 3.0)),
    np.concatenate([md.ones(2), md.zeros(1)]),
)

w = md.randn(3, requires_grad=True)
try:
    w.numpy()
except RuntimeError as err:
    print("w.numpy():", err)
print("w.detach().numpy():", w.detach().numpy())

# %% [markdown]
# ## 8. Something to look at
#
# A summary table of what we met, and a picture of broadcasting: the column `(5, 1)` and the row
# `(1, 7)` are stretched (virtually) along their size-1 axes, and multiplied elementwise into the
# `(5, 7)` outer product.

# %%
summary = [
    ("create", "md.tensor(data), md.zeros(2, 3), md.arange(5), md.randn(2, 3)", "factories.py"),
    ("dtype", "float32 default, int64 from ints, md.set_default_dtype(md.float64)", "autograd/dtypes.py"),
    ("broadcast", "align right; sizes equal or 1; (3, 1) + (4,) -> (3, 4)", "functional/elementwise.py"),
    ("index", "x[1], x[:, 1:3], x[None], x[[0, 2]], x[x > 0]", "functional/indexing.py"),
    ("device", "t.device, md.cuda.is_available(), t.to('cuda')", "backend/device.py"),
    ("numpy", "md.from_numpy(a) shares, t.numpy() shares, md.tensor(a) copies", "autograd/tensor.py"),
]
lines = [f"{'topic':10s} {'in one line':68s} {'code in minidl/'}", "-" * 104]
lines += [f"{topic:10s} {line:68s} {where}" for topic, line, where in summary]
text = "\n".join(lines)
print(text)
with open(os.path.join(OUT, "01_summary.txt"), "w") as fh:
    fh.write(text + "\n")

# %%
fig, axes = plt.subplots(1, 5, figsize=(12, 3.2), gridspec_kw={"width_ratios": [1, 0.3, 7, 0.3, 7]})
panels = [
    (col.numpy(), "col (5, 1)"),
    (None, "×"),
    (row.expand(5, 7).numpy(), "row (1, 7), broadcast to (5, 7)"),
    (None, "="),
    (table.numpy(), "col * row  (5, 7)"),
]
for ax, (values, title) in zip(axes, panels):
    ax.set_xticks([])
    ax.set_yticks([])
    if values is None:
        ax.axis("off")
        ax.text(0.5, 0.5, title, fontsize=22, ha="center", va="center")
        continue
    ax.imshow(values, cmap="viridis", vmin=0, vmax=35)
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:.0f}", ha="center", va="center", color="white" if v < 20 else "black", fontsize=9)
    ax.set_title(title, fontsize=10)
# the row's real data is only its first line: pale out the virtual copies below it
axes[2].axhspan(0.5, 4.5, color="white", alpha=0.4)
fig.suptitle("Broadcasting: size-1 axes are repeated to match, then the op runs elementwise")
fig.tight_layout()
path = os.path.join(OUT, "01_broadcasting.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# ## Exercises
#
# 1. Predict the result shapes of `md.zeros(2, 1, 3) + md.zeros(4, 1)` and of
#    `md.zeros(5, 4).sum(dim=0, keepdim=True) * md.zeros(5, 1)` on paper with the three rules, then
#    check with `broadcast_shape` and with minidl.
# 2. `x[:, 1]` is a view. Make a view with a slice, change the NumPy array behind `x`
#    (`x.numpy()[0, 1] = -1`) and print the view. Then do the same with `x[[0, 1]]`. Which one
#    changed, and why?
# 3. Compute `md.tensor([1, 2]) / 3` and `md.tensor([1, 2]).float() / 3`. Which dtype does each give,
#    and which one would you feed to a float32 model?
# 4. Without a loop, build the `(10, 10)` table of `|i - j|` from `md.arange(10)` using `None`
#    indexing and broadcasting, and draw it with `plt.imshow`.
