"""``interpolate``: resize the spatial dims of a batch, as ``F.interpolate`` does.

    interpolate(x, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False)

    nearest         copy the input at floor(j * scale)              (N, C, *S), 1 to 3 spatial dims
    nearest-exact   copy the input at floor((j + 0.5) * scale)      (the pixel whose centre is nearest)
    linear          blend the two neighbours of the source point    (N, C, W)
    bilinear        the same along H and W                          (N, C, H, W)
    trilinear       the same along D, H and W                       (N, C, D, H, W)

Output j along an axis of input size n and output size m reads the input at a source point
src(j), with ``scale`` = n / m (or 1 / scale_factor when the caller's scale is used: see below):

    align_corners=False (default)   src = max(scale * (j + 0.5) - 0.5, 0)    pixel centres line up
    align_corners=True              src = (n - 1) / (m - 1) * j               corner pixels line up

and the linear modes take (1 - l) x[i0] + l x[i1] with i0 = floor(src), i1 = min(i0 + 1, n - 1),
l = src - i0. These are PyTorch's formulas exactly (``ATen/native/UpSample.h``), computed in the
same precision (float32 for the nearest modes' index and for float32 data; float64 for float64
data), so the same output pixels read the same inputs. A scale_factor sets m = floor(n * scale);
then its own 1 / scale_factor is the scale unless recompute_scale_factor=True, which uses n / m
(PyTorch's default, None, keeps the caller's).

One known difference: PyTorch's 1-d and 3-d 'nearest' backward takes the m = n and m = 2n
shortcuts that its forward does not (with a scale_factor such as 1.1), so its gradient there is
not the forward's; ours is the forward's exact gradient.

Every mode is separable, one axis at a time, and each step is indexing (``x[index]``, whose
gradient scatter-adds back into the source positions) and, for the linear modes, a weighted sum
of two such reads; so the gradient flows through ops that already have theirs, to any order.
"""

import math
from collections.abc import Sequence

import numpy

from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..backend.geometry import is_int
from ..errors import DTypeError, ShapeError
from ._util import ensure_tensor
from .indexing import getitem

LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}  # each linear mode's input rank
NEAREST = ("nearest", "nearest-exact")


# ---------------------------------------------------------------------------------------------
# Source positions along one axis: input size n, output size m, the caller's scale (or None).


def _nearest(mode: str, n: int, m: int, scale: float | None, shortcuts: bool) -> numpy.ndarray:
    """The input index each output copies (PyTorch's nearest_idx / nearest_exact_idx).
    ``shortcuts``: m = n copies and m = 2n halves the index whatever the scale (PyTorch's CPU
    code does so for 2-d images only; a 1.1 scale factor on a 1-d size 5 does move pixels)."""
    j = numpy.arange(m)
    if mode == "nearest" and shortcuts and m == n:
        return j
    if mode == "nearest" and shortcuts and m == 2 * n:
        return j >> 1
    ratio = numpy.float32(1.0 / scale) if scale else numpy.float32(n) / numpy.float32(m)
    if mode == "nearest":
        point = j.astype(numpy.float32) * ratio
    else:  # (j + 0.5) is a double in PyTorch, the product rounded to float by floorf
        point = ((j + 0.5) * numpy.float64(ratio)).astype(numpy.float32)
    return numpy.minimum(numpy.floor(point).astype(numpy.int64), n - 1)


def _linear(n: int, m: int, scale: float | None, align_corners: bool, dtype) -> tuple:
    """(i0, i1, l0, l1): each output is l0 x[i0] + l1 x[i1] (compute_source_index_and_lambda),
    the weights computed in ``dtype`` (PyTorch's opmath: float32 for float32 data)."""
    j = numpy.arange(m)
    if m == n:
        return j, j, numpy.ones(m, dtype), numpy.zeros(m, dtype)
    one, half = dtype.type(1), dtype.type(0.5)
    if align_corners:
        ratio = dtype.type(n - 1) / dtype.type(m - 1) if m > 1 else dtype.type(0)
        src = ratio * j.astype(dtype)
    else:
        ratio = dtype.type(1.0 / scale) if scale else dtype.type(n) / dtype.type(m)
        src = numpy.maximum(ratio * (j.astype(dtype) + half) - half, dtype.type(0))
    i0 = numpy.minimum(numpy.floor(src).astype(numpy.int64), n - 1)
    l1 = numpy.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < n - 1)
    return i0, i1, (one - l1).astype(dtype), l1


