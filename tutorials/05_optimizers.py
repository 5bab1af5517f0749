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
# # Chapter 5 — Optimizers
#
# Chapter 4 trained with `optim.SGD` and `optim.Adam` and left open what they do. This chapter
# opens them up:
#
# 1. the update rules of **gradient descent, SGD, momentum and Adam**, and where each line of them
#    lives in minidl;
# 2. their **paths on two 2-D functions** you can see whole: a long, narrow quadratic valley and
#    the Rosenbrock banana;
# 3. their **loss curves on the MNIST-1D MLP** of chapter 4 (and one with a schedule);
# 4. **learning-rate schedules** (`StepLR`, `CosineAnnealingLR`, `OneCycleLR`) and what they do to
#    the learning rate step by step.
#
# Where the code lives:
#
# | what | file |
# |---|---|
# | `Optimizer`: parameter groups, `zero_grad`, `step`, state dicts | [`../minidl/optim/optimizer.py`](../minidl/optim/optimizer.py) |
# | `SGD` (momentum, Nesterov, weight decay) | [`../minidl/optim/sgd.py`](../minidl/optim/sgd.py) |
# | `Adam` (and `AdamW`, `RMSprop`) | [`../minidl/optim/adam.py`](../minidl/optim/adam.py), [`adamw.py`](../minidl/optim/adamw.py), [`rmsprop.py`](../minidl/optim/rmsprop.py) |
# | schedulers | [`../minidl/optim/lr_scheduler.py`](../minidl/optim/lr_scheduler.py) |
#
# It writes three pictures to the output folder: `optimizer_paths.png`, `optimizer_mnist1d.png`
# and `lr_schedules.png`.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
from minidl import nn, optim
from minidl.data import MNIST1D, DataLoader
from minidl.train.models import mnist1d_mlp  # chapter 4's MLP, 40-100-100-10

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)
md.set_num_threads(1)  # tiny matrices: one thread is faster (see chapter 4, and chapter 6 on threads)

# %% [markdown]
# ## 1. The update rules
#
# Every optimizer in minidl has the same shape ([`optimizer.py`](../minidl/optim/optimizer.py)):
# `step()` walks over the parameters that have a gradient and calls the subclass's
# `_update(p, grad, group, state)`, where `group` holds the hyperparameters (`lr`, `momentum`, ...)
# and `state` is a per-parameter dict that survives from one step to the next (the momentum
# buffer, Adam's moments). Below, θ is a parameter, g its gradient, η the learning rate.
#
# **Gradient descent (GD).** Step downhill along the exact gradient of the loss over the whole
# data set:
#
# $$\theta \leftarrow \theta - \eta\, \nabla L(\theta).$$
#
# **Stochastic gradient descent (SGD).** The same rule, with g computed on a random minibatch: an
# unbiased but noisy estimate of ∇L that costs a fraction of a full pass. This is `optim.SGD`
# with `momentum=0`: its `_update` ends in `p.add_(grad, alpha=-group["lr"])`.
#
# **Momentum** (heavy ball). Keep a running sum of past gradients, a *velocity* b, and step along
# it. minidl uses PyTorch's form, in which the buffer starts as the first gradient:
#
# $$b_t = \mu\, b_{t-1} + g_t, \qquad \theta \leftarrow \theta - \eta\, b_t .$$
#
# Where successive gradients agree, b grows towards g / (1 − μ), so with μ = 0.9 steps get up to
# ten times longer; where they flip sign (across a narrow valley) they cancel. In
# [`sgd.py`](../minidl/optim/sgd.py) this is the `momentum_buffer` in `state`, updated in place
# with `buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])` (dampening is 0 by default).
#
# **Adam** keeps two running averages per coordinate, of the gradient and of its square, and
# divides one by the square root of the other:
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,$$
# $$\theta \leftarrow \theta - \eta\, \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \varepsilon}.$$
#
# The divisions by 1 − βᵗ undo the pull towards zero of averages that start at zero. Because each
# coordinate is divided by its own typical gradient size, Adam's steps are about η long in every
# coordinate whatever the scale of the gradient: a coordinate with tiny gradients moves as fast
# as one with large gradients. [`adam.py`](../minidl/optim/adam.py) has the formula in its
# docstring and the same lines in `_update` (`exp_avg`, `exp_avg_sq`, `bias_correction1`, ...).
#
# A formula is only a claim until checked. At step 1 the bias corrections make m̂ = g and v̂ = g²,
# so Adam's first step is η·g/(|g| + ε) ≈ η·sign(g): the same length in every coordinate, whatever
# the gradient. Let us check that on `optim.Adam` itself, with gradients a million times apart,
# next to plain SGD and the momentum rule written out by hand:


# %%
def one_parameter(values):
    return md.tensor(values, requires_grad=True)


g = md.tensor([3.0, -1e-6, 200.0])  # a gradient whose coordinates differ wildly in size

p = one_parameter([0.0, 0.0, 0.0])
opt = optim.Adam([p], lr=0.1)
p.grad = g.clone()
opt.step()
print("Adam, first step:        ", p.detach().numpy(), "  (≈ -0.1·sign(g))")
print("    (the middle one falls 1 % short: ε = 1e-8 added to |g| = 1e-6 in the denominator)")

p = one_parameter([0.0, 0.0, 0.0])
opt = optim.SGD([p], lr=0.1)
p.grad = g.clone()
opt.step()
print("SGD, first step:         ", p.detach().numpy(), "  (= -0.1·g)")

# momentum: two steps with gradients g1, g2, against the formula b1 = g1, b2 = 0.9 b1 + g2
g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
p = one_parameter([0.0, 0.0])
opt = optim.SGD([p], lr=0.1, momentum=0.9)
for gt in (g1, g2):
    p.grad = md.tensor(gt.astype(np.float32))
    opt.step()
b1 = g1
b2 = 0.9 * b1 + g2
print("momentum, two steps:     ", p.detach().numpy(), "  by hand:", -0.1 * b1 - 0.1 * b2)

# %% [markdown]
# ## 2. Paths on two functions we can see
#
# Any function of a tensor can be minimised by these optimizers, not only a network's loss. We
# take two functions of a point θ = (x, y) and record where each optimizer goes:
#
# - an **ill-conditioned quadratic**, f = ½(x² + 20 y²): a valley twenty times steeper across
#   (y) than along (x). A step that is safe across the valley is tiny along it. This is the
#   situation in a real network, whose loss is much more curved in some directions than in others.
# - the **Rosenbrock function**, f = (1 − x)² + 100 (y − x²)², minimum at (1, 1) at the end of a
#   curved, flat-bottomed valley.
#
# For "SGD" we add Gaussian noise to the exact gradient, standing in for the minibatch noise of
# real training; "GD" uses the exact gradient. Each path starts at the black dot; a large dot of
# the path's colour marks where it ends, and the star is the minimum. The loop is the usual one: loss, `zero_grad`,
# `backward`, `step`.


# %%
def quadratic(p):
    return 0.5 * (p[0] ** 2 + 20 * p[1] ** 2)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def optimize(make_optimizer, f, start, steps, noise=0.0, seed=0):
    """The path (steps + 1, 2) that an optimizer takes from ``start`` on the function f."""
    md.manual_seed(seed)
    p = md.tensor(start, requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        loss = f(p)
        opt.zero_grad()
        loss.backward()
        if noise:
            with md.no_grad():
                p.grad.add_(noise * md.randn(2))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


problems = {
    "quadratic  ½(x² + 20y²)": dict(
        f=quadratic,
        start=[-4.5, 1.5],
        steps=60,
        xlim=(-5, 1.5),
        ylim=(-2, 2),
        minimum=(0, 0),
        runs={
            "GD  (lr 0.09)": (lambda ps: optim.SGD(ps, lr=0.09), 0.0),
            "SGD (lr 0.05, noisy gradient)": (lambda ps: optim.SGD(ps, lr=0.05), 3.0),
            "momentum (lr 0.03, μ 0.8)": (lambda ps: optim.SGD(ps, lr=0.03, momentum=0.8), 0.0),
            "Adam (lr 0.3)": (lambda ps: optim.Adam(ps, lr=0.3), 0.0),
        },
    ),
    "Rosenbrock": dict(
        f=rosenbrock,
        start=[-1.5, 2.0],
        steps=1000,
        xlim=(-2, 2),
        ylim=(-1, 3),
        minimum=(1, 1),
        runs={
            "GD  (lr 1e-3)": (lambda ps: optim.SGD(ps, lr=1e-3), 0.0),
            "SGD (lr 1e-3, noisy gradient)": (lambda ps: optim.SGD(ps, lr=1e-3), 10.0),
            "momentum (lr 1e-3, μ 0.9)": (lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9), 0.0),
            "Adam (lr 0.05)": (lambda ps: optim.Adam(ps, lr=0.05), 0.0),
        },
    ),
}

