"""Normalisation: ``batch_norm``, ``layer_norm`` and ``normalize``, as in ``torch.nn.functional``.

Both compute  y = (x - mean) / sqrt(var + eps) * weight + bias  and differ only in the axes the
statistics are taken over:

    batch_norm   per channel, over the batch and every spatial position: x (N, C, *) -> axes (0, 2, 3, ...)
    layer_norm   per sample, over the trailing ``normalized_shape`` dims: x (*, D1, .., Dk) -> the last k

The variance used to normalise is the *biased* one (divided by n), as in PyTorch. Both are written
with differentiable tensor ops (mean, subtraction, sqrt, division), so their gradients, including
the coupling through the batch statistics, come from the engine, and ``create_graph=True`` gives
second derivatives without a hand-written backward.

batch_norm in training mode also updates the running statistics it is given, in place and outside
the graph (under ``no_grad``):

    running_mean <- (1 - momentum) running_mean + momentum mean
    running_var  <- (1 - momentum) running_var  + momentum var * n / (n - 1)    (the unbiased variance)

and in evaluation mode it normalises with those running statistics instead of the batch's.

``normalize`` scales each slice along a dim to unit p-norm: x / max(||x||_p, eps). The norm is a
Function of its own (``_VectorNorm``) so that its gradient is PyTorch's where the norm has a kink
(0 at a zero vector; for p = inf, shared among the entries that attain the max).
"""

import math
import numbers
from collections.abc import Sequence

import numpy

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError, ShapeError
from . import elementwise as ew
from ._util import Dims, ensure_tensor, normalize_dims


