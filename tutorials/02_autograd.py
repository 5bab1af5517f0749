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
# # Chapter 2 — Autograd from scratch
#
# Training a network means computing the derivative of a loss with respect to every parameter.
# minidl does it the way PyTorch does: while your code runs forward, every op records a **node**
# in a graph; `loss.backward()` then walks that graph from the loss back to the inputs, applying
# the **chain rule** at each node. In this chapter you will
#
# - differentiate a tiny formula by hand, and check `backward()` against it;
# - look at the graph itself (`y.grad_fn`, `ctx.edges`) and draw it with `minidl.viz`;
# - rewrite the engine's walk in 30 lines and get the same gradients;
# - meet leaves and non-leaves, `retain_grad`, gradient accumulation, `retain_graph` and `no_grad`;
# - write your own differentiable op as a `Function`, and see it appear in the graph.
#
# Where the code lives:
#
# - [`minidl/autograd/function.py`](../minidl/autograd/function.py): `Function` (an op and its
#   derivative) and `Context` (one node of the graph);
# - [`minidl/autograd/engine.py`](../minidl/autograd/engine.py): `backward()` and `grad()`, the walk;
# - [`minidl/autograd/tensor.py`](../minidl/autograd/tensor.py): `requires_grad`, `grad`, `grad_fn`,
#   `retain_grad`, `detach`;
# - [`minidl/autograd/grad_mode.py`](../minidl/autograd/grad_mode.py): `no_grad`, `enable_grad`;
# - [`minidl/autograd/broadcast.py`](../minidl/autograd/broadcast.py): summing broadcast gradients;
# - [`minidl/functional/elementwise.py`](../minidl/functional/elementwise.py): `Mul`, `Sin`, ... each
#   with its `backward`;
# - [`minidl/viz.py`](../minidl/viz.py): drawing the graph.

# %%
import inspect
import math
import os
import shutil
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
from minidl.autograd.broadcast import sum_to
from minidl.autograd.engine import _count_dependencies
from minidl.autograd.function import Context

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT = md.viz.chapter_setup(seed=0).out
HAVE_GRAPHVIZ = shutil.which("dot") is not None


