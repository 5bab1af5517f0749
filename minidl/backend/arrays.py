"""Array operations that NumPy and CuPy spell differently; everything else is the same on both.

Ops in ``minidl/functional`` call these instead of importing CuPy themselves, so that this folder
stays the only Python code that knows which array library is which.
"""

import math

import numpy

from .device import xp_of


def scatter_add(out, index, values):
    """``out[index] += values``, adding every time an index repeats (a plain ``+=`` would add
    once per distinct index). In place; returns ``out``."""
    if xp_of(out) is numpy:
        numpy.add.at(out, index, values)
    else:
        import cupyx  # CuPy's unbuffered scatter-add, the twin of numpy.add.at

        cupyx.scatter_add(out, index, values)
    return out


# The ufunc that combines a scattered value into what is already there, for each reduction.
_NUMPY_UFUNCS = {"sum": numpy.add, "prod": numpy.multiply, "amax": numpy.maximum, "amin": numpy.minimum}


def scatter_reduce(out, index, values, reduce):
    """``out[index] (reduce)= values``, combining every value that lands on one element:
    reduce is 'sum', 'prod', 'amax' or 'amin'. ``index`` is a tuple of broadcastable integer
    arrays (one per dim of out) of ``values``' shape. In place; returns ``out``."""
    if xp_of(out) is numpy:
        _NUMPY_UFUNCS[reduce].at(out, index, values)
    elif reduce == "sum":
        scatter_add(out, index, values)
    else:
        scatter_in_rounds(out, index, values, reduce)
    return out


def scatter_in_rounds(out, index, values, reduce):
    """``scatter_reduce`` in plain array operations, for libraries without an unbuffered ufunc.at
    for every reduction (CuPy has none for multiply). The values are sorted by target; round r
    combines the r-th value of every target, and within a round no target repeats, so a plain
    fancy-indexed read-modify-write is exact. As many rounds as the most repeated target."""
    xp = xp_of(out)
    combine = {"sum": xp.add, "prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
    coords = xp.broadcast_arrays(*index)
    flat_index = xp.zeros(values.shape, dtype=xp.int64)
    for c, n in zip(coords, out.shape):  # row-major linear position of each target
        flat_index = flat_index * n + c
    flat_index, flat_values = flat_index.reshape(-1), values.reshape(-1)
    if flat_index.size == 0:
        return out
    order = xp.argsort(flat_index)
    targets, flat_values = flat_index[order], flat_values[order]
    # rank of each value among those with the same target: its position minus its group's start
    rank = xp.arange(targets.size) - xp.searchsorted(targets, targets, side="left")
    work = out.reshape(-1).copy()  # flat and contiguous, whatever out's layout
    for r in range(int(rank.max()) + 1):
        pick = rank == r
        t = targets[pick]
        work[t] = combine(work[t], flat_values[pick])
    out[...] = work.reshape(out.shape)
    return out


def erf(a):
    """The error function of an array. NumPy has none: SciPy's (CuPy's own on the GPU) when
    importable, else Python's math.erf element by element (exact, but ~100 ns an element)."""
    if xp_of(a) is not numpy:
        import cupyx.scipy.special  # part of CuPy

        return cupyx.scipy.special.erf(a)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        return numpy.frompyfunc(math.erf, 1, 1)(a).astype(a.dtype)
    return scipy_erf(a).astype(a.dtype, copy=False)
