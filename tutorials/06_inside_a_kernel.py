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
# # Chapter 6 — Inside a kernel
#
# Every `x @ w` in chapters 4 and 5 ended in a *kernel*: a function that does one heavy
# operation on raw arrays. This chapter follows one matrix product all the way down and measures
# each stage:
#
# 1. the triple loop in Python, the definition of a matrix product, and how slow it is;
# 2. the NumPy **reference kernel**, the readable version every native kernel is tested against;
# 3. our **C++ kernel**: packing, cache blocking, the register micro-kernel, OpenMP threads, first
#    as a small model in Python and then in the C++ source itself;
# 4. the **pybind11 binding** that turns NumPy arrays into pointers, and the **validation gate** in
#    front of it that makes sure no bad array ever reaches C++;
# 5. switching kernels with `minidl.use_kernels`, a GFLOP/s plot against NumPy, and 1 vs 2 threads.
#
# Where the code lives:
#
# | what | file |
# |---|---|
# | the C++ matmul | [`../csrc/cpu/matmul.cpp`](../csrc/cpu/matmul.cpp) (declared in [`matmul.h`](../csrc/cpu/matmul.h)) |
# | threads, build info | [`../csrc/cpu/runtime.cpp`](../csrc/cpu/runtime.cpp) |
# | the pybind11 module `minidl._C` | [`../csrc/bindings_cpu.cpp`](../csrc/bindings_cpu.cpp) |
# | loading `_C` (and remembering why it failed) | [`../minidl/backend/native.py`](../minidl/backend/native.py) |
# | the gate: checks, then native or reference | [`../minidl/backend/kernels.py`](../minidl/backend/kernels.py) |
# | the reference kernels | [`../minidl/backend/reference.py`](../minidl/backend/reference.py) |
# | the full benchmark | [`../benchmarks/matmul.py`](../benchmarks/matmul.py), results in [`../benchmarks/RESULTS.md`](../benchmarks/RESULTS.md) |
#
# The chapter ends with `matmul_gflops.png` and a table of timings. It also runs where `minidl._C`
# was never built: then it says so and measures the reference kernels alone.

# %%
import inspect
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
from minidl.backend import kernels, native, reference

# output and data folders, matplotlib's backend, the seed: chapter_setup in ../minidl/viz.py
OUT = md.viz.chapter_setup(seed=0).out
rng = np.random.default_rng(0)

C = native.cpu_module()  # the compiled module minidl._C, or None
HAVE_NATIVE = C is not None
if HAVE_NATIVE:
    print(
        f"minidl._C is built: micro-kernel {C.simd()}, OpenMP {C.openmp_enabled()}, "
        f"{C.get_num_threads()} threads\n  {C.build_info()}"
    )
else:
    print(
        "NOTE: minidl._C is not built, so this run can only show the NumPy reference kernels.\n"
        f"      Why: {native.load_error('_C')}\n"
        "      Build it with `pip install -e .` (a C++17 compiler is needed) and run this chapter again."
    )
print("the kernels `@` uses right now:", kernels.active_kernels())
if hasattr(os, "getloadavg"):
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
        "(other programs running on the cores make every timing below noisier)"
    )

# %% [markdown]
# Every timing until section 7 runs on **one thread**, for our kernels (`md.set_num_threads(1)`)
# and for NumPy's OpenBLAS (through `threadpoolctl`, which comes with scikit-learn). One core
# measures the quality of a kernel by itself, and one thread is not thrown off by other programs
# on the machine the way a two-thread product can be; section 7 compares one and two threads.

# %%
try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None
    print("(threadpoolctl is not installed: NumPy's OpenBLAS keeps its own number of threads)")

DEFAULT_THREADS = md.get_num_threads()
md.set_num_threads(1)
blas_limit = threadpool_limits(limits=1) if threadpool_limits else None

# %% [markdown]
# A few helpers. `best_time` runs a function a few times and keeps the fastest run: on a shared
# machine the slow runs are the ones where another program took the core, so the minimum is the
# best estimate of what the code itself costs. `gflops` turns a time into a speed: a product of
# an M×K by a K×N matrix is M·N·K multiply-adds, 2·M·N·K floating-point operations. `show` prints
# a few numbered lines of a source file of this repository, starting at the first line that
# contains a given text, so the excerpts below are always the current code.


