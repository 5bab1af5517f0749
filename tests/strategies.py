"""Hypothesis strategies shared by the tests: shapes, safe float64 values, non-contiguous layouts.

Values are not drawn element by element: hypothesis draws a seed and NumPy fills the array from
it. That keeps examples cheap, and lets each *kind* of value stay away from the places where a
finite-difference check is meaningless:

    real       uniform in [-2, 2]
    positive   uniform in [0.5, 2]             (log, sqrt, the base of a power)
    nonzero    |x| in [0.2, 2], either sign    (abs, relu, a denominator: far from the kink/pole)
    distinct   all values at least 0.04 apart  (max, min: no ties anywhere)
    grid0      (k + 0.25) / 10 for integer k   (maximum/minimum: a grid0 and a grid1 value
    grid1      (k + 0.75) / 10                  always differ by at least 0.05)
    offgrid    (k + 0.5) / 10                  (clamp: never within 0.05 of a bound at a tenth)

The finite-difference step is 1e-6, so a margin of 0.04 is a very wide berth.

Layouts: each array may come back as a view that is not C-contiguous (``transposed``: an
F-ordered view; ``strided``: every second element of a larger buffer; ``reversed``: negative
strides), holding the same values. The unused elements of a strided buffer are NaN, so an op or
kernel that ignores strides and reads past the view poisons its result instead of passing.
"""

import math
import operator

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl

MAX_SIDE = 4
MAX_DIMS = 3

# The ``kernels`` fixture is function-scoped: pytest enters it once per test, and every example
# hypothesis runs inside that test uses the same kernel setting, which is what we want.
with_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

KINDS = ("real", "positive", "nonzero", "distinct", "grid0", "grid1", "offgrid")
LAYOUTS = ("contiguous", "transposed", "strided", "reversed")

# The binary elementwise ops, each with the kinds its two operands are drawn from: a denominator
# away from 0, a power's base positive, maximum/minimum's operands on two grids that never tie.
BINARY_OPS = {
    "add": (operator.add, "real", "real"),
    "sub": (operator.sub, "real", "real"),
    "mul": (operator.mul, "real", "real"),
    "div": (operator.truediv, "real", "nonzero"),
    "pow": (operator.pow, "positive", "real"),
    "maximum": (minidl.maximum, "grid0", "grid1"),
    "minimum": (minidl.minimum, "grid0", "grid1"),
}


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    """Array shapes, 0-d included by default; size-1 dims come up often."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """Tuples of ``num_shapes`` shapes that broadcast together (different ranks, size-1 dims)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=1,
        max_side=max_side,
    ).map(lambda b: b.input_shapes)


