"""Scaled dot-product attention, the heart of the Transformer, as one op with its own backward.

    scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None)

For each query row q_i, the output is a weighted average of the value rows, weighted by how well
q_i matches each key:

    S = scale * Q K^T + M        (L, S) scores; M the additive mask (0 = attend, -inf = masked)
    P = softmax(S, dim=-1)       (L, S) attention weights, each row sums to 1
    O = dropout(P) V             (L, Ev)

Written as a chain of small ops this is about ten graph nodes and as many passes over the (L, S)
scores; here it is one Function: the two products are ``backend.kernels.matmul`` calls (batched,
one call each for all batch entries and heads), the softmax is the framework's own softmax
kernel (``kernels.softmax_forward`` / ``softmax_backward``, the ones ``F.softmax`` uses), and the
backward is written out by hand below, each line with its math. Arrays go through ``xp_of``, so
the same code runs on CuPy arrays. The backward works on arrays, so this op has first
derivatives only (``create_graph=True`` gives no second derivative through it).

A fully masked query row (every key masked, by a bool mask, -inf in a float mask, or both) has
no weights to normalise: softmax would give 0/0 = NaN. Such a row deliberately gets P = 0, so
its output is 0 and its gradient is 0, never NaN. This is also what PyTorch's
``F.scaled_dot_product_attention`` returns on the CPU (its "safe softmax", since PyTorch 2.5).
"""

import math

import numpy

from .. import random as _random
from ..autograd.convert import cast
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import kernels
from ..backend.device import device_of, to_device, xp_of
from ..errors import DTypeError, ShapeError
from ._util import ensure_tensor
from .linalg import _batch_operand

_OP = "scaled_dot_product_attention"
_FLOATS = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def _additive_mask(mask, causal, shape, dtype, like):
    """The mask as an additive float array (0 = attend, -inf = masked) broadcasting to ``shape``
    (..., L, S), or None; and the (..., L) bool array of fully masked rows, or None if none is."""
    xp = xp_of(like)
    if causal:  # row i attends keys j <= i: the lower triangle of an (L, S) block, top-left aligned
        mask = xp.tri(shape[-2], shape[-1], dtype=bool)
    if mask is None:
        return None, None
    if mask.dtype == numpy.bool_:
        additive = xp.zeros(mask.shape, dtype=dtype)
        additive[~mask] = -numpy.inf
    else:
        additive = mask.astype(dtype, copy=False)
    dead = (additive == -numpy.inf).all(axis=-1) if additive.shape[-1] else None
    return additive, dead if dead is not None and bool(dead.any()) else None


def _keep_mask(shape, p, dtype, like):
    """Inverted dropout's multiplier for the weights: 1/(1-p) with probability 1-p, else 0. Drawn
    from minidl's generator on the CPU, so a seed drops the same weights on every device."""
    if p == 1:
        return xp_of(like).zeros(shape, dtype=dtype)
    keep = (_random.generator().random(shape) >= p).astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return to_device(keep, device_of(like))


