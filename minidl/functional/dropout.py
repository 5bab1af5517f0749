"""Dropout: during training, zero each element with probability p and scale the survivors.

    dropout(x, p=0.5, training=True)

*Inverted* dropout scales the kept elements by 1 / (1 - p) during training, so the expected value
of every element is unchanged and evaluation needs no rescaling at all: in eval mode (or with
p = 0) dropout is the identity and returns ``x`` itself.

The mask is drawn from ``minidl.random.generator()`` on the CPU and then moved to ``x``'s device,
so ``minidl.manual_seed`` makes the same elements drop on every device. Once drawn, the mask is a
constant: ``y = x * m`` with m in {0, 1/(1-p)}, whose derivative is m again (and whose second
derivative is 0), so the op is just a multiplication by a constant tensor.
"""

from .. import random as _random
from ..autograd.tensor import Tensor
from ..backend.device import to_device, xp_of
from ._util import ensure_tensor


def _keep_mask(x, p):
    """A (x.shape) array of x's dtype on x's device: 1/(1-p) where kept (probability 1-p), else 0."""
    keep = _random.generator().random(x.shape) >= p  # P(u >= p) = 1 - p for u uniform in [0, 1)
    mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return to_device(mask, x.device)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element of ``x`` with probability ``p`` and scale the rest by 1/(1 - p).

    x: any shape, floating point  ->  the same shape.
    Returns ``x`` itself when not training or when p = 0; zeros (still in the graph) when p = 1.
    """
    ensure_tensor(x, "dropout")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability between 0 and 1, got {p!r}")
    if not x.is_floating_point():
        raise TypeError(f"dropout: expected a floating-point tensor, got {x.dtype} (shape {x.shape})")
    if not training or p == 0:
        return x
    if p == 1:
        # Every element dropped; 1/(1-p) would be inf and 0 * inf NaN, so multiply by 0 directly.
        return x * Tensor._make(xp_of(x.data).zeros(x.shape, dtype=x.dtype))
    # d(x * m)/dx = m: the backward of the multiplication is the mask again
    return x * Tensor._make(_keep_mask(x, float(p)))