def fill(shape, kind, seed):
    """A C-contiguous float64 array of ``shape`` holding values of ``kind`` (see the module doc)."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    if kind == "real":
        values = rng.uniform(-2.0, 2.0, n)
    elif kind == "positive":
        values = rng.uniform(0.5, 2.0, n)
    elif kind == "nonzero":
        values = rng.uniform(0.2, 2.0, n) * rng.choice([-1.0, 1.0], n)
    elif kind == "distinct":
        values = (rng.permutation(n) - n / 2) * 0.1 + rng.uniform(0.0, 0.06)
    elif kind in ("grid0", "grid1", "offgrid"):
        phase = {"grid0": 0.25, "grid1": 0.75, "offgrid": 0.5}[kind]
        values = (rng.integers(-20, 20, n) + phase) / 10
    else:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    return values.reshape(shape)


def with_layout(array, layout):
    """The same values as ``array``, laid out in memory as ``layout`` says (a view when not
    contiguous). 0-d arrays are always contiguous."""
    if array.ndim == 0 or layout == "contiguous":
        return np.array(array)
    if layout == "transposed":
        return np.ascontiguousarray(array.T).T
    if layout == "strided":
        buffer = np.full(array.shape[:-1] + (2 * array.shape[-1],), np.nan)
        buffer[..., ::2] = array
        return buffer[..., ::2]
    if layout == "reversed":
        return np.ascontiguousarray(array[::-1])[::-1]
    raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")


@st.composite
def arrays(draw, shape, kind="real", layouts=LAYOUTS):
    """A float64 array of ``shape`` (a tuple, or a strategy for one) with values of ``kind``,
    in one of ``layouts``."""
    if not isinstance(shape, tuple):
        shape = draw(shape)
    seed = draw(st.integers(0, 2**32 - 1))
    layout = draw(st.sampled_from(layouts))
    return with_layout(fill(shape, kind, seed), layout)


def leaf(array):
    """A leaf tensor that requires grad and *shares* ``array``'s memory, so a non-contiguous view
    stays non-contiguous inside the tensor (``minidl.tensor`` would copy it). NumPy scalars (what
    arithmetic on 0-d arrays returns) become 0-d arrays."""
    return minidl.from_numpy(np.asarray(array)).requires_grad_()


@st.composite
def dims(draw, ndim, allow_none=True, allow_tuple=True):
    """A ``dim`` argument for a reduction over an ``ndim``-d tensor: None, an int (negative ones
    too), or a tuple of distinct dims."""
    n = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    options = [st.integers(-n, n - 1)]
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim >= 1:
        options.append(
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(
                lambda ds: tuple(d - ndim if i % 2 else d for i, d in enumerate(ds))
            )
        )
    return draw(st.one_of(options))


def numpy_axes(dim, ndim):
    """What NumPy calls ``dim``: an axis tuple, or None for all axes (and for 0-d arrays)."""
    if dim is None or ndim == 0:
        return None
    ds = dim if isinstance(dim, tuple) else (dim,)
    return tuple(d % ndim for d in ds)


# ---------------------------------------------------------------------------------------------
# Kernel inputs shared by the CPU and GPU kernel tests (test_pool.py, test_softmax_loss.py,
# test_gpu_kernels.py)


def pool_values(shape, dtype, seed, ties=False):
    """Values in ``shape``: all distinct (no ties; exact in float32 at test sizes), or from a few
    integers (many ties)."""
    rng = np.random.default_rng(seed)
    if ties:
        return rng.integers(-2, 3, shape).astype(dtype)
    return (rng.permutation(math.prod(shape)).reshape(shape) * 0.25 - 3.0).astype(dtype)


# Softmax kernels against the reference: a few roundings of values of order 1.
SOFTMAX_TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def softmax_inputs(name, rows, cols, dtype, rng, scale=3.0):
    """Arguments for softmax-family kernel ``name``: logits for a forward, (grad_out, y) for a
    backward (y the reference's output)."""
    from minidl.backend import reference

    x = (rng.standard_normal((rows, cols)) * scale).astype(dtype)
    if name.endswith("forward"):
        return (x,)
    y = (reference.softmax_forward if name == "softmax_backward" else reference.log_softmax_forward)(x)
    return rng.standard_normal((rows, cols)).astype(dtype), y


def assert_softmax_close(name, got, want, args, dtype):
    """A softmax-family kernel's output ``got`` within a few roundings of ``want`` (float64).

    The backward kernels subtract a row sum from each element, so their rounding error scales with
    the size of what is subtracted (sum |g| for log_softmax, y sum |g y| for softmax), which can
    be far larger than the result itself.
    """
    assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    tol = SOFTMAX_TOL[dtype]
    scale = np.abs(want)
    if name == "log_softmax_backward":
        g, y = (np.asarray(a, dtype=np.float64) for a in args)
        scale = np.abs(g) + np.exp(y) * np.abs(g).sum(axis=1, keepdims=True)
    elif name == "softmax_backward":
        g, y = (np.asarray(a, dtype=np.float64) for a in args)
        scale = y * (np.abs(g) + np.abs(g * y).sum(axis=1, keepdims=True))
    excess = np.abs(got.astype(np.float64) - want) - (tol["atol"] + tol["rtol"] * scale)
    assert (excess <= 0).all(), (
        f"{name} {got.shape}: worst excess {excess.max():.3g} at {np.unravel_index(excess.argmax(), excess.shape)}"
    )