def _along(x: Tensor, axis: int, index: numpy.ndarray) -> Tensor:
    """x at ``index`` along ``axis`` (a differentiable gather)."""
    return getitem(x, (slice(None),) * axis + (xp_of(x.data).asarray(index),))


def _weights(x: Tensor, axis: int, w: numpy.ndarray) -> Tensor:
    """w shaped to scale x along ``axis``: a constant, not part of the graph."""
    shape = [1] * x.ndim
    shape[axis] = len(w)
    return Tensor._make(xp_of(x.data).asarray(w.reshape(shape)))


# ---------------------------------------------------------------------------------------------
# Arguments, read as PyTorch reads them.


def _sizes(
    x: Tensor, size, scale_factor, recompute_scale_factor: bool | None
) -> tuple[list[int], list[float | None]]:
    """The output's spatial sizes and the scale each axis uses (None: n / m)."""
    dims = x.ndim - 2
    spatial = list(x.shape[2:])
    scales: list[float | None]
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * dims
        if len(sizes) != dims:
            raise ShapeError(
                f"interpolate: size {size} must have one entry per spatial dim of the input "
                f"{tuple(x.shape)} ({dims})"
            )
        if not all(is_int(s) for s in sizes):
            raise TypeError(f"interpolate: size must be an int or a tuple of ints, got {size!r}")
        out, scales = [int(s) for s in sizes], [None] * dims
    else:
        factors = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * dims
        if len(factors) != dims:
            raise ShapeError(
                f"interpolate: scale_factor {scale_factor} must have one entry per spatial dim of "
                f"the input {tuple(x.shape)} ({dims})"
            )
        factors = [float(f) for f in factors]
        out = [math.floor(n * f) for n, f in zip(spatial, factors)]
        scales = [None] * dims if recompute_scale_factor else factors
    if min(out) < 1 or min(spatial) < 1:
        raise ShapeError(
            f"interpolate: input and output sizes must be positive, got input {tuple(spatial)} and "
            f"output {tuple(out)} (input shape {tuple(x.shape)})"
        )
    return out, scales


def _check(x: Tensor, mode: str, align_corners: bool | None, antialias: bool) -> None:
    ensure_tensor(x, "interpolate")
    modes = NEAREST + tuple(LINEAR)
    if mode not in modes:
        raise ValueError(f"interpolate: mode must be one of {', '.join(map(repr, modes))}, got {mode!r}")
    if mode in NEAREST and align_corners is not None:
        raise ValueError(
            f"interpolate: align_corners can only be set with the linear modes "
            f"(linear, bilinear, trilinear), got mode {mode!r}"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in LINEAR and x.ndim != LINEAR[mode]:
        raise ShapeError(
            f"interpolate: mode {mode!r} needs a {LINEAR[mode]}-d input, got shape {tuple(x.shape)}"
        )
    if x.ndim not in (3, 4, 5):
        raise ShapeError(
            f"interpolate: expected a 3-d, 4-d or 5-d input (N, C, *spatial), got shape {tuple(x.shape)}"
        )
    if x.dtype.kind != "f":
        raise DTypeError(f"interpolate: expected a floating-point input, got {x.dtype}")
    if 0 in x.shape[1:]:
        raise ShapeError(f"interpolate: only the batch may be empty, got shape {tuple(x.shape)}")


# ---------------------------------------------------------------------------------------------
# The op


def interpolate(
    x: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize x's spatial dims to ``size``, or by ``scale_factor`` (see the module docstring).

    x: (N, C, W), (N, C, H, W) or (N, C, D, H, W), floating point; returns (N, C, *size), x's dtype.
    """
    _check(x, mode, align_corners, antialias)
    out, scales = _sizes(x, size, scale_factor, recompute_scale_factor)
    y = x
    for axis, (n, m, scale) in enumerate(zip(x.shape[2:], out, scales), start=2):
        if mode in NEAREST:
            y = _along(y, axis, _nearest(mode, n, m, scale, x.ndim == 4))
            continue
        i0, i1, l0, l1 = _linear(n, m, scale, bool(align_corners), numpy.dtype(x.dtype))
        y = _along(y, axis, i0) * _weights(y, axis, l0) + _along(y, axis, i1) * _weights(y, axis, l1)
    return y