paths = {}
for title, prob in problems.items():
    print(f"{title}: start {prob['start']}, {prob['steps']} steps, minimum at {prob['minimum']}")
    for name, (make, noise) in prob["runs"].items():
        path = optimize(make, prob["f"], prob["start"], prob["steps"], noise)
        paths[title, name] = path
        end = path[-1]
        print(
            f"    {name:32s} ends at ({end[0]:7.3f}, {end[1]:7.3f})   f = {float(prob['f'](md.tensor(end))):.2e}"
        )

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
colors = ["C3", "C7", "C0", "C2"]
for ax, (title, prob) in zip(axes, problems.items()):
    xs = np.linspace(*prob["xlim"], 300)
    ys = np.linspace(*prob["ylim"], 300)
    X, Y = np.meshgrid(xs, ys)
    Z = prob["f"](md.tensor(np.stack([X, Y]))).numpy()  # the same function, on a whole grid at once
    ax.contour(X, Y, Z, levels=np.logspace(-1.5, 3.5, 21), colors="0.7", linewidths=0.6)  # log-spaced levels
    # drawn last-to-first, so the short paths (GD) are not hidden under the long ones
    for (name, _), color in reversed(list(zip(prob["runs"].items(), colors))):
        path = paths[title, name]
        ax.plot(path[:, 0], path[:, 1], ".-", color=color, ms=2, lw=1, label=name, alpha=0.85)
        ax.plot(*path[-1], "o", color=color, ms=9, mec="k")
    ax.plot(*prob["start"], "ko", ms=5)
    ax.plot(*prob["minimum"], "k*", ms=12)
    ax.set(
        title=f"{title}: {prob['steps']} steps", xlim=prob["xlim"], ylim=prob["ylim"], xlabel="x", ylabel="y"
    )
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        labels[::-1],
        fontsize=8,
        loc="upper right" if prob["f"] is quadratic else "lower right",
    )
