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
# # Chapter 9 — The GPU
#
# A GPU runs thousands of multiply-adds at once, but every operation sent to it pays a fixed price
# first: launching the work, and moving the data there if it is not there yet. This chapter shows
#
# 1. how minidl finds out whether a GPU is usable, and why not when it is not;
# 2. the one switch that moves work to the GPU — `MINIDL_DEVICE=cuda`, `md.set_default_device`,
#    `tensor.to("cuda")`, `model.to("cuda")` — and that the training code itself does not change;
# 3. that the tensors of one operation must live on one device, and the error you get otherwise;
# 4. when the GPU wins and when it does not: the time of a matrix product and of a training step
#    as the problem grows, on the CPU and (when there is one) on the GPU, as a table and a PNG.
#
# It runs to the end without a GPU (or without CuPy): then it says why, and measures the CPU side.
#
# **What runs on the GPU.** A CUDA tensor holds a [CuPy](https://cupy.dev) array. The four kernel
# families of chapter 6 — matmul, conv2d, pooling, softmax — run as minidl's own CUDA kernels
# (`csrc/cuda/*.cu`, module `minidl._C_cuda`), the twins of the C++ ones with the same names;
# every other op (element-wise, reductions, indexing) is the same `functional/` code as on the CPU,
# executed by CuPy. `backend/kernels.py` picks `_C_cuda` for CuPy arrays the way it picks
# `minidl._C` for NumPy arrays, so no code above it knows which device it runs on.
#
# Where the code lives:
#
# - [`minidl/backend/device.py`](../minidl/backend/device.py): `Device`, the default device and
#   `MINIDL_DEVICE`, NumPy or CuPy (`xp_for`, `xp_of`), the CUDA probe and its reason
# - [`minidl/cuda.py`](../minidl/cuda.py): `is_available`, `unavailable_reason`, `device_count`,
#   `synchronize`
# - [`minidl/autograd/function.py`](../minidl/autograd/function.py): `_check_same_device`, the
#   check every op makes before it runs
# - [`minidl/autograd/convert.py`](../minidl/autograd/convert.py) and
#   [`minidl/nn/module.py`](../minidl/nn/module.py): `Tensor.to`, `Module.to`
# - [`minidl/backend/kernels.py`](../minidl/backend/kernels.py): `_implementation`, which picks
#   the kernel for the device an array lives on, and
#   [`minidl/backend/cuda_kernels.py`](../minidl/backend/cuda_kernels.py), which hands a CUDA
#   kernel CuPy's pointers and stream
# - [`csrc/cuda/matmul.cu`](../csrc/cuda/matmul.cu): the GPU matrix product, tiled through shared
#   memory and registers

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.functional as F
from minidl import nn

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT, DATA = md.viz.chapter_setup(seed=0)

# %% [markdown]
# ## 1. Is there a GPU?
#
# A GPU is usable when CuPy imports *and* sees a CUDA device. `md.cuda.is_available()` asks once
# (in `backend/device.py`, `_probe_cuda`) and keeps the answer; `md.cuda.unavailable_reason()`
# says what was missing. `minidl doctor` at the command line prints the same, and more.

# %%
GPU = md.cuda.is_available()
print("GPU usable:          ", GPU)
if GPU:
    print("CUDA devices:        ", md.cuda.device_count())
else:
    print("why not:             ", md.cuda.unavailable_reason())
    print(
        "-> this chapter runs on the CPU only: the GPU cells print what they would show, and the "
        "timings below are CPU timings. Run it on a machine with a GPU and CuPy to see both."
    )
if md.get_default_device().type == "cuda" and not GPU:
    # MINIDL_DEVICE=cuda was set on a machine that cannot honour it: say so and carry on on the CPU.
    print("MINIDL_DEVICE asks for cuda, which is not usable here; using the CPU")
    md.set_default_device("cpu")
print("default device:      ", md.get_default_device())
print("CPU threads (kernels):", md.get_num_threads())