def _check_vector(op, name, t, size, x):
    """``t`` is None or a (size,) tensor on x's device."""
    if t is None:
        return
    ensure_tensor(t, op)
    if tuple(t.shape) != (size,):
        raise ValueError(
            f"{op}: {name} must have shape ({size},) (one value per channel of the input "
            f"{tuple(x.shape)}), got {tuple(t.shape)}"
        )
    if t.device != x.device:
        raise RuntimeError(f"{op}: input is on {x.device} but {name} is on {t.device}; move one with .to()")


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of ``x`` by its mean and variance.

    x: (N, C) or (N, C, *) floating point; running_mean, running_var: (C,) or None;
    weight, bias: (C,) or None.  Returns the shape of x.
    training=True: normalise with this batch's statistics, and update running_mean/running_var in
    place when they are given. training=False: normalise with running_mean/running_var.
    """
    op = "batch_norm"
    ensure_tensor(x, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input (N, C) or (N, C, *), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype} (shape {tuple(x.shape)})")
    channels = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_vector(op, name, t, channels, x)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    # the statistics' layout (1, C, 1, ...): broadcasts against x (N, C, *)
    stat_shape = (1, channels) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))

    if training:
        count = x.numel() // channels if channels else 0
        if count == 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input "
                f"shape {tuple(x.shape)} ({count} value(s) per channel)"
            )
        if count == 0:
            # an empty batch, as PyTorch: an empty output, the running statistics unchanged
            x_hat = x
        else:
            mean = x.mean(axes, keepdim=True)
            centered = x - mean
            var = (centered * centered).mean(axes, keepdim=True)  # biased: divided by n
            x_hat = centered / (var + eps).sqrt()
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{op}: training=False needs running_mean and running_var to normalise "
                f"with; pass them, or training=True to use the batch's statistics"
            )
        mean = running_mean.reshape(stat_shape)
        var = running_var.reshape(stat_shape)
        x_hat = (x - mean) / (var + eps).sqrt()

    if weight is not None:
        x_hat = x_hat * weight.reshape(stat_shape)
    if bias is not None:
        x_hat = x_hat + bias.reshape(stat_shape)
    return x_hat


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """The exponential moving averages, in place; the variance made unbiased (times n/(n-1))."""
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
        raise ValueError(f"batch_norm: momentum must be a number between 0 and 1, got {momentum!r}")
    with no_grad():
        channels = running_mean.shape[0]
        batch_mean = mean.detach().reshape(channels)
        batch_var = var.detach().reshape(channels) * (count / (count - 1))
        running_mean.mul_(1.0 - momentum).add_(batch_mean, alpha=momentum)
        running_var.mul_(1.0 - momentum).add_(batch_var, alpha=momentum)


def _shape_tuple(op, normalized_shape):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
        raise ValueError(
            f"{op}: normalized_shape must be a positive int or a non-empty tuple of "
            f"positive ints, got {normalized_shape!r}"
        )
    return shape


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` dims.

    x: (*, D1, ..., Dk) floating point with (D1, ..., Dk) = normalized_shape (an int means (int,));
    weight, bias: normalized_shape or None.  Returns the shape of x.
    """
    op = "layer_norm"
    ensure_tensor(x, op)
    shape = _shape_tuple(op, normalized_shape)
    k = len(shape)
    if not x.is_floating_point():
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype} (shape {tuple(x.shape)})")
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise ValueError(
            f"{op}: expected an input whose last {k} dim(s) are {shape}, i.e. "
            f"(*, {', '.join(map(str, shape))}), got shape {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            ensure_tensor(t, op)
            if tuple(t.shape) != shape:
                raise ValueError(f"{op}: {name} must have the normalized shape {shape}, got {tuple(t.shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    if all(t is None or (t.dtype == x.dtype and t.device == x.device) for t in (weight, bias)):
        return LayerNorm.apply(x, weight, bias, axes, float(eps))
    # mixed dtypes promote as the tensor ops do (the one node above works in x's dtype)
    y = _standardize(x, axes, eps)
    # weight and bias have the trailing shape: they broadcast from the right over the leading dims
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _standardize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes``, in tensor ops (differentiable to any order)."""
    return _standardize_parts(x, axes, eps)[0]


def _standardize_parts(x, axes, eps):
    """x_hat and r = 1 / sqrt(var + eps) over ``axes``, in tensor ops."""
    centered = x - x.mean(axes, keepdim=True)
    var = (centered * centered).mean(axes, keepdim=True)  # biased, as in PyTorch
    r = (var + eps).rsqrt()
    return centered * r, r


class LayerNorm(Function):
    """layer_norm as one node, its first derivative on arrays. With x_hat = (x - mean) r,
    r = 1 / sqrt(var + eps), n the size of the normalised slice and g_hat = g * weight:

        dx = r (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat))     per slice
        dweight = sum over the leading dims of g x_hat,   dbias = sum of g

    The composed tensor ops gave the same numbers through a dozen nodes and temporaries."""

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        a = x.data
        centered = a - a.mean(axis=axes, keepdims=True)
        var = (centered * centered).mean(axis=axes, keepdims=True)
        rstd = 1 / xp_of(a).sqrt(var + a.dtype.type(eps))  # (*, 1, .., 1): small
        x_hat = centered
        x_hat *= rstd
        ctx.axes, ctx.eps = axes, eps
        ctx.save_for_backward(x, weight, x_hat, rstd)
        y = x_hat if weight is None else x_hat * weight.data
        if bias is not None:
            y = y + bias.data
        return y.copy() if y is x_hat else y  # x_hat is saved: the output must not be it

    @staticmethod
    def backward(ctx, grad):
        x, weight, x_hat, rstd = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes, eps = ctx.axes, ctx.eps
        leading = tuple(range(x.ndim - len(axes)))
        if is_grad_enabled():  # create_graph=True: the same formulas in tensor ops of x
            x_hat_t, r = _standardize_parts(x, axes, eps)
            g_hat = grad if weight is None else grad * weight
            dx = r * (
                g_hat - g_hat.mean(axes, keepdim=True) - x_hat_t * (g_hat * x_hat_t).mean(axes, keepdim=True)
            )
            dw = (grad * x_hat_t).sum(leading) if need_w else None
            db = grad.sum(leading) if need_b else None
            return (dx if need_x else None), dw, db, None, None
        g = grad.data
        dx = dw = db = None
        if need_x:
            g_hat = g if weight is None else g * weight.data
            dx = g_hat * x_hat
            dx = dx.mean(axis=axes, keepdims=True) * x_hat  # x_hat mean(g_hat x_hat)
            dx += g_hat.mean(axis=axes, keepdims=True)
            dx = g_hat - dx
            dx *= rstd
        if need_w:
            dw = (g * x_hat).sum(axis=leading)
        if need_b:
            db = g.sum(axis=leading)
        return dx, dw, db, None, None


# ---------------------------------------------------------------------------------------------
# normalize: x / max(||x||_p, eps) along dim


class _VectorNorm(Function):
    """||x||_p over ``axes`` (kept as size-1 dims): (sum |x|^p)^(1/p); max |x| for p = inf,
    min |x| for -inf, the count of non-zeros for p = 0."""

    @staticmethod
    def forward(ctx, x, p, axes):
        xp, a = xp_of(x.data), abs(x.data)
        ctx.save_for_backward(x)
        ctx.p, ctx.axes = p, axes
        ctx.save_output()
        if p == math.inf:
            return a.max(axis=axes, keepdims=True)
        if p == -math.inf:
            return a.min(axis=axes, keepdims=True)
        if p == 0:
            return (a != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        if p == 1:
            return a.sum(axis=axes, keepdims=True)
        if p == 2:
            return xp.sqrt((a * a).sum(axis=axes, keepdims=True))
        # a negative p raises 0 to a negative power: inf, whose 1/p-th power is the norm 0
        with numpy.errstate(divide="ignore", over="ignore"):
            return (a**p).sum(axis=axes, keepdims=True) ** (1 / p)

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's subgradients: d||x||/dx = 0 where ||x|| = 0, and for p = inf the gradient is
        # shared equally by the entries that attain the max.
        (x,), p, y = ctx.saved_tensors, ctx.p, ctx.output
        if p == 0:  # a count: piecewise constant
            return grad * ew.sign(x) * 0, None, None
        if p == 1:  # d/dx sum |x| = sign(x)
            return grad * ew.sign(x), None, None
        # where the norm is 0 the whole slice is 0, so any non-zero stand-in divides 0 by it
        y_safe = ew.where(y == 0, 1.0, y)
        if p == 2:  # d/dx sqrt(sum x^2) = x / ||x||
            return grad * x / y_safe, None, None
        if math.isinf(p):  # sign(x) on the entries with |x| = ||x||, split among them
            hits = Tensor._make(xp_of(x.data).equal(abs(x.data), y.data).astype(x.dtype))
            return grad * ew.sign(x) * hits / hits.sum(ctx.axes, keepdim=True), None, None
        # d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / ||x||^(p-1)  (0 where x = 0)
        a = ew.where(x == 0, 1.0, x.abs())  # |x|^(p-1) is inf at 0 for p < 1; sign(0) = 0 anyway
        if p < 1:  # ||x||^(1-p): 0 where the norm is 0, no division needed
            return grad * ew.sign(x) * a ** (p - 1) * y ** (1 - p), None, None
        return grad * ew.sign(x) * (a / y_safe) ** (p - 1), None, None


def normalize(x: Tensor, p: float = 2.0, dim: Dims = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps), the p-norm taken along ``dim`` (an int, a tuple of ints, or None
    for all dims): each slice along dim becomes a unit vector.

    x: any shape (floating point) -> the same shape. p may be any real number, inf or -inf.
    """
    op = "normalize"
    ensure_tensor(x, op)
    if not x.is_floating_point():
        raise DTypeError(
            f"{op}: expected a floating-point tensor, got {x.dtype} (shape {tuple(x.shape)}); "
            f"convert with x.float()"
        )
    for name, value in (("p", p), ("eps", eps)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    axes = normalize_dims(dim, x.ndim, op)
    if (p < 0 or p == math.inf) and any(x.shape[i] == 0 for i in axes):
        raise ShapeError(
            f"{op}: the p={p} norm of an empty slice has no value (a max, a min or 0^(1/p)): "
            f"dim {dim} of the input {tuple(x.shape)} has size 0"
        )
    if x.numel() == 0:  # no norms to take; the empty result keeps its shape and graph
        return x * 1.0
    norm = _VectorNorm.apply(x, float(p), axes)
    return x / ew.clamp(norm, min=float(eps))