fig.tight_layout()
path = os.path.join(OUT, "optimizer_paths.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# What the picture shows:
#
# - **GD** on the quadratic zig-zags across the valley (its step is almost too large for the steep
#   direction: each step overshoots and lands on the other side) while it crawls along the valley
#   floor (the same step is small for the shallow direction). The condition number, the ratio of
#   the largest to the smallest curvature (here 20), sets how slow that is. On Rosenbrock GD
#   reaches the valley quickly and then creeps along its flat floor: after 1000 steps it is
#   still on the far side, near (−0.66, 0.44).
# - **SGD** goes the same way with a jitter; with a constant learning rate it never settles at the
#   minimum but keeps moving in a cloud around it, whose size shrinks with the learning rate
#   (which is what learning-rate schedules, section 4, exploit).
# - **Momentum**'s sideways oscillations cancel in the buffer while the along-valley steps add
#   up: it takes the valley floor at speed, and on Rosenbrock it reaches (1, 1).
# - **Adam** moves at about η per coordinate regardless of gradient size, so it is not slowed by
#   the flat floor; with a constant η it ends wobbling around the minimum at a distance of
#   roughly η.
#
# ## 3. The same optimizers on the MNIST-1D MLP
#
# Now the real thing: chapter 4's MLP (40-100-100-10, `mnist1d_mlp` from
# [`../minidl/train/models.py`](../minidl/train/models.py)) on MNIST-1D, 15 epochs of batches of 100
# (600 steps), the same initial weights and the same batches for every optimizer, so only the
# update rule differs. We record the loss of every batch.

# %%
train_set = MNIST1D(root=DATA, train=True)
test_set = MNIST1D(root=DATA, train=False)


def test_accuracy(model):
    model.eval()
    with md.no_grad():
        x, y = next(iter(DataLoader(test_set, batch_size=len(test_set))))
        acc = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    return acc


EPOCHS = 15
STEPS_PER_EPOCH = len(DataLoader(train_set, batch_size=100))


def train_mlp(make_optimizer, make_scheduler=None):
    md.manual_seed(0)  # same initial weights for every optimizer ...
    model = mnist1d_mlp()
    opt = make_optimizer(model.parameters())
    scheduler = make_scheduler(opt) if make_scheduler else None
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(train_set, batch_size=100, shuffle=True, seed=0)  # ... and same batches
    losses = []
    for _ in range(EPOCHS):
        for x, y in loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()  # OneCycleLR moves on after every batch
            losses.append(loss.item())
    return np.array(losses), test_accuracy(model)


runs = {
    "SGD (lr 0.1)": (lambda ps: optim.SGD(ps, lr=0.1), None),
    "momentum (lr 0.1, μ 0.9)": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), None),
    "Adam (lr 1e-2)": (lambda ps: optim.Adam(ps, lr=1e-2), None),
    "momentum (lr 0.3, μ 0.9)": (lambda ps: optim.SGD(ps, lr=0.3, momentum=0.9), None),
    "momentum + OneCycleLR (max lr 0.3)": (
        lambda ps: optim.SGD(ps, lr=0.3, momentum=0.9),
        lambda opt: optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=EPOCHS * STEPS_PER_EPOCH),
    ),
}
curves = {}
for name, (make_optimizer, make_scheduler) in runs.items():
    t0 = time.perf_counter()
    losses, acc = train_mlp(make_optimizer, make_scheduler)
    curves[name] = (losses, acc)
    print(
        f"{name:36s} last-epoch loss {losses[-STEPS_PER_EPOCH:].mean():.3f}   "
        f"test accuracy {100 * acc:.1f} %   ({time.perf_counter() - t0:.1f} s)"
    )


# %%
def smooth(values, width=20):
    """A moving average, so the trend shows through the batch-to-batch noise."""
    kernel = np.ones(width) / width
    return np.convolve(values, kernel, mode="valid")


fig, ax = plt.subplots(figsize=(8, 4.8))
for (name, (losses, acc)), color, style in zip(
    curves.items(), ("C7", "C0", "C2", "C3", "C1"), ("-", "-", "-", "--", "-")
):
    ax.plot(losses, color=color, alpha=0.12, lw=0.8)
    ax.plot(
        np.arange(len(smooth(losses))) + 10,
        smooth(losses),
        color=color,
        lw=1.8,
        ls=style,
        label=f"{name}: test acc {100 * acc:.1f} %",
    )