# %% [markdown]
# ## 2. One switch
#
# A device is a name: `md.device("cpu")`, `md.device("cuda")`, `md.device("cuda:1")`. Making one
# needs no GPU; *using* one does. There are four ways to put work on the GPU, from the widest to
# the narrowest:
#
# | how | what it does |
# |---|---|
# | `MINIDL_DEVICE=cuda python train.py` | the default device for the whole program, without touching it |
# | `md.set_default_device("cuda")` | the same, from inside the program: new tensors are made there |
# | `x = x.to("cuda")` | a copy of one tensor on the GPU (`x.to("cpu")`, `x.cpu()` bring it back) |
# | `model.to("cuda")` | moves every parameter and buffer of a module, in place |
#
# Without a usable GPU each of them fails at once, naming the reason, rather than at some later
# op:

# %%
print(md.device("cuda"), repr(md.device("cuda:1")))
x = md.randn(3, 4)
if GPU:
    xg = x.to("cuda")
    print("x.to('cuda') ->", xg.device, "| back:", xg.to("cpu").device)
else:
    for what, attempt in [
        ("x.to('cuda')", lambda: x.to("cuda")),
        ("md.set_default_device('cuda')", lambda: md.set_default_device("cuda")),
        ("nn.Linear(4, 2).to('cuda')", lambda: nn.Linear(4, 2).to("cuda")),
    ]:
        try:
            attempt()
        except RuntimeError as err:
            print(f"{what:31s} RuntimeError: {err}")

# %% [markdown]
# The training code does not mention the device except where the data comes in. Here is a
# complete loop for the MNIST-1D CNN of chapter 7 (`minidl/train/models.py`); `DEVICE` is the GPU
# when there is one. The model is moved once; each batch, which the DataLoader makes on the CPU,
# is moved as it arrives. Everything in between — forward, loss, backward, the optimizer — runs
# where its tensors are.

# %%
from minidl.train.models import mnist1d_cnn

DEVICE = "cuda" if GPU else "cpu"
train_set = md.data.MNIST1D(root=DATA, train=True)
md.manual_seed(0)
model = mnist1d_cnn().to(DEVICE)
optimizer = md.optim.Adam(model.parameters(), lr=1e-2)
start = time.perf_counter()
for epoch in range(2):
    for x, y in md.data.DataLoader(train_set, batch_size=100, shuffle=True, seed=epoch):
        x, y = x.to(DEVICE), y.to(DEVICE)  # the only device-specific line
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(
    f"2 epochs on {DEVICE}: last loss {loss.item():.3f}, parameters on {next(model.parameters()).device}, "
    f"{time.perf_counter() - start:.1f} s"
)

# %% [markdown]
# ## 3. One op, one device
#
# minidl never copies a tensor to another device behind your back: a hidden copy would cost a
# transfer on every step and make slow code look correct. So every op checks its inputs first
# (`_check_same_device` in `autograd/function.py`, called by `Function.apply`) and refuses a mix,
# naming the op, the devices and the shapes.

# %%
a_cpu = md.ones(2, 3)
if GPU:
    b_gpu = md.ones(2, 3, device="cuda")
    try:
        a_cpu + b_gpu
    except RuntimeError as err:
        print("RuntimeError:", err)
    print("fixed:", (a_cpu.to("cuda") + b_gpu).device)
else:
    print(
        "(no GPU here, so no CUDA tensor to mix with; on a GPU machine `md.ones(2, 3) + "
        "md.ones(2, 3, device='cuda')` raises a RuntimeError that names the op, both devices and "
        "both shapes, and says to move one tensor with .to())"
    )

