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
# # Chapter 3 — Checking gradients
#
# A wrong `backward` does not crash. The network still trains, just worse, and nobody knows why.
# So every differentiable op in minidl is checked against the one definition of a derivative that
# needs no calculus: nudge the input, watch the output. In this chapter you will
#
# - compute **finite differences** by hand, forward and central, and see on a log-log plot why the
#   step size `eps` can be neither too large (truncation error) nor too small (rounding error), in
#   float32 and in float64;
# - use **`minidl.gradcheck`**, and see how it catches a `backward` that is off by a factor, and one
#   that forgets to multiply by the incoming gradient;
# - understand why gradient checks must run in **float64**, and why `gradcheck` warns on float32;
# - check **second derivatives** with `gradgradcheck`.
#
# Where the code lives:
#
# - [`minidl/autograd/gradcheck.py`](../minidl/autograd/gradcheck.py): `gradcheck`, `gradgradcheck`;
# - [`minidl/autograd/function.py`](../minidl/autograd/function.py): `Function`, which our buggy ops subclass;
# - [`minidl/autograd/engine.py`](../minidl/autograd/engine.py): `grad(..., create_graph=True)`,
#   used for second derivatives;
# - [`tests/test_ops_gradcheck.py`](../tests/test_ops_gradcheck.py): how minidl checks every op, on
#   shapes drawn at random.

# %%
import math
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import minidl as md

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT = md.viz.chapter_setup(seed=0).out

# %% [markdown]
# ## 1. Finite differences by hand
#
# The derivative is the limit of a difference quotient. Stop before the limit, at a small step
# `h`, and you get an estimate:
#
# - **forward** difference: $f'(x) \approx \dfrac{f(x+h) - f(x)}{h}$, error $\approx \tfrac{h}{2}|f''(x)|$;
# - **central** difference: $f'(x) \approx \dfrac{f(x+h) - f(x-h)}{2h}$, error $\approx \tfrac{h^2}{6}|f'''(x)|$.
#
# That is the **truncation** error: it shrinks as `h` shrinks. But the computer stores
# f(x + h) and f(x) rounded to a relative precision ε (about 6·10⁻⁸ in float32, 1.1·10⁻¹⁶ in
# float64), and the difference of two nearly equal rounded numbers, divided by a tiny `h`, blows
# that rounding up: error ≈ ε|f|/h. The total error is smallest in between, where the two meet:
# near h ≈ √ε for the forward difference and h ≈ ∛ε for the central one.
#
# Let us measure it on f(x) = sin(x)·eˣ at x = 1, whose exact derivative is eˣ(sin x + cos x),
# computing f with minidl tensors in both dtypes.

# %%
x0 = 1.0
exact = math.exp(x0) * (math.sin(x0) + math.cos(x0))


def f(value, dtype):
    t = md.tensor(value, dtype=dtype)
    return (t.sin() * t.exp()).item()


steps = np.logspace(-13, 0, 66)
errors = {}
for dtype in (md.float32, md.float64):
    fx = f(x0, dtype)
    forward = [abs((f(x0 + h, dtype) - fx) / h - exact) for h in steps]
    central = [abs((f(x0 + h, dtype) - f(x0 - h, dtype)) / (2 * h) - exact) for h in steps]
    errors[str(dtype), "forward"] = np.array(forward)
    errors[str(dtype), "central"] = np.array(central)

print(f"exact f'(1) = {exact:.10f}\n")
print(f"{'dtype':8s} {'scheme':8s} {'best h':>9s} {'error there':>12s} {'theory: h ~':>12s}")
for (dtype, scheme), err in errors.items():
    machine_eps = float(np.finfo(dtype).eps)
    predicted = machine_eps ** (1 / 2 if scheme == "forward" else 1 / 3)
    best = int(np.argmin(err))
    print(f"{dtype:8s} {scheme:8s} {steps[best]:9.1e} {err[best]:12.1e} {predicted:12.1e}")

# %% [markdown]
# The best float32 estimate is only good to about three or four digits, whatever `h` you pick.
# float64 gets to ten. Keep that in mind for section 4.
#
# The same idea gives the whole gradient of a function of many inputs: nudge one element at a
# time (that is what `gradcheck` does). Here, by hand, for f(x) = Σ tanh(xᵢ)·xᵢ in float64:


# %%
def numeric_gradient(fn, x, eps=1e-6):
    """Central differences, one element at a time (x is changed in place and restored)."""
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        original = x.data[idx]
        x.data[idx] = original + eps
        plus = fn(x).item()
        x.data[idx] = original - eps
        minus = fn(x).item()
        x.data[idx] = original
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def fn(x):
    return (x.tanh() * x).sum()


x = md.randn(3, 4, dtype=md.float64, requires_grad=True)
fn(x).backward()
numeric = numeric_gradient(fn, x)
print("max |backward - finite differences| =", np.abs(x.grad.numpy() - numeric).max())

# %% [markdown]
# ## 2. `minidl.gradcheck`
#
# [`gradcheck(fn, inputs)`](../minidl/autograd/gradcheck.py) automates this, with two refinements:
#
# - `fn` may return any tensor, not just a scalar. gradcheck picks a fixed **random** tensor `v` of
#   the output's shape and checks the scalar L = Σ v·fn(x). One `backward()` gives the analytic
#   gradient of L for every input; central differences of L give the numeric one.
# - It compares them with a tolerance, `|analytic - numeric| ≤ atol + rtol·|numeric|`, and either
#   returns `True` or raises `GradcheckError` listing the worst entries.
#
# It checks every input that has `requires_grad=True`, so you can check an op with respect to
# each of its arguments at once.

# %%
A = md.randn(3, 4, dtype=md.float64, requires_grad=True)
B = md.randn(4, 2, dtype=md.float64, requires_grad=True)
bias = md.randn(2, dtype=md.float64, requires_grad=True)
checks = {
    "matmul + broadcast add": (lambda a, b, c: a @ b + c, (A, B, bias)),
    "softmax(dim=1)": (lambda a: a.softmax(dim=1), (A,)),
    "log_softmax + mean": (lambda a: a.log_softmax(dim=0).mean(), (A,)),
    "x / (1 + x^2)": (lambda a: a / (1 + a * a), (A,)),
    "max over dim 0 (values)": (lambda a: a.max(dim=0).values, (A,)),
}
for name, (func, args) in checks.items():
    print(f"{name:24s} gradcheck -> {md.gradcheck(func, args)}")

# %% [markdown]
# ## 3. Catching bugs
#
# Here is a `Function` for x³, written correctly, and a subclass that keeps its `forward` and
# replaces `backward` with the classic slip: the derivative is 3x², and we wrote 2x². gradcheck
# passes the first and, for the second, says where and by how much: the analytic values are
# exactly 2/3 of the numeric ones.


