"""``pad``: grow (or, with negative widths, crop) the last dims of a tensor, as ``F.pad`` does.

    pad(x, pad, mode='constant', value=None)

``pad`` lists (before, after) pairs starting from the LAST dim, as in PyTorch: ``(1, 1)`` pads
the last dim, ``(1, 1, 2, 2)`` the last two. The modes fill the new border differently:

    constant   value                      [a b c] -> v v a b c v v       (any number of dims)
    reflect    mirror, edge not repeated  [a b c] -> c b a b c b a       (padding < the size)
    replicate  repeat the edge            [a b c] -> a a a b c c c
    circular   wrap around                [a b c] -> b c a b c a b       (padding <= the size)

The last three pad 1, 2 or 3 trailing dims of a tensor with one or two more dims (PyTorch's
rule: (N, C, W) or (C, W) for one pair, and so on).

Every output element of reflect, replicate and circular padding is a copy of one input element,
so each is an index into the input along each padded axis: the op is ``x[index]`` with an open
mesh of per-axis source indices, and its gradient is indexing's scatter-add, which adds each
border gradient into the source position it was copied from. Constant padding copies the input
into the middle: its gradient is the middle of the gradient (a crop).
"""

from collections.abc import Sequence

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..backend.geometry import is_int
from ..errors import ShapeError
from ._util import ensure_tensor
from .indexing import getitem

MODES = ("constant", "reflect", "replicate", "circular")


class Pad(Function):
    """y = x with ``widths`` (before, after) of ``value`` around each dim (all widths >= 0)."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return xp_of(x.data).pad(x.data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        # padded entries are constants: the input's gradient is the un-padded middle
        return grad[ctx.crop], None, None


# ---------------------------------------------------------------------------------------------
# Source indices along one axis of size n padded by (before, after): output position j (counted
# from -before) copies input position source(j). Negative widths crop.


def _reflect(n: int, before: int, after: int) -> numpy.ndarray:
    j = numpy.arange(-before, n + after)
    # mirror at 0 (-j), then at n-1 (2(n-1) - j); one bounce suffices since padding < n
    return (n - 1) - numpy.abs((n - 1) - numpy.abs(j))


def _replicate(n: int, before: int, after: int) -> numpy.ndarray:
    return numpy.clip(numpy.arange(-before, n + after), 0, n - 1)


def _circular(n: int, before: int, after: int) -> numpy.ndarray:
    # PyTorch crops first, then wraps around what is left
    lo, hi = max(0, -before), n - max(0, -after)
    j = numpy.arange(-max(before, 0), hi - lo + max(after, 0))
    return lo + j % max(hi - lo, 1)


_SOURCE = {"reflect": _reflect, "replicate": _replicate, "circular": _circular}


# ---------------------------------------------------------------------------------------------
# Arguments, checked once here.


def _pairs(x: Tensor, pad: Sequence[int], mode: str) -> list[tuple[int, int]]:
    """``pad`` as (before, after) per dim of x, first dim first (PyTorch lists the last first)."""
    if not isinstance(pad, (tuple, list)) or not all(is_int(p) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ShapeError(
            f"pad: the padding length must be divisible by 2 (before, after pairs), got {tuple(pad)}"
        )
    k = len(pad) // 2
    if k > x.ndim:
        raise ShapeError(
            f"pad: padding {tuple(pad)} has {k} (before, after) pairs, more than the {x.ndim} dims "
            f"of shape {tuple(x.shape)}"
        )
    pairs = [(0, 0)] * (x.ndim - k) + [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in reversed(range(k))]
    for d, (n, (before, after)) in enumerate(zip(x.shape, pairs)):
        if d >= x.ndim - k and n + before + after < (0 if mode in ("constant", "circular") else 1):
            raise ShapeError(
                f"pad: padding ({before}, {after}) crops dim {d} of shape {tuple(x.shape)} to size "
                f"{n + before + after}"
            )
    return pairs


def _check_mode(x: Tensor, pad: Sequence[int], mode: str, pairs: list[tuple[int, int]]) -> None:
    """What reflect, replicate and circular padding need beyond the pairs themselves."""
    k = len(pad) // 2
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise ShapeError(
            f"pad: {mode!r} padding of {k} dim(s) (pad {tuple(pad)}) needs a {k + 1}-d or {k + 2}-d input, "
            f"got shape {tuple(x.shape)} (1 pair: (N, C, W) or (C, W); 2 pairs: (N, C, H, W) or "
            "(C, H, W); 3 pairs: (N, C, D, H, W) or (C, D, H, W))"
        )
    batch = 1 if x.ndim == k + 2 else 0  # a batch may be empty, nothing else may
    if mode != "circular" and 0 in x.shape[batch:]:
        raise ShapeError(
            f"pad: {mode!r} padding needs non-empty dims (but the batch dim), got shape {tuple(x.shape)}"
        )
    for d in range(x.ndim - k, x.ndim):
        n, (before, after) = x.shape[d], pairs[d]
        if mode == "reflect" and max(before, after) >= n:
            raise ShapeError(
                f"pad: reflect padding must be less than the input size, got padding ({before}, "
                f"{after}) for dim {d} of size {n} (shape {tuple(x.shape)})"
            )
        left = n - max(0, -before) - max(0, -after)
        if mode == "circular" and max(before, after) > left:
            raise ShapeError(
                f"pad: circular padding must be at most the input size (it would wrap around more "
                f"than once), got padding ({before}, {after}) for dim {d} of size {n} (shape {tuple(x.shape)})"
            )


# ---------------------------------------------------------------------------------------------
# The op


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or crop, with negative widths) the last len(pad) // 2 dims of x.

    x: any shape for 'constant'; (N, C, *S) or (C, *S) with len(S) = len(pad) // 2 in 1..3 for
    'reflect', 'replicate', 'circular'. pad: (before, after) pairs, the last dim's first.
    value: the fill of 'constant' (default 0); the other modes take none.
    returns x's dtype, each padded dim of size n grown to n + before + after.
    """
    ensure_tensor(x, "pad")
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    pairs = _pairs(x, pad, mode)
    if mode == "constant":
        if any(before < 0 or after < 0 for before, after in pairs):
            x = getitem(x, tuple(slice(max(0, -b), n - max(0, -a)) for n, (b, a) in zip(x.shape, pairs)))
            pairs = [(max(0, b), max(0, a)) for b, a in pairs]
        return Pad.apply(x, tuple(pairs), 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"pad: {mode!r} padding takes no value, got value={value!r}")
    _check_mode(x, pad, mode, pairs)
    xp = xp_of(x.data)
    k = len(pad) // 2
    # An open mesh over the padded (trailing) axes: x[..., rows[:, None], cols[None, :]]
    index: list = [slice(None)] * (x.ndim - k)
    for i, d in enumerate(range(x.ndim - k, x.ndim)):
        source = _SOURCE[mode](x.shape[d], *pairs[d])
        index.append(xp.asarray(source.reshape((-1,) + (1,) * (k - 1 - i))))
    return getitem(x, tuple(index))
