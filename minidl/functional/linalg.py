"""Matrix multiplication, the op that carries most of a network's arithmetic, and ``linear``.

The forward calls our native kernel (``backend.kernels.matmul`` -> ``csrc/cpu/matmul.cpp``). It
follows NumPy's rules: 1-d operands are vectors, leading dims are batch dims that broadcast.
``linear`` (y = x W^T + b, nn.Linear's forward) is matmul with the transposed view of W.
"""

import math

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import kernels
from ..backend.device import xp_of
from ..errors import ShapeError
from ._util import ensure_tensor


def _broadcast_batch(shape_a, shape_b):
    """The broadcast of the batch dims (all but the last two) of two operands."""
    try:
        return numpy.broadcast_shapes(tuple(shape_a[:-2]), tuple(shape_b[:-2]))
    except ValueError:
        raise ShapeError(
            f"matmul: batch dims {tuple(shape_a[:-2])} and {tuple(shape_b[:-2])} of shapes "
            f"{tuple(shape_a)} and {tuple(shape_b)} cannot be broadcast together"
        ) from None


def _batch_operand(array, batch, rows, cols):
    """``array`` (..., rows, cols) as a 3-d (B, rows, cols) array for the kernel.

    A batch of size 1 stays 1: the kernel shares it across the batch instead of copying it.
    """
    own = array.shape[:-2]
    if math.prod(own) == 1:
        return array.reshape(1, rows, cols)
    if tuple(own) != tuple(batch):
        array = xp_of(array).broadcast_to(array, tuple(batch) + (rows, cols))
    return array.reshape(math.prod(array.shape[:-2]), rows, cols)


def matmul_arrays(a, b):
    """a: (..., M, K), b: (..., K, N) arrays (ndim >= 2) -> (..., M, N) through the kernel."""
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if b.ndim == 2:
        # (..., M, K) @ (K, N): fold every batch dim into the rows for one large product
        # (the row count spelled out: -1 is ambiguous when K = 0)
        out = kernels.matmul(a.reshape(1, math.prod(a.shape[:-1]), k), b.reshape(1, k, n))
        return out.reshape(a.shape[:-1] + (n,))
    batch = _broadcast_batch(a.shape, b.shape)
    out = kernels.matmul(_batch_operand(a, batch, m, k), _batch_operand(b, batch, k, n))
    return out.reshape(tuple(batch) + (m, n))


class Matmul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return matmul_arrays(a.data, b.data)

    @staticmethod
    def backward(ctx, grad):
        # C = A B  =>  dA = dC B^T,  dB = A^T dC  (transposes are views; the kernel reads them in place)
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        ga = grad @ b.mT if da else None
        if db and b.ndim == 2 and a.ndim > 2:
            # b was shared by every batch entry: sum its gradient inside one product over all rows
            gb = a.reshape(math.prod(a.shape[:-1]), a.shape[-1]).mT @ grad.reshape(
                math.prod(grad.shape[:-1]), grad.shape[-1]
            )
        else:
            gb = a.mT @ grad if db else None
        return ga, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules.

    a: (..., M, K) or (K,);  b: (..., K, N) or (K,)  ->  (..., M, N), with 1-d dims dropped
    """
    ensure_tensor(a, "matmul")
    ensure_tensor(b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ShapeError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
            f"({a.shape[-1]} columns vs {b.shape[-2 if b.ndim > 1 else 0]} rows)"
        )
    vec_a, vec_b = a.ndim == 1, b.ndim == 1
    if vec_a:
        a = a.unsqueeze(0)
    if vec_b:
        b = b.unsqueeze(-1)
    _broadcast_batch(a.shape, b.shape)  # a clear error before any work
    out = Matmul.apply(a, b)
    if vec_a:
        out = out.squeeze(-2)
    if vec_b:
        out = out.squeeze(-1)
    return out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, the fully connected layer's map (PyTorch's ``F.linear``).

    input: (*, in_features) or (in_features,);  weight: (out_features, in_features) or
    (in_features,);  bias: broadcastable to the output, usually (out_features,) or None
    ->  (*, out_features), or (*,) for a 1-d weight
    """
    ensure_tensor(input, "linear")
    ensure_tensor(weight, "linear")
    if weight.ndim not in (1, 2) or input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ShapeError(
            f"linear: expected input (..., in_features) and weight (out_features, in_features) "
            f"with the same in_features, got input {input.shape} and weight {weight.shape}"
        )
    # W.mT is a view: the matmul kernel reads it through a transpose flag, no copy of W is made
    out = matmul(input, weight.mT if weight.ndim == 2 else weight)
    if bias is None:
        return out
    ensure_tensor(bias, "linear")
    try:
        numpy.broadcast_shapes(tuple(bias.shape), tuple(out.shape))
    except ValueError:
        raise ShapeError(
            f"linear: bias of shape {bias.shape} does not broadcast to the output {out.shape} "
            f"(input {input.shape}, weight {weight.shape})"
        ) from None
    return out + bias