# %%
class Cube(md.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x  # d(x^3)/dx = 3 x^2


class BuggyCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x  # BUG: d(x^3)/dx = 3 x^2


x = md.randn(4, dtype=md.float64, requires_grad=True)
print("Cube:", md.gradcheck(Cube.apply, x))
try:
    md.gradcheck(BuggyCube.apply, x)
except md.GradcheckError as err:
    print(err)

# %% [markdown]
# A subtler bug: a `backward` that returns the local derivative but forgets to multiply by the
# incoming gradient `grad`. If you test it only through `.sum()`, as we did by hand in section 1,
# the incoming gradient is all ones, and the bug hides. This is why gradcheck weights the output by
# a *random* `v`.


# %%
class ForgetfulCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x  # BUG: should be grad * 3 x^2


x = md.randn(4, dtype=md.float64, requires_grad=True)


def summed(t):
    return ForgetfulCube.apply(t).sum()


summed(x).backward()
print("by hand, through .sum():     ", np.allclose(x.grad.numpy(), numeric_gradient(summed, x)))
print("gradcheck (random weights v):", md.gradcheck(ForgetfulCube.apply, x, raise_exception=False))

# %% [markdown]
# ## 4. Why float64
#
# Section 1 showed that float32 finite differences are good to three or four digits at best, and
# much worse at gradcheck's default `eps = 1e-6`, where rounding dominates. So a gradient check in
# float32 fails *correct* gradients, or, with tolerances loose enough to pass them, lets real bugs
# through. gradcheck therefore warns when an input is not float64. Here is a correct op (tanh)
# checked in float32: a warning, and a failure that is not tanh's fault.

# %%
x32 = md.randn(6, requires_grad=True)  # float32
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ok32 = md.gradcheck(lambda t: t.tanh(), x32, raise_exception=False)
print("float32:", ok32, "| warning:", caught[0].message if caught else None)
x64 = x32.detach().double().requires_grad_()
print("float64:", md.gradcheck(lambda t: t.tanh(), x64))

# %% [markdown]
# The ops themselves are fine in float32 — that is what we train in. Only the *check* needs the
# extra digits. minidl's native C++ kernels exist in float64 too, so the checks in
# `tests/test_ops_gradcheck.py` run through the same code paths that training uses.

# %% [markdown]
# ## 5. Second derivatives: `gradgradcheck`
#
# `backward(create_graph=True)` records the backward pass itself, so a gradient can be
# differentiated again: Hessian-vector products, gradient penalties, meta-learning.
# `gradgradcheck(fn, inputs)` checks that: it applies gradcheck to the function x ↦ ∂L/∂x.
#
# That only works when `backward` is written with **tensor ops**, as minidl's are. A `backward`
# that drops to raw NumPy arrays gives correct first derivatives, and gradcheck passes; but its
# gradient is cut from the graph, a constant as far as autograd knows, and gradgradcheck catches it.

# %% [markdown]
# `Cube` from section 3 is written in tensor ops. Its twin below keeps the same forward and computes
# the same 3x² in NumPy:


# %%
class NumpyCube(Cube):
    """Same forward; backward computed in NumPy, outside the graph."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * md.from_numpy(3 * x.detach().numpy() ** 2)


x = md.randn(5, dtype=md.float64, requires_grad=True)
for op in (Cube, NumpyCube):
    first = md.gradcheck(op.apply, x, raise_exception=False)
    second = md.gradgradcheck(op.apply, x, raise_exception=False)
    print(f"{op.__name__:10s} gradcheck: {first!s:5s}   gradgradcheck: {second}")

# Hessian-vector product by hand: d/dx (v . dL/dx) with create_graph=True; for x^3 it is 6 x v
v = md.randn(5, dtype=md.float64)
(g,) = md.grad(Cube.apply(x).sum(), x, create_graph=True)
(hv,) = md.grad((g * v).sum(), x)
print("Hessian-vector product matches 6 x v:", np.allclose(hv.numpy(), 6 * x.detach().numpy() * v.numpy()))

# %% [markdown]
# ## 6. Something to look at
#
# The error of the four finite-difference estimates from section 1, against the step `h`, on
# log-log axes. Going left from `h = 1`, each curve first falls along its truncation slope (1 for
# forward, 2 for central), then turns and rises along the rounding slope −1, in float32 long before
# float64. float32's flat top on the left is where `x + h` rounds back to `x`: the estimate is 0.

# %%
fig, ax = plt.subplots(figsize=(7, 4.6))
styles = {
    ("float32", "forward"): ("tab:red", "--"),
    ("float32", "central"): ("tab:red", "-"),
    ("float64", "forward"): ("tab:blue", "--"),
    ("float64", "central"): ("tab:blue", "-"),
}
for key, err in errors.items():
    color, line = styles[key]
    shown = np.maximum(err, 1e-17)  # an exact hit would be log(0)
    ax.loglog(steps, shown, line, color=color, label=f"{key[0]} {key[1]}")
    best = int(np.argmin(err))
    ax.plot(steps[best], shown[best], "o", color=color)
ax.axvline(1e-6, color="gray", lw=0.8, ls=":", label="gradcheck's default eps")
ax.set_xlabel("step h")
ax.set_ylabel("|estimate − exact derivative|")
ax.set_title("Finite differences of sin(x)·eˣ at x = 1: truncation vs rounding")
ax.legend(loc="lower left", fontsize=9)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
path = os.path.join(OUT, "03_finite_difference_error.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# ## Exercises
#
# 1. Add a third scheme to the plot, the five-point stencil
#    $\frac{-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)}{12h}$. What slope does its truncation error
#    have, and where is its best `h` in float64?
# 2. Write a `Function` for `x * sin(x)` with a wrong sign somewhere in `backward`, and read
#    gradcheck's message. Then fix it and make `gradgradcheck` pass too.
# 3. Find the smallest `atol` at which `md.gradcheck(lambda t: t.tanh(), x32, eps=1e-3, atol=..., rtol=0)`
#    passes in float32. Would that tolerance catch `BuggyCube`'s factor of 2/3 on inputs near 0.01?
# 4. Run `md.gradcheck(lambda a: a.abs(), x)` with `x = md.tensor([0.0, 1e-7, 0.5], dtype=md.float64,
#    requires_grad=True)`. Which entry fails, why is that not a bug in `abs`, and why does the
#    exact 0 pass?