# %% [markdown]
# ## 4. When does the GPU win?
#
# Two costs decide it. The **work**: a product of two n x n matrices is `2 n³` floating-point
# operations; a CPU core does tens of billions per second (the table below measures yours), a
# GPU tens of *trillions*. And a **fixed cost per op**: Python, minidl's checks, and on a GPU
# launching a kernel (several microseconds, whatever the size). Small problems are all fixed cost, so the GPU cannot win
# there; large ones are all work, and it wins by a wide margin. Moving the data over PCIe costs
# too, which is why the model and the data should *stay* on the GPU.
#
# GPU ops are *asynchronous*: the call returns when the work is queued, not when it is done. A
# timer must therefore wait for the GPU (`md.cuda.synchronize()`) before it reads the clock.


# %%
def seconds_per_call(fn, device, rounds=7, round_seconds=0.004):
    """The time of one call of fn(): the fastest of ``rounds`` rounds, each the mean over enough
    calls to last about ``round_seconds``. (The fastest round is the one least disturbed by
    whatever else the machine was doing.)"""
    sync = md.cuda.synchronize if device == "cuda" else (lambda: None)
    fn()
    sync()  # warm-up: CuPy compiles its kernels on first use
    start = time.perf_counter()
    fn()
    sync()  # one timed call, to choose the calls per round
    calls = max(1, int(round_seconds / max(time.perf_counter() - start, 1e-7)))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


# What we time, as (label, device, CPU threads). The CPU runs twice: on one thread, and on all the
# threads the kernels use by default. Threads are a small version of the GPU's bargain: more
# hands for the work, and a fixed cost to start them and wait for the slowest.
THREADS = md.get_num_threads()
targets = [("cpu, 1 thread", "cpu", 1)]
if THREADS > 1:
    targets.append((f"cpu, {THREADS} threads", "cpu", THREADS))
if GPU:
    targets.append(("cuda", "cuda", THREADS))


def timed(device, threads, fn):
    md.set_num_threads(threads)
    try:
        return seconds_per_call(fn, device)
    finally:
        md.set_num_threads(THREADS)


# The fixed cost: adding two 1-element tensors
for label, device, threads in targets:
    tiny = md.ones(1, device=device)
    print(f"one tiny op, {label:14s}: {1e6 * timed(device, threads, lambda: tiny + tiny):6.1f} us")

# %% [markdown]
# ### Matrix products
#
# `a @ b` for n x n float32 matrices: on the CPU our C++ kernel (`csrc/cpu/matmul.cpp`), on the
# GPU our CUDA kernel (`csrc/cuda/matmul.cu`). GFLOP/s is `2 n³` divided by the time.

# %%
SIZES = [16, 32, 64, 128, 256, 512, 1024]
matmul_times = {label: [] for label, _, _ in targets}
for n in SIZES:
    for label, device, threads in targets:
        a, b = md.randn(n, n, device=device), md.randn(n, n, device=device)
        matmul_times[label].append(timed(device, threads, lambda: a @ b))

print(f"{'':6s}" + "".join(f" | {label:^19s}" for label, _, _ in targets))
print(f"{'n':>6s}" + "".join(f" | {'ms':>9s} {'GFLOP/s':>9s}" for _ in targets))
for i, n in enumerate(SIZES):
    print(
        f"{n:6d}"
        + "".join(
            f" | {1e3 * matmul_times[label][i]:9.3f} {2 * n**3 / matmul_times[label][i] / 1e9:9.1f}"
            for label, _, _ in targets
        )
    )

# %% [markdown]
# ### Training steps
#
# One step (forward, loss, backward, SGD update) of an MLP 256 -> 512 -> 512 -> 10 on random data,
# for growing batches. The time per *step* is what a GPU keeps almost flat while the batch grows,
# until the work finally outweighs the fixed cost of the step's few dozen ops.

# %%
BATCHES = [8, 32, 128, 512, 2048]
step_times = {label: [] for label, _, _ in targets}
for label, device, threads in targets:
    md.manual_seed(0)
    mlp = nn.Sequential(
        nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    ).to(device)
    sgd = md.optim.SGD(mlp.parameters(), lr=0.01)
    for batch in BATCHES:
        xb, yb = md.randn(batch, 256, device=device), md.randint(0, 10, size=(batch,), device=device)

        def step():
            loss = F.cross_entropy(mlp(xb), yb)
            sgd.zero_grad()
            loss.backward()
            sgd.step()

        step_times[label].append(timed(device, threads, step))