# %%
def best_time(fn, min_calls=3, max_calls=200, budget=0.15):
    """The fastest of at least min_calls calls of fn (more while they fit in `budget` seconds)."""
    best, spent, calls = float("inf"), 0.0, 0
    while calls < min_calls or (spent < budget and calls < max_calls):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return best


def gflops(m, n, k, seconds):
    return 2.0 * m * n * k / seconds / 1e9


def _find_repo():
    here = [os.getcwd(), os.path.dirname(os.getcwd())]
    if "__file__" in globals():
        here.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for folder in here:
        if os.path.exists(os.path.join(folder, "csrc", "cpu", "matmul.cpp")):
            return folder
    return None


REPO = _find_repo()


def show(path, start, lines):
    """Print `lines` numbered lines of the repository file `path`, from the first containing `start`."""
    if REPO is None:
        print(f"(the source tree is not here, so {path} cannot be shown; read it on GitHub)")
        return
    with open(os.path.join(REPO, path)) as f:
        text = f.read().splitlines()
    first = next((i for i, line in enumerate(text) if start in line), None)
    if first is None:
        print(f"({path} no longer contains {start!r}; open the file to find that part)")
        return
    print(f"--- {path}, lines {first + 1}-{min(first + lines, len(text))}")
    for number in range(first, min(first + lines, len(text))):
        print(f"{number + 1:5d} | {text[number]}")


# %% [markdown]
# ## 1. The triple loop
#
# C = A·B means C[i, j] = Σₚ A[i, p]·B[p, j]. Written literally in Python, on lists of floats:


# %%
def matmul_loops(A, B):
    n, k, m = len(A), len(B), len(B[0])
    C = [[0.0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            total = 0.0
            for p in range(k):
                total += A[i][p] * B[p][j]
            C[i][j] = total
    return C


loop_speed = {}
for n in (16, 32, 64):
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    A_list, B_list = A.tolist(), B.tolist()
    seconds = best_time(lambda: matmul_loops(A_list, B_list), min_calls=1, budget=0.05)
    loop_speed[n] = gflops(n, n, n, seconds)
    error = np.abs(np.array(matmul_loops(A_list, B_list)) - A.astype(np.float64) @ B).max()
    print(
        f"n = {n:3d}: {seconds * 1e3:7.2f} ms   {loop_speed[n]:.4f} GFLOP/s   (max error vs NumPy {error:.1e})"
    )

# %% [markdown]
# A few hundredths of a GFLOP/s: each multiply-add is a trip through the interpreter (look up
# `A[i]`, then `[p]`, make a new float object, ...), some hundred machine instructions for one
# useful one. A modern core does 16 float32 multiply-adds in a single AVX-512 instruction, and
# issues one or two of those every cycle, billions of cycles a second. The rest of the chapter is about closing that gap.
#
# ## 2. The reference kernel
#
# Every kernel minidl has exists first in plain NumPy in
# [`backend/reference.py`](../minidl/backend/reference.py): the readable math, and the oracle the
# C++ and CUDA versions are tested against. For matmul it is almost nothing, because NumPy's
# `matmul` already calls a BLAS library (OpenBLAS here), a fast kernel written by others:

# %%
print(inspect.getsource(reference.matmul))

# %% [markdown]
# Our kernels take 3-d arrays (batch, rows, cols), so one function covers `x @ w` for a single
# matrix (batch 1), a batch of matrices, and a batch against one shared matrix. The transpose
# flags let the backward pass ask for Aᵀ·G or G·Bᵀ without copying a transposed matrix.
#
# ## 3. How a fast matmul is built: the five loops, in Python first
#
# Why is a good kernel a hundred times faster than a simple compiled triple loop, and ten
# thousand times faster than the Python one? Because the arithmetic is cheap and *memory* is
# expensive. A 1024×1024 float32 matrix is 4 MiB; the fastest memory, a core's 32 registers of
# 64 bytes, holds 2 KiB; the L1 cache 32 KiB, the L2 cache 1 MiB. A triple loop that runs along a
# column of B reads each value from far away, uses it once, and has forgotten it by the time it is
# needed again. The fix, used by every serious BLAS since Goto and van de Geijn (2008), is to cut
# the matrices into blocks that fit each level of memory and to reuse each block as many times
# as possible while it is there. [`csrc/cpu/matmul.cpp`](../csrc/cpu/matmul.cpp) does exactly
# this, in five nested loops around a **micro-kernel**:
#
# - the micro-kernel computes one small **MR×NR tile** of C (12×32 floats with AVX-512) entirely
#   in registers: for each step p along K it loads the NR values of B once (2 vector loads),
#   broadcasts the MR values of A (12 broadcasts), and does MR·NR = 384 multiply-adds
#   (24 vector FMA instructions): many operations per value read;
# - around it, a KC×NR **panel of B** stays in L1 while all the MR-row panels of an MC×KC
#   **block of A** (kept in L2) stream past it; a KC×NC block of B lives in L3;
# - before use, each block is **packed**: copied once into exactly the order the micro-kernel
#   reads it, so every load in the inner loop is contiguous. Packing also pads the edges with
#   zeros (the micro-kernel never checks sizes) and absorbs the transpose flags (reading a
#   transposed operand is just different strides while copying).
#
# Here is the same algorithm as a Python model with tiny block sizes, where each array operation
# stands for a loop of the C++ code. The arithmetic runs in NumPy, so it is not fast; the point is
# the *structure*, and it must give the right answer, edges included (20×40 @ 40×30, none of them
# multiples of the block sizes):

# %%
MR, NR, KC, MC, NC = 4, 8, 16, 8, 16  # the C++ kernel uses 12, 32, 256, 240, 2048 (float32, AVX-512)


def pack_a(A, i0, mc, p0, kc):
    """Rows i0..i0+mc, columns p0..p0+kc of A as MR-tall panels: shape (panels, kc, MR), zero-padded."""
    rows = -(-mc // MR) * MR
    block = np.zeros((rows, kc), A.dtype)
    block[:mc] = A[i0 : i0 + mc, p0 : p0 + kc]
    return block.reshape(rows // MR, MR, kc).transpose(0, 2, 1).copy()  # step p: MR adjacent values


def pack_b(B, p0, kc, j0, nc):
    """Rows p0..p0+kc, columns j0..j0+nc of B as NR-wide panels: shape (panels, kc, NR), zero-padded."""
    cols = -(-nc // NR) * NR
    block = np.zeros((kc, cols), B.dtype)
    block[:, :nc] = B[p0 : p0 + kc, j0 : j0 + nc]
    return block.reshape(kc, cols // NR, NR).transpose(1, 0, 2).copy()  # step p: NR adjacent values


def micro_kernel(a_panel, b_panel):
    """One MR x NR tile: kc rank-1 updates. In C++ `tile` is 24 registers and never touches memory."""
    tile = np.zeros((MR, NR), a_panel.dtype)
    for p in range(len(a_panel)):
        tile += np.outer(a_panel[p], b_panel[p])  # MR*NR multiply-adds from MR + NR loaded values
    return tile


def blocked_matmul(A, B):
    M, K = A.shape
    N = B.shape[1]
    C = np.zeros((M, N), A.dtype)
    for jc in range(0, N, NC):  # a KC x NC block of B: L3
        nc = min(NC, N - jc)
        for pc in range(0, K, KC):
            kc = min(KC, K - pc)
            b_panels = pack_b(B, pc, kc, jc, nc)
            for ic in range(0, M, MC):  # an MC x KC block of A: L2
                mc = min(MC, M - ic)
                a_panels = pack_a(A, ic, mc, pc, kc)
                for jr, b_panel in enumerate(b_panels):  # one KC x NR panel of B: L1
                    for ir, a_panel in enumerate(a_panels):  # panels of A stream past it
                        tile = micro_kernel(a_panel, b_panel)  # the tile of C: registers
                        r0, c0 = ic + ir * MR, jc + jr * NR
                        rows, cols = min(MR, M - r0), min(NR, N - c0)
                        C[r0 : r0 + rows, c0 : c0 + cols] += tile[:rows, :cols]  # later K blocks add
    return C


A = rng.standard_normal((20, 40)).astype(np.float32)
B = rng.standard_normal((40, 30)).astype(np.float32)
print("packed B panels:", pack_b(B, 0, KC, 0, NC).shape, " packed A panels:", pack_a(A, 0, MC, 0, KC).shape)
print("blocked model vs NumPy, max |difference|:", np.abs(blocked_matmul(A, B) - A @ B).max())

# %% [markdown]
# ### The same loops in C++
#
# In [`matmul.cpp`](../csrc/cpu/matmul.cpp), `gemm_rect` is `blocked_matmul` above: the loops
# over `jc`, `pc`, `ic`, `jr`, `ir`, calling `pack_b_panel` and `pack_a` and then `compute_tile`
# for each tile (`accumulate` is the `+=` of later K blocks):

# %%
show("csrc/cpu/matmul.cpp", "for (int64_t jc = r.col_begin", 27)

# %% [markdown]
# And this is the micro-kernel's inner loop (the AVX-512 version, templated on `float` and
# `double`; a build without AVX-512 uses a plain-C++ loop further down the file that the compiler
# vectorises). `acc[row][v]` are the accumulators: `ROWS × VECS` = 12 × 2 registers of 16 floats.
# Each step loads two vectors of the B panel (`load_aligned`: packing made them 64-byte aligned),
# broadcasts one value of the A panel per row, and issues one fused multiply-add per register:

# %%
show("csrc/cpu/matmul.cpp", "for (int64_t k = 0; k < kc; ++k) {", 14)

# %% [markdown]
# **Threads.** With OpenMP, `gemm` splits C into one rectangle per thread
# (`#pragma omp parallel`, `choose_split`), and each thread runs the five loops on its own
# rectangle with its own packed copies, so the threads never wait for each other until the end.
# Waking a thread costs a few microseconds, so a small product is not split at all:
# `threads_for` gives each thread at least `kMinWorkPerThread` multiply-adds:

# %%
show("csrc/cpu/matmul.cpp", "constexpr int64_t kMinWorkPerThread", 1)
show("csrc/cpu/runtime.cpp", "int threads_for(", 4)

# %% [markdown]
# ## 4. From Python to C++ and back: the binding and the gate
#
# [`csrc/bindings_cpu.cpp`](../csrc/bindings_cpu.cpp) builds the Python module `minidl._C` with
# pybind11. Its `matmul` takes `py::array_t<T, py::array::c_style>` arguments marked
# `noconvert()`: an array is accepted only if it already has the right dtype and is
# C-contiguous, because a silent conversion would be a hidden copy (and a different dtype a
# different result). It checks the shapes that protect memory, allocates the output, and
# *releases the GIL* around the C++ call, so that other Python threads keep running while it
# computes:

# %%
show("csrc/bindings_cpu.cpp", 'm.def("matmul", &matmul<float>', 4)
show("csrc/bindings_cpu.cpp", "py::gil_scoped_release release;", 4)

# %% [markdown]
# You can call `_C.matmul` directly: it is a plain function on NumPy arrays. Bad arrays are
# refused with a Python exception instead of crashing the interpreter:

# %%
a = rng.standard_normal((1, 3, 4)).astype(np.float32)
b = rng.standard_normal((1, 4, 2)).astype(np.float32)
if HAVE_NATIVE:
    print(
        "_C.matmul(a, b):",
        C.matmul(a, b, False, False).shape,
        "== a @ b:",
        np.allclose(C.matmul(a, b, False, False), a @ b, atol=1e-5),
    )
    for label, args in (
        ("float32 @ float64", (a, b.astype(np.float64))),
        ("a non-contiguous view", (a[:, :, ::2], b[:, :2])),
        ("inner sizes 4 and 3", (a, b[:, :3])),
    ):
        try:
            C.matmul(*args, False, False)
        except (TypeError, ValueError) as err:
            print(f"{label:22s} -> {type(err).__name__}: {str(err).splitlines()[0][:110]}")
else:
    print("(minidl._C is not built: nothing to call directly here)")

# %% [markdown]
# Layers never call `_C` themselves. Every kernel call goes through one Python function in
# [`backend/kernels.py`](../minidl/backend/kernels.py), the gate, which (1) checks dtypes, shapes
# and devices and raises an error naming the op and the shapes, (2) makes the arrays contiguous,
# and (3) picks the implementation: the native kernel, or its reference twin. For a transposed
# *view* (what a backward pass produces) it does better than copying: it hands the kernel the
# original array and flips the transpose flag.

# %%
print(inspect.getsource(kernels._implementation))
x = rng.standard_normal((1, 5, 3)).astype(np.float32)
view = x.transpose(0, 2, 1)  # (1, 3, 5), not C-contiguous
array, flag = kernels._matmul_operand(view, False)
print(
    f"a transposed view: contiguous {view.flags.c_contiguous}; the gate passes an array of shape "
    f"{array.shape} that shares memory with the original: {np.shares_memory(array, x)}, trans flag {flag}"
)
try:
    kernels.matmul(a, b[:, :3])
except ValueError as err:
    print("kernels.matmul with bad shapes ->", err)

# %% [markdown]
# ## 5. One `@`, two kernels
#
# `md.use_kernels("reference")` (or `MINIDL_KERNELS=reference` in the environment) sends every
# kernel call through the NumPy twins instead of `_C`; the default, `"auto"`, uses the native
# kernels when they are built. The model code does not change: the same `x @ w` gives the same
# numbers at a different speed. "The same" means equal up to float32 rounding: two kernels that
# add up the K products in a different order round differently. Ours and OpenBLAS both do one
# fused multiply-add per step along K, so at some sizes they even agree to the last bit, and at
# others they differ by a few units in the last place.

# %%
n = 512
x = md.randn(n, n)
w = md.randn(n, n)
with md.use_kernels("reference"):
    t_ref = best_time(lambda: x @ w)
t_auto = best_time(lambda: x @ w)
print(
    f"{n}x{n} @ {n}x{n}:  reference {t_ref * 1e3:6.2f} ms ({gflops(n, n, n, t_ref):5.1f} GFLOP/s)   "
    f"{kernels.active_kernels()} {t_auto * 1e3:6.2f} ms ({gflops(n, n, n, t_auto):5.1f} GFLOP/s)"
)

if not HAVE_NATIVE:
    print("(without minidl._C, 'auto' means the reference kernels too: both timings are of the same code)")
for size in (512, 100):
    xs, ws = md.randn(size, size), md.randn(size, size)
    with md.use_kernels("reference"):
        ys_ref = (xs @ ws).numpy()
    ys = (xs @ ws).numpy()
    print(
        f"n = {size}: largest |{kernels.active_kernels()} - reference| = {np.abs(ys - ys_ref).max():.2e}"
        f"   (largest |value| {np.abs(ys_ref).max():.1f})"
    )

# %% [markdown]
# ## 6. GFLOP/s against size
#
# Now the measurement, for square products from 16 to 1024, each implementation called the way
# minidl calls it:
#
# - **native**: `kernels.matmul` with the native setting (the gate, then `_C.matmul`);
# - **reference**: `kernels.matmul` under `use_kernels("reference")` (the gate, then NumPy);
# - **numpy.matmul** on 2-d arrays, with no minidl code at all: OpenBLAS, the baseline.
#
# All three run on one thread, keeping the best of several calls. They take turns size by size,
# so that a burst of work from another program hits all three alike (with one thread each there
# are no idle thread pools left spinning between turns). This is a quick version of
# [`benchmarks/matmul.py`](../benchmarks/matmul.py), which repeats more and throws away rounds
# during which the machine was busy; trust that one for numbers you report.

# %%
SIZES = [16, 32, 64, 128, 256, 512, 768, 1024]
operands = {
    n: (rng.standard_normal((1, n, n)).astype(np.float32), rng.standard_normal((1, n, n)).astype(np.float32))
    for n in SIZES
}


def run_native(a, b):
    with kernels.use_kernels("native"):
        return kernels.matmul(a, b)


def run_reference(a, b):
    with kernels.use_kernels("reference"):
        return kernels.matmul(a, b)


implementations = {"reference": run_reference, "numpy.matmul": lambda a, b: np.matmul(a[0], b[0])}
if HAVE_NATIVE:
    implementations = {"native": run_native, **implementations}


speed = {name: {} for name in implementations}
for n in SIZES:
    a, b = operands[n]
    for name, fn in implementations.items():
        speed[name][n] = gflops(n, n, n, best_time(lambda: fn(a, b)))

print(
    f"{'n':>6s} " + "".join(f"{name:>14s}" for name in implementations) + "   (GFLOP/s, float32, one thread)"
)
for n in SIZES:
    print(f"{n:6d} " + "".join(f"{speed[name][n]:14.1f}" for name in implementations))

# %%
fig, ax = plt.subplots(figsize=(8, 5))
styles = {"native": ("C0", "o-"), "reference": ("C1", "s--"), "numpy.matmul": ("C2", "^-")}
for name in implementations:
    color, marker = styles[name]
    ax.plot(SIZES, [speed[name][n] for n in SIZES], marker, color=color, label=f"{name}, 1 thread")
ax.plot(list(loop_speed), list(loop_speed.values()), "x:", color="C3", label="Python triple loop")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="n  (n×n @ n×n, float32)",
    ylabel="GFLOP/s  (2n³ / best time)",
    title="matrix product speed on one core" + ("" if HAVE_NATIVE else " (minidl._C not built)"),
)
ax.set_xticks(SIZES)
ax.set_xticklabels([str(n) for n in SIZES])
ax.minorticks_off()
ax.grid(True, alpha=0.3)
ax.legend()
fig.tight_layout()
path = os.path.join(OUT, "matmul_gflops.png")
fig.savefig(path, dpi=100)
print("wrote", path)

# %% [markdown]
# How to read it: at small sizes every line is low, because a fixed cost per call (the Python
# gate, allocating the output) dwarfs 2n³ operations; `numpy.matmul` skips the gate, so it leads
# there. The triple loop sits three to four orders of magnitude below everything else. From a few
# hundred on, the C++ kernel and OpenBLAS are both limited by arithmetic, and the ratio between
# them is the quality of the micro-kernel and the blocking (the reference line is OpenBLAS too,
# behind our gate). On a shared machine the largest sizes may fall back for all three at once
# (other programs compete for the shared cache and memory): compare the lines with each other,
# not with a datasheet. `python -m benchmarks.matmul` measures the same thing with more care.
#
# ## 7. One thread or two
#
# `md.set_num_threads(n)` sets how many OpenMP threads minidl's kernels may use (the default is
# what OpenMP reports, usually every core, or `OMP_NUM_THREADS`). It does not change NumPy's
# OpenBLAS, which has its own pool. With two cores, two threads can at best halve the time, and
# products below 2¹⁷ multiply-adds stay on one thread anyway (`threads_for` above: 48³ does,
# 64³ does not).

# %%
if blas_limit is not None:
    blas_limit.restore_original_limits()  # OpenBLAS back to its own thread count
if HAVE_NATIVE:
    rows = []
    for n in (48, 64, 256, 512, 1024):
        a, b = operands.get(n) or (
            rng.standard_normal((1, n, n)).astype(np.float32),
            rng.standard_normal((1, n, n)).astype(np.float32),
        )
        times = {}
        for threads in (1, 2):
            md.set_num_threads(threads)
            times[threads] = best_time(lambda: run_native(a, b))
        rows.append((n, times[1], times[2]))
    md.set_num_threads(DEFAULT_THREADS)
    print(f"{'n':>6s} {'threads used':>13s} {'1 thread':>12s} {'2 threads':>12s} {'speed-up':>9s}")
    for n, t1, t2 in rows:
        used = min(2, max(1, n**3 // 2**16))  # threads_for(), with kMinWorkPerThread = 2^16
        print(f"{n:6d} {used:13d} {t1 * 1e3:9.3f} ms {t2 * 1e3:9.3f} ms {t1 / t2:8.2f}x")
    if hasattr(os, "getloadavg"):
        print(f"(load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
else:
    md.set_num_threads(DEFAULT_THREADS)
    print("(minidl._C is not built: the reference kernels use NumPy's threads, which minidl does not set)")

# %% [markdown]
# On an idle two-core machine the large products run close to 2× faster on two threads, and the
# 48×48 one, kept on one thread, is the same either way. On a busy machine (a load average above
# the number of cores) you may see much less, or a two-thread product *far slower* than one
# thread, milliseconds instead of microseconds for 64×64. The two threads of a product wait for
# each other at its end; if the operating system has given the other core to another program,
# the finished thread waits until that program's time slice is over. A kernel on one thread never
# waits for anyone. That is why chapters 4 and 5, whose products are small, run on one thread,
# and why `benchmarks/RESULTS.md` reports training times with `--threads 1` on the shared machine.
#
# ## Exercises
#
# 1. Change the loop order of `matmul_loops` to i, p, j (the innermost loop then walks along a row
#    of B and of C). Is the Python version faster? Why would the same change matter far more in C?
# 2. In the Python model, count the values `blocked_matmul` copies while packing, and compare with
#    the 2·M·N·K operations. Why is packing worth it for large matrices but not for a 4×4 product?
# 3. For 1024×1024 float32 arrays `a` and `b` of shape (1, 1024, 1024), time
#    `kernels.matmul(a, b.transpose(0, 2, 1))` against
#    `kernels.matmul(a, np.ascontiguousarray(b.transpose(0, 2, 1)))`. Which one copies, and how
#    does the first one avoid the copy? (Read `_matmul_operand` in `backend/kernels.py`.)
# 4. Run this chapter with `MINIDL_KERNELS=reference` in the environment. Which numbers change,
#    and which do not? Then run `minidl doctor` and find the build flags printed at the top.