class ScaledDotProductAttention(Function):
    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p, is_causal):
        *_, n_q, e = q.shape
        n_k, ev = k.shape[-2], v.shape[-1]
        batch = tuple(numpy.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
        rows = math.prod(batch)
        # Scale Q rather than the scores: (L, E) is smaller than (L, S), and dK reuses scale * Q.
        qs = _batch_operand(q.data * q.dtype.type(scale), batch, n_q, e)
        k3 = _batch_operand(k.data, batch, n_k, e)
        v3 = _batch_operand(v.data, batch, n_k, ev)
        scores = kernels.matmul(qs, k3, trans_b=True)  # S = (scale Q) K^T: (B, L, S)
        additive, dead = _additive_mask(
            None if mask is None else mask.data, is_causal, batch + (n_q, n_k), q.dtype, q.data
        )
        if additive is not None:
            s4 = scores.reshape(batch + (n_q, n_k))  # a view: the sum below lands in scores
            s4 += additive  # S += M, broadcast over batch and heads
        p = kernels.softmax_forward(scores.reshape(rows * n_q, n_k)).reshape(scores.shape)
        if dead is not None:  # 0/0 rows: weights 0 (see the module docstring)
            p4 = p.reshape(batch + (n_q, n_k))
            p = xp_of(p).where(dead[..., None], p.dtype.type(0), p4).reshape(p.shape)
        keep = _keep_mask(p.shape, dropout_p, p.dtype, p) if dropout_p > 0 else None
        ctx.scale, ctx.batch = scale, batch
        ctx.save_for_backward(qs, k3, v3, p, keep)
        out = kernels.matmul(p if keep is None else p * keep, v3)  # O = dropout(P) V: (B, L, Ev)
        return out.reshape(batch + (n_q, ev))

    @staticmethod
    def backward(ctx, grad):
        qs, k3, v3, p, keep = ctx.saved_tensors
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
        batch, (n_b, n_q, n_k) = ctx.batch, p.shape
        g = grad.data.reshape(n_b, n_q, v3.shape[-1])
        dq = dk = dv = dmask = None
        if need_v:  # O = P' V  =>  dV = P'^T dO   (P' = dropout(P))
            pd = p if keep is None else p * keep
            dv = kernels.matmul(pd, g, trans_a=True).reshape(batch + v3.shape[-2:])
        if need_q or need_k or need_mask:
            dp = kernels.matmul(g, v3, trans_b=True)  # dP' = dO V^T
            if keep is not None:
                dp *= keep  # P' = P * keep  =>  dP = dP' * keep
            # P = softmax(S)  =>  dS = P * (dP - rowsum(dP * P)), on the softmax kernel
            ds = kernels.softmax_backward(dp.reshape(n_b * n_q, n_k), p.reshape(n_b * n_q, n_k))
            ds = ds.reshape(n_b, n_q, n_k)
            if need_mask:  # S = QK^T/s + M  =>  dM = dS
                dmask = ds.reshape(batch + (n_q, n_k))
            if need_q:  # S = (scale Q) K^T  =>  dQ = scale * dS K
                dq = kernels.matmul(ds, k3)
                dq *= dq.dtype.type(ctx.scale)
                dq = dq.reshape(batch + dq.shape[-2:])
            if need_k:  # S = (scale Q) K^T  =>  dK = dS^T (scale Q)
                dk = kernels.matmul(ds, qs, trans_a=True).reshape(batch + k3.shape[-2:])
        return dq, dk, dv, dmask, None, None, None


def _check(query, key, value, attn_mask, dropout_p, is_causal, scale):
    """Every argument checked once, here; the Function trusts them."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        ensure_tensor(t, f"{_OP} ({name})")
        if t.ndim < 2:
            raise ShapeError(
                f"{_OP}: {name} must have at least 2 dims (..., length, features), got shape {t.shape}"
            )
    if query.dtype not in _FLOATS or key.dtype != query.dtype or value.dtype != query.dtype:
        raise DTypeError(
            f"{_OP}: query, key and value must share one dtype, float32 or float64; got "
            f"{query.dtype}, {key.dtype} and {value.dtype}"
        )
    shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"{_OP}: expected query (..., L, E), key (..., S, E) and value (..., S, Ev) with the "
            f"same E and the same S, got {shapes}"
        )
    try:
        batch = numpy.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ShapeError(f"{_OP}: the batch dims of {shapes} cannot be broadcast together") from None
    if attn_mask is not None:
        if is_causal:
            raise ValueError(f"{_OP}: pass either attn_mask or is_causal=True, not both")
        ensure_tensor(attn_mask, f"{_OP} (attn_mask)")
        if attn_mask.dtype != numpy.bool_ and attn_mask.dtype not in (query.dtype, numpy.float32):
            raise DTypeError(
                f"{_OP}: attn_mask must be bool (True = attend) or a float mask of the query's "
                f"dtype {query.dtype} (added to the scores), got {attn_mask.dtype}"
            )
        scores = tuple(batch) + (query.shape[-2], key.shape[-2])
        try:
            fits = numpy.broadcast_shapes(attn_mask.shape, scores) == scores
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(
                f"{_OP}: attn_mask of shape {attn_mask.shape} does not broadcast to the attention "
                f"weights' shape {scores} (batch..., L, S) for {shapes}"
            )
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or not 0 <= dropout_p <= 1:
        raise ValueError(f"{_OP}: dropout_p must be a probability in [0, 1], got {dropout_p!r}")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
        raise TypeError(f"{_OP}: scale must be a number or None, got {type(scale).__name__}")


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(query key^T * scale + mask) value, PyTorch's ``F.scaled_dot_product_attention``.

    query: (..., L, E), key: (..., S, E), value: (..., S, Ev)  ->  (..., L, Ev); the leading
    (batch, heads) dims broadcast.
    attn_mask: bool (True = attend) or float (added to the scores), broadcasting to (..., L, S).
    dropout_p: dropout on the attention weights (pass 0 in evaluation, as with PyTorch).
    is_causal: query i attends keys j <= i (top-left aligned when L != S); not with attn_mask.
    scale: defaults to 1 / sqrt(E).
    A query row with every key masked returns 0 (gradient 0), deliberately; see the module doc.
    """
    _check(query, key, value, attn_mask, dropout_p, is_causal, scale)
    e = query.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(e) if e else 1.0
    if attn_mask is not None and attn_mask.dtype not in (numpy.bool_, query.dtype):
        attn_mask = cast(attn_mask, query.dtype)  # a float32 mask with float64 inputs, as PyTorch
    return ScaledDotProductAttention.apply(
        query, key, value, attn_mask, float(scale), float(dropout_p), bool(is_causal)
    )