def draw(tensor, name, **kwargs):
    """Write the graph of `tensor` to OUT/name.svg, or only OUT/name.dot without Graphviz."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # we say it once, below, instead of warning every time
        written = md.viz.render(tensor, os.path.join(OUT, name + ".svg"), **kwargs)
    if "ipykernel" in sys.modules and written.endswith(".svg"):  # in a notebook: show it too
        from IPython.display import SVG, display

        display(SVG(filename=written))
    return written


print(
    "Graphviz installed:",
    HAVE_GRAPHVIZ,
    "" if HAVE_GRAPHVIZ else "-> graphs are written as .dot text (apt-get install graphviz for SVGs)",
)

# %% [markdown]
# ## 1. The chain rule by hand
#
# Take two numbers `x = 2`, `y = 3` and the formula
#
# $$L = (x y + \sin x)^2 .$$
#
# Name the intermediate values as a computer would compute them:
#
# | step | value | local derivatives |
# |---|---|---|
# | `a = x * y` | 6 | ∂a/∂x = y, ∂a/∂y = x |
# | `b = sin(x)` | 0.909 | ∂b/∂x = cos x |
# | `z = a + b` | 6.909 | ∂z/∂a = 1, ∂z/∂b = 1 |
# | `L = z ** 2` | 47.74 | ∂L/∂z = 2z |
#
# The chain rule multiplies local derivatives along every path from `L` back to an input and adds
# the paths up. `x` reaches `L` twice (through `a` and through `b`):
#
# $$\frac{\partial L}{\partial x} = 2z\,(y + \cos x), \qquad \frac{\partial L}{\partial y} = 2z\,x .$$
#
# Going *backwards* from `L` means each local derivative is used once, however many inputs there
# are: that is **reverse mode**, and why one `backward()` costs about as much as one forward pass.

# %%
xv, yv = 2.0, 3.0
z = xv * yv + math.sin(xv)
by_hand = {"x": 2 * z * (yv + math.cos(xv)), "y": 2 * z * xv}

x = md.tensor(xv, dtype=md.float64, requires_grad=True)
y = md.tensor(yv, dtype=md.float64, requires_grad=True)
a = x * y
b = x.sin()
zt = a + b
L = zt**2
L.backward()

print(f"L = {L.item():.6f}")
print(f"{'':6s} {'by hand':>14s} {'backward()':>14s}")
for name, t in [("dL/dx", x), ("dL/dy", y)]:
    print(f"{name:6s} {by_hand[name[-1]]:14.8f} {t.grad.item():14.8f}")

# %% [markdown]
# ## 2. The graph
#
# Every tensor computed from a tensor that requires grad has a `grad_fn`: the **node** (a
# `Context`) that produced it. A node knows its op (`ctx.function`, printed as `PowBackward`) and
# its **edges**: for each input, where that input's gradient must go — the node that produced the
# input, the input tensor itself if it is a **leaf**, or `None` if it needs no gradient (the
# exponent 2 here). Follow the edges from `L` and you reach `x` and `y`.

# %%
x = md.tensor(xv, dtype=md.float64, requires_grad=True)
y = md.tensor(yv, dtype=md.float64, requires_grad=True)
L = (x * y + x.sin()) ** 2
print("L.grad_fn:", L.grad_fn)
print("L.grad_fn.edges:", L.grad_fn.edges)


def print_graph(t, names):
    """The graph as an indented tree, walked with a stack (no recursion)."""
    stack = [(t.grad_fn, 0)]
    while stack:
        vertex, depth = stack.pop()
        if isinstance(vertex, Context):
            print("  " * depth + vertex.name())
            stack.extend((e, depth + 1) for e in reversed(vertex.edges) if e is not None)
        else:
            print("  " * depth + f"leaf {names.get(id(vertex), '?')} = {vertex.item()}")


print_graph(L, {id(x): "x", id(y): "y"})

# %% [markdown]
# `minidl.viz.to_dot` turns the same walk into [Graphviz](https://graphviz.org) text, and
# `minidl.viz.render` writes it to a file: the `.dot` always, and an SVG when Graphviz's `dot`
# program is installed. Ops are ellipses, leaves blue boxes, the output green; arrows point the
# way the values flowed forward, and backward walks them the other way. `x` has two arrows out of
# it: its gradient is the sum of two paths.

# %%
print(md.viz.to_dot(L, names={"x": x, "y": y, "L": L}))
print("wrote", draw(L, "02_graph", names={"x": x, "y": y, "L": L}))

# %% [markdown]
# ## 3. The engine's walk, rewritten
#
# [`engine.py`](../minidl/autograd/engine.py) does two things:
#
# 1. **Count** (`_count_dependencies`): walk the graph once from the output, with an explicit
#    stack, and count for every node how many edges point at it — how many gradient contributions
#    it has to wait for.
# 2. **Propagate** (`_run`): start from the output with gradient 1. Take a node whose
#    contributions have all arrived, call its `backward(ctx, grad)`, and hand each returned
#    gradient to the input's vertex, adding it to what is already there. A vertex whose count
#    drops to zero is ready. Leaves keep their total as `.grad`.
#
# A node runs only after everything that depends on it has run: that is a **topological order**,
# obtained without sorting. Gradients of broadcast inputs are summed back to the input's shape in
# one place (`_conform`, using `sum_to` from [`broadcast.py`](../minidl/autograd/broadcast.py)).
# The count is short enough to read as the engine has it, so we print it and call it as it is:

# %%
print(inspect.getsource(_count_dependencies))

# %% [markdown]
# The propagation we write again, minus the engine's extras (freeing saved tensors, dtype casts,
# `create_graph`, error messages):


# %%
def tiny_backward(loss):
    """Return ({leaf: gradient}, [node names in the order their backward ran])."""
    root = loss.grad_fn
    # 1. count the edges pointing at each vertex: the engine's own first pass, printed above
    deps = _count_dependencies([root])
    # 2. propagate, running a node once all its contributions are in
    pending = {root: md.ones_like(loss)}
    ready, order, leaf_grads = [root], [], {}
    with md.no_grad():
        while ready:
            vertex = ready.pop()
            grad = pending.pop(vertex, None)
            if isinstance(vertex, md.Tensor):  # a leaf: its gradient is complete
                leaf_grads[vertex] = grad
                continue
            order.append(vertex.name())
            input_grads = vertex.function.backward(vertex, grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for edge, meta, g in zip(vertex.edges, vertex.input_meta, input_grads):
                if edge is None:
                    continue
                if g is not None:
                    g = g if isinstance(g, md.Tensor) else md.tensor(g)
                    if g.shape != meta[0]:
                        g = sum_to(g, meta[0])  # undo broadcasting
                    pending[edge] = pending[edge] + g if edge in pending else g
                deps[edge] -= 1
                if deps[edge] == 0:
                    ready.append(edge)
    return leaf_grads, order


md.manual_seed(0)
W = md.randn(3, 2, dtype=md.float64, requires_grad=True)
bias = md.randn(2, dtype=md.float64, requires_grad=True)
inputs = md.randn(4, 3, dtype=md.float64)
loss = ((inputs @ W + bias).tanh() * (inputs @ W)).mean()  # W used twice, bias broadcast over 4 rows

ours, order = tiny_backward(loss)
print("backward ran in this order:", " -> ".join(order))
loss.backward()
for name, t in [("W", W), ("bias", bias)]:
    print(
        f"{name:5s} tiny_backward == engine: {np.allclose(ours[t].numpy(), t.grad.numpy())}   "
        f"grad shape {t.grad.shape}"
    )

# %% [markdown]
# Notice that `bias` has shape `(2,)` but was added to a `(4, 2)` matrix: its gradient came back
# from `AddBackward` with shape `(4, 2)` and was summed over the 4 rows. No op does that itself.

# %% [markdown]
# ## 4. Leaves, non-leaves and `retain_grad`
#
# **Leaves** are tensors you created (inputs, parameters): `grad_fn is None`. Only leaves that
# require grad get a `.grad` after `backward()`. Intermediate (non-leaf) tensors pass gradients
# on without keeping them, to save memory, unless you ask with `t.retain_grad()` before backward.

# %%
x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * 2  # non-leaf
h.retain_grad()
k = h.exp()  # non-leaf, not retained
out = k.sum()
out.backward()
for name, t in [("x", x), ("h", h), ("k", k)]:
    print(f"{name}: is_leaf={t.is_leaf!s:5s} requires_grad={t.requires_grad!s:5s} grad={t.grad}")

# %% [markdown]
# ## 5. Gradients accumulate; graphs are freed
#
# `backward()` **adds** into `.grad`; it never overwrites. That lets several losses (or several
# micro-batches) contribute to one update, but it means a training loop must reset the gradients
# between steps: `w.grad = None` (what `optimizer.zero_grad()` does) or `w.grad.zero_()`.
#
# After `backward()` each node frees what its `forward` saved, so memory stays flat over a
# training loop. Going back through the same graph again is then an error, unless the first call
# passed `retain_graph=True`.

# %%
w = md.tensor([1.0, -2.0], requires_grad=True)
for step in range(2):
    loss = (w * w).sum()  # d/dw = 2w = [2, -4]
    loss.backward()
    print(f"after backward #{step + 1}: w.grad = {w.grad}")
w.grad = None  # reset, as optimizer.zero_grad() does
print("after w.grad = None:", w.grad)

loss = (w * w).sum()
loss.backward()
try:
    loss.backward()
except RuntimeError as err:
    print("second backward through the same graph:\n ", err)

w.grad = None
loss = (w * w).sum()
loss.backward(retain_graph=True)
loss.backward()
print("with retain_graph=True the second call works, and adds up:", w.grad)

# %% [markdown]
# ## 6. `no_grad`: computing without recording
#
# Inside `with md.no_grad():` no graph is recorded: results have no `grad_fn`, and nothing is
# kept for backward. Use it for evaluation and for updating parameters, which must not become part
# of the next step's graph. minidl refuses in-place updates of a tensor that requires grad outside
# `no_grad`, so you cannot forget. `t.detach()` gives the same data outside the graph.

# %%
w = md.tensor([1.0, -2.0], requires_grad=True)
(w * w).sum().backward()
try:
    w.sub_(0.1 * w.grad)
except RuntimeError as err:
    print("w.sub_ outside no_grad:", err)
with md.no_grad():
    w.sub_(0.1 * w.grad)  # one step of gradient descent
    probe = w * 3
print("after the step:", w, "  recorded inside no_grad?", probe.grad_fn is not None)
print("w.detach():", w.detach(), "  is_grad_enabled now:", md.is_grad_enabled())

# %% [markdown]
# ## 7. Your own `Function`
#
# Every op in minidl is a subclass of `Function` with two static methods, and so can yours
# (the same shape as PyTorch's `torch.autograd.Function`):
#
# - `forward(ctx, *inputs)` computes the output. It runs with recording off, and may stash what
#   backward will need with `ctx.save_for_backward(...)`.
# - `backward(ctx, grad)` receives ∂L/∂output and returns ∂L/∂input for each input (or `None`).
#
# `Softplus.apply(x)` runs forward and, because `x` requires grad, turns `ctx` into the output's
# `grad_fn`. Here is softplus, log(1 + eˣ), a smooth ReLU whose derivative is the sigmoid:


# %%
class Softplus(md.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x.exp() + 1).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()  # d/dx log(1 + e^x) = e^x / (1 + e^x)


def softplus(x):
    return Softplus.apply(x)


x = md.linspace(-4, 4, 201, requires_grad=True)
s = softplus(x)
print("s.grad_fn:", s.grad_fn, "  (its name comes from the class: Softplus + 'Backward')")
s.sum().backward()  # the sum's gradient is 1 everywhere, so x.grad = softplus'(x)
print("max |x.grad - sigmoid(x)| =", (x.grad - x.detach().sigmoid()).abs().max().item())
print(
    "gradcheck (chapter 3) agrees:", md.gradcheck(softplus, md.randn(5, dtype=md.float64, requires_grad=True))
)

# %% [markdown]
# Our op is a node like any other. Use it inside a bigger expression and draw the graph;
# `show_saved=True` also lists what each node saved for backward.

# %%
w = md.randn(3, requires_grad=True)
v = md.randn(3, requires_grad=True)
loss = (softplus(w * v) - w).mean()
print(md.viz.to_dot(loss, names={"w": w, "v": v, "loss": loss}, show_saved=True))
print("wrote", draw(loss, "02_custom_function", names={"w": w, "v": v, "loss": loss}, show_saved=True))

# %% [markdown]
# ## 8. Something to look at
#
# Softplus and the derivative autograd computed for it, over the 201 points of `x`, with the
# sigmoid (the derivative we worked out by hand) dashed on top, and ReLU for comparison.

# %%
xs = x.detach().numpy()
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(xs, s.detach().numpy(), label="softplus(x) = log(1 + eˣ)", lw=2)
ax.plot(xs, np.maximum(xs, 0), color="gray", lw=1, label="relu(x)")
ax.plot(xs, x.grad.numpy(), label="x.grad from backward()", lw=3, alpha=0.6)
ax.plot(xs, 1 / (1 + np.exp(-xs)), "k--", lw=1, label="sigmoid(x), by hand")
ax.set_xlabel("x")
ax.legend()
ax.grid(alpha=0.3)
ax.set_title("A custom Function and the gradient autograd found for it")
fig.tight_layout()
path = os.path.join(OUT, "02_softplus_grad.png")
fig.savefig(path, dpi=100)
print("wrote", path)
print("graphs:", sorted(f for f in os.listdir(OUT) if f.startswith("02_") and f.endswith((".dot", ".svg"))))

# %% [markdown]
# ## Exercises
#
# 1. Differentiate `L = x * exp(x * y)` by hand at `x = 1, y = -0.5`, then check with `backward()`.
#    Draw its graph: how many arrows leave `x`, and why?
# 2. Our `Softplus.forward` overflows for large `x` (try `x = 100.0` in float32). Rewrite it as
#    `max(x, 0) + log(1 + exp(-|x|))` using `md.maximum`, `abs` and `exp`, keep the same
#    `backward`, and check it with `md.gradcheck`.
# 3. Break `tiny_backward` on purpose: replace the dependency count with "run a node as soon as
#    *any* gradient reaches it". Which gradient becomes wrong for `L = (x * y + sin x) ** 2`, and why?
# 4. Call `loss.backward()` twice on purpose, then print `md.viz.to_dot(loss, show_saved=True)`:
#    which parts of the graph did the first backward free, and which did it keep?
