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
from ..errors import DTypeError, ShapeError
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


# ---------------------------------------------------------------------------------------------
# bmm and baddbmm (issue 14, piece B): PyTorch's strict batched products, no broadcasting of the
# batch, on the same native kernel as matmul


def _check_batches(op: str, batch1: Tensor, batch2: Tensor) -> None:
    """batch1 (b, n, m) and batch2 (b, m, p) of one dtype, as PyTorch's bmm requires."""
    ensure_tensor(batch1, op)
    ensure_tensor(batch2, op)
    names = ("input", "mat2") if op == "bmm" else ("batch1", "batch2")
    for name, t in zip(names, (batch1, batch2)):
        if t.ndim != 3:
            raise ShapeError(f"{op}: {name} must be a 3-d (batch, rows, cols) tensor, got shape {t.shape}")
    if batch2.shape[:2] != (batch1.shape[0], batch1.shape[2]):
        raise ShapeError(
            f"{op}: {names[0]} {batch1.shape} and {names[1]} {batch2.shape} do not fit: expected "
            f"{names[1]} of shape ({batch1.shape[0]}, {batch1.shape[2]}, p)"
        )
    if batch1.dtype != batch2.dtype:
        raise DTypeError(f"{op}: {names[0]} is {batch1.dtype} but {names[1]} is {batch2.dtype}")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product without broadcasting.  input: (b, n, m), mat2: (b, m, p) -> (b, n, p)"""
    _check_batches("bmm", input, mat2)
    return Matmul.apply(input, mat2)


class Baddbmm(Function):
    @staticmethod
    def forward(ctx, input, batch1, batch2, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(batch1, batch2)
        out = matmul_arrays(batch1.data, batch2.data)
        if alpha != 1:
            out *= out.dtype.type(alpha)
        if beta != 0:  # beta = 0 ignores input entirely, NaN and inf included (as PyTorch)
            out += input.data if beta == 1 else input.data * input.dtype.type(beta)
        return out

    @staticmethod
    def backward(ctx, grad):
        # out = beta I + alpha B1 B2  =>  dI = beta dOut,  dB1 = alpha dOut B2^T,  dB2 = alpha B1^T dOut
        batch1, batch2 = ctx.saved_tensors
        need_i, need_1, need_2 = ctx.needs_input_grad[:3]
        gi = grad * ctx.beta if need_i else None
        g1 = (grad @ batch2.mT) * ctx.alpha if need_1 else None
        g2 = (batch1.mT @ grad) * ctx.alpha if need_2 else None
        return gi, g1, g2, None, None


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), PyTorch's ``baddbmm``.

    input: broadcastable to (b, n, p);  batch1: (b, n, m);  batch2: (b, m, p)  ->  (b, n, p)
    With beta = 0 the input's values are ignored (its gradient is 0).
    """
    op = "baddbmm"
    _check_batches(op, batch1, batch2)
    ensure_tensor(input, op)
    out_shape = (batch1.shape[0], batch1.shape[1], batch2.shape[2])
    try:
        fits = numpy.broadcast_shapes(tuple(input.shape), out_shape) == out_shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{op}: input of shape {input.shape} does not broadcast to the product's shape {out_shape}"
        )
    if input.dtype != batch1.dtype:
        raise DTypeError(f"{op}: input is {input.dtype} but batch1 and batch2 are {batch1.dtype}")
    for name, value in (("beta", beta), ("alpha", alpha)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return Baddbmm.apply(input, batch1, batch2, float(beta), float(alpha))
