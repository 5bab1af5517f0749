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
