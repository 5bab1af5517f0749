"""Scans (cumulative ops) along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp, as in
PyTorch. Output j of a scan depends on inputs 0..j, so each gradient is a *reversed* scan of the
upstream gradient: written with tensor ops (flip, cumsum, where), it is differentiable again.

Integer and boolean inputs of cumsum/cumprod give int64, as PyTorch (``dtype=`` overrides).
"""

from ..autograd.convert import cast
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ._util import normalize_dim
from .elementwise import where
from .sort import ValuesIndices, take_along


def _flip(x: Tensor, axis: int) -> Tensor:
    """x reversed along ``axis`` (differentiable: a reversed slice)."""
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _rcumsum(x: Tensor, axis: int) -> Tensor:
    """Reversed cumulative sum: out_i = sum_{j >= i} x_j."""
    return _flip(CumSum.apply(_flip(x, axis), axis), axis)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return xp_of(x.data).cumsum(x.data, axis=axis, dtype=x.dtype)  # NumPy would widen int32

    @staticmethod
    def backward(ctx, grad):
        # d y_j/dx_i = 1 for j >= i
        return _rcumsum(grad, ctx.axis), None


class CumProd(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(x)
        ctx.save_output()
        return xp_of(x.data).cumprod(x.data, axis=axis, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # d y_j/dx_i = y_j / x_i for j >= i (see _cumprod_grad for zeros in x)
        (x,) = ctx.saved_tensors
        return _cumprod_grad(x, ctx.output, grad, ctx.axis), None


def _cumprod_grad(x: Tensor, y: Tensor, grad: Tensor, axis: int) -> Tensor:
    """sum_{j >= i} grad_j dy_j/dx_i for y = cumprod(x), exact with zeros in x.

    Without zeros it is rcumsum(grad * y) / x. Otherwise, with z the first zero of a slice and
    x' = x with x_z set to 1, y' = cumprod(x'): y_j = y'_j * x_z for j >= z. So the derivative at z
    is sum_{j>=z} grad_j y'_j, and elsewhere it is the derivative of cumprod at x' with the
    upstream grad_j scaled by x_z for j >= z. x' has one zero fewer: recurse. Written in tensor
    ops (x_z kept as a tensor, though it is 0), so the second derivative is right too.
    """
    xp = xp_of(x.data)
    zero = x.data == 0
    if not zero.any():
        return _rcumsum(grad * y, axis) / x
    seen = xp.cumsum(zero, axis=axis)
    first = zero & (seen == 1)
    x_skip = where(first, 1, x)
    y_skip = CumProd.apply(x_skip, axis)
    x_z = where(first, x, 0).sum(axis, keepdim=True)
    scaled = grad * where(seen == 0, 1, x_z)
    return where(first, _rcumsum(grad * y_skip, axis), _cumprod_grad(x_skip, y_skip, scaled, axis))


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(x)
        ctx.save_output()
        # logaddexp adds in log space pairwise: no exp ever overflows or underflows to log(0)
        return xp_of(x.data).logaddexp.accumulate(x.data, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        # d y_j/dx_i = exp(x_i - y_j) for j >= i. The sum over j is taken in log space,
        # log sum_{j>=i} |g_j| exp(-y_j), separately for positive and negative g_j, so it is
        # stable for any spread of values (PyTorch does the same). The terms of the other sign
        # are not -inf (that would give nan in the second derivative) but 1000 below what a
        # unit gradient would give: exp(-1000) is 0 in every float dtype.
        (x,) = ctx.saved_tensors
        y, axis = ctx.output, ctx.axis

        def part(mask):
            log_g = where(mask, grad, 1).abs().log() - y
            log_g = where(mask, log_g, log_g - 1000.0)
            return (x + _flip(LogCumSumExp.apply(_flip(log_g, axis), axis), axis)).exp()

        return part(grad.data > 0) - part(grad.data < 0), None


def _scan_axis(x, dim, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected a real or boolean tensor, got {x.dtype}")
    return normalize_dim(dim, x.ndim, op)


def _scan(fn, x, axis):
    """fn over ``axis``; a 0-d tensor is scanned as one element and stays 0-d."""
    if x.ndim == 0:
        return fn.apply(x.reshape(1), 0).reshape(())
    return fn.apply(x, axis)


def _accumulating_dtype(x, dtype):
    """Sums and products of integers and bools accumulate in int64, as PyTorch."""
    if dtype is not None:
        return cast(x, dtype)
    return cast(x, "int64") if x.dtype.kind in "biu" else x


def cumsum(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """out_j = x_0 + ... + x_j along ``dim``; x: (...) -> (...)."""
    axis = _scan_axis(x, dim, "cumsum")
    return _scan(CumSum, _accumulating_dtype(x, dtype), axis)


def cumprod(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """out_j = x_0 * ... * x_j along ``dim``; the gradient is exact with zeros in x."""
    axis = _scan_axis(x, dim, "cumprod")
    return _scan(CumProd, _accumulating_dtype(x, dtype), axis)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """out_j = log(exp(x_0) + ... + exp(x_j)) along ``dim``, computed stably."""
    axis = _scan_axis(x, dim, "logcumsumexp")
    if x.dtype.kind != "f":
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got {x.dtype}")
    return _scan(LogCumSumExp, x, axis)


def _cum_extreme(x, dim, op, smallest):
    axis = _scan_axis(x, dim, op)
    xp = xp_of(x.data)
    if x.ndim == 0:
        return ValuesIndices(take_along(x, xp.zeros((), xp.int64), 0), Tensor._make(xp.zeros((), xp.int64)))
    a = x.data
    running = (xp.minimum if smallest else xp.maximum).accumulate(a, axis=axis)
    # index j points at the latest place k <= j where x_k equalled the running extreme (a NaN
    # propagates and is itself the extreme), as PyTorch
    record = a == running
    if a.dtype.kind == "f":
        record |= xp.isnan(a)
    positions = xp.arange(a.shape[axis]).reshape([-1 if k == axis else 1 for k in range(a.ndim)])
    indices = xp.maximum.accumulate(xp.where(record, positions, 0), axis=axis).astype(xp.int64)
    return ValuesIndices(take_along(x, indices, axis), Tensor._make(indices))


def cummax(x: Tensor, dim: int) -> ValuesIndices:
    """(values, indices): the running maximum along ``dim`` and where it was taken; the
    gradient of each value goes to that place."""
    return _cum_extreme(x, dim, "cummax", smallest=False)


def cummin(x: Tensor, dim: int) -> ValuesIndices:
    """(values, indices): the running minimum along ``dim`` and where it was taken."""
    return _cum_extreme(x, dim, "cummin", smallest=True)