ax.set(
    yscale="log",
    xlabel="step (batch of 100)",
    ylabel="training loss (cross-entropy)",
    title=f"MNIST-1D MLP, {EPOCHS} epochs: same model, data and batches; only the updates differ",
)
ax.legend(fontsize=9)
fig.tight_layout()
path = os.path.join(OUT, "optimizer_mnist1d.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# Plain SGD makes steady but slow progress; momentum, taking longer steps where the gradients
# agree, gets much further in the same number of steps; Adam, at the learning rate of the
# MNIST-1D paper, gets further still. Adam is also the least sensitive of the three to its
# learning rate (try a few), which is why it is the usual first choice.
#
# The last two curves use momentum SGD with a learning rate three times larger, 0.3. As a
# constant (dashed) it is too large: the loss is noisy and stays high. The same peak reached
# through the **OneCycle** schedule of section 4 (a slow warm-up, then a long decay to almost
# zero) gives the lowest training loss of all, and in our runs the best test accuracy too, close
# to the paper's 68 % for this MLP after 150 epochs, here in 15. (Lower training loss is not
# automatically higher test accuracy: the MLP overfits, as chapter 4 showed.)
#
# ## 4. Learning-rate schedules
#
# A constant learning rate is a compromise: large enough to make progress early, it keeps the
# parameters bouncing around (section 2's SGD cloud) at the end. A **scheduler** changes
# `group["lr"]` as training goes on; it is a separate object that you `step()` after
# `optimizer.step()`, and the optimizer never needs to know about it
# ([`lr_scheduler.py`](../minidl/optim/lr_scheduler.py)):
#
# - `StepLR(opt, step_size, gamma)`: multiply by γ every `step_size` steps, η_t = η₀ γ^⌊t/s⌋;
# - `CosineAnnealingLR(opt, T_max)`: half a cosine from η₀ down to `eta_min` over `T_max` steps;
# - `OneCycleLR(opt, max_lr, total_steps)`: warm up from max_lr/25 to max_lr over the first 30 %,
#   then anneal to almost zero; with momentum it also moves μ the opposite way (0.95 → 0.85 → 0.95).
#
# We build each on an optimizer of one dummy parameter and simply record the lr it sets at every
# step; no training is needed to see a schedule.

# %%
TOTAL = EPOCHS * STEPS_PER_EPOCH


def record(make_scheduler, lr=0.1):
    opt = optim.SGD([md.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
    scheduler = make_scheduler(opt)
    lrs, momenta = [], []
    for _ in range(TOTAL):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()  # no gradients: a no-op, but the order of calls is the real one
        scheduler.step()
    return np.array(lrs), np.array(momenta)


schedules = {
    "StepLR(step_size=150, gamma=0.5)": lambda opt: optim.lr_scheduler.StepLR(opt, step_size=150, gamma=0.5),
    f"CosineAnnealingLR(T_max={TOTAL})": lambda opt: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL),
    f"OneCycleLR(max_lr=0.1, total_steps={TOTAL})": lambda opt: optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, total_steps=TOTAL
    ),
}
recorded = {name: record(make) for name, make in schedules.items()}

print(f"{'schedule':44s} " + " ".join(f"{'step ' + str(s):>10s}" for s in (0, 100, 200, 300, 450, TOTAL - 1)))
for name, (lrs, _) in recorded.items():
    print(f"{name:44s} " + " ".join(f"{lrs[s]:10.5f}" for s in (0, 100, 200, 300, 450, TOTAL - 1)))

fig, (ax_lr, ax_mom) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]})
for (name, (lrs, momenta)), color in zip(recorded.items(), ("C0", "C2", "C1")):
    ax_lr.plot(lrs, color=color, label=name)
    ax_mom.plot(momenta, color=color, label=name.split("(")[0])
ax_lr.set(xlabel="step", ylabel="learning rate", title="learning-rate schedules (base / max lr 0.1)")
ax_mom.set(xlabel="step", ylabel="SGD momentum μ", title="momentum (only OneCycleLR moves it)")
ax_lr.legend(fontsize=9)
ax_mom.legend(fontsize=8)
fig.tight_layout()
path = os.path.join(OUT, "lr_schedules.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# The OneCycle run of `optimizer_mnist1d.png` followed the orange curve scaled to a peak of 0.3.
# Its loss starts slowly (the lr is max_lr/25 at first), falls fast around the peak, and the long
# tail of tiny steps at the end lets it settle into a minimum instead of bouncing around it, which
# is why its loss drops below Adam's over the last few hundred steps. The warm-up is what makes
# the high peak safe: by the time the lr is large, the weights have left the steep region near
# their initialisation.
#
# ## Exercises
#
# 1. Run SGD with momentum 0.9 and lr 0.01 on the MLP and compare its loss curve with plain SGD at
#    lr 0.1. Explain what you see with the "b grows towards g / (1 − μ)" argument of section 1.
# 2. On the quadratic, raise GD's learning rate from 0.09 to 0.1 and then 0.11. Show that the
#    limit is 2 / 20, two over the steepest curvature, and explain why (look at what one step
#    does to y alone: y ← (1 − 20 η) y).
# 3. Rotate the quadratic by 45° (f = ½ θᵀ A θ with A = R diag(1, 20) Rᵀ) and run Adam again. Its
#    per-coordinate scaling no longer lines up with the valley: what happens to its path?
# 4. Write `Nesterov` momentum by hand as a subclass of `optim.Optimizer` with its own `_update`,
#    and check it against `optim.SGD(..., momentum=0.9, nesterov=True)` for a few steps.