print(f"{'':6s}" + "".join(f" | {label:^19s}" for label, _, _ in targets))
print(f"{'batch':>6s}" + "".join(f" | {'ms/step':>8s} {'samples/s':>10s}" for _ in targets))
for i, batch in enumerate(BATCHES):
    print(
        f"{batch:6d}"
        + "".join(
            f" | {1e3 * step_times[label][i]:8.2f} {batch / step_times[label][i]:10,.0f}"
            for label, _, _ in targets
        )
    )
if GPU:
    for name, sizes, times in [("matmul n", SIZES, matmul_times), ("batch", BATCHES, step_times)]:
        cpu_best = np.min([times[label] for label, device, _ in targets if device == "cpu"], axis=0)
        wins = [size for size, c, g in zip(sizes, cpu_best, times["cuda"]) if g < c]
        print(
            f"the GPU beats the CPU from {name} = {wins[0]}"
            if wins
            else f"the GPU never beats the CPU at these {name} sizes"
        )

# %%
fig, (ax_mm, ax_step) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
for (label, _, _), style in zip(targets, ["o-", "s-", "^-"]):
    ax_mm.loglog(SIZES, matmul_times[label], style, label=label)
    ax_step.loglog(BATCHES, step_times[label], style, label=label)
ax_mm.set_xlabel("n (a product of two n x n float32 matrices)")
ax_mm.set_ylabel("seconds per product")
ax_mm.set_title("matmul: fixed cost first, then n³ work")
ax_step.set_xlabel("batch size")
ax_step.set_ylabel("seconds per training step")
ax_step.set_title("one SGD step of an MLP 256-512-512-10")
for ax in (ax_mm, ax_step):
    ax.grid(alpha=0.3, which="both")
    ax.legend()
if not GPU:
    fig.suptitle(f"CPU only: {md.cuda.unavailable_reason()}", fontsize=10)
path = os.path.join(OUT, "09_gpu_timings.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# Reading the curves: on the CPU, time grows with the work from small sizes on (the slope of the
# matmul curve approaches 3 on the log-log plot). A second thread only pays once a product is
# big enough to repay starting it; on a machine busy with other programs it can even cost
# milliseconds, when the kernel has to wait for a thread the operating system has put aside
# (run this chapter twice, on an idle and on a loaded machine, and compare). On a GPU the curve starts flat —
# every size costs about the launch — and only bends up at sizes where the CPU is already
# hundreds of times slower. So the GPU pays off for big matrices, big batches and big models, and
# the way to use it is to keep everything on it and give it large pieces of work; a model like
# the MNIST-1D CNN with batches of 100 is mostly fixed cost, and may well run faster on the CPU.
#
# ## Exercises
#
# 1. Time `x.to("cuda")` and `x.to("cpu")` for a tensor of 1, 1,000 and 10,000,000 floats (on a GPU
#    machine). What bandwidth do you get for the large one, and what fixed cost for the small one?
#    How many MNIST-1D batches could you move in the time of one training step?
# 2. Repeat the matmul table in float64 (`md.randn(n, n, dtype=md.float64)`). How much slower is
#    the CPU? The GPU? (Most GPUs have far fewer float64 units than float32 ones.)
# 3. Time the whole 2-epoch MNIST-1D loop of section 2 on the CPU and on the GPU, with batches of
#    100 and of 1000. Which device wins each case, and why?
# 4. Run the matmul table again inside `with md.use_kernels("reference"):`, where CUDA tensors
#    use CuPy's `matmul` (cuBLAS) instead of our kernel. How far is `csrc/cuda/matmul.cu` from
#    cuBLAS at n = 1024? Read its header: which of cuBLAS's tricks does it leave out?
