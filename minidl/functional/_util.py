"""Small helpers shared by the op families: unwrapping operands, normalising dims."""

from collections.abc import Sequence

import numpy

from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import ShapeError

# A ``dim`` argument: one axis, several, or None for all of them.
Dims = int | Sequence[int] | None


def data(x):
    """The array inside a tensor; Python numbers and arrays pass through unchanged."""
    return x.data if isinstance(x, Tensor) else x


def tensor_among(op: str, *operands: object) -> None:
    """Refuse a call where no operand is a Tensor (numbers alone have no device or dtype to follow)."""
    if not any(isinstance(v, Tensor) for v in operands):
        names = " and ".join(type(v).__name__ for v in operands)
        raise TypeError(f"{op}: expected a Tensor operand, got {names}")


def shape_of(x):
    # an array's own shape: numpy.shape would try to convert a GPU array to NumPy
    return tuple(x.shape) if hasattr(x, "shape") else numpy.shape(x)


def operand_arrays(op, *operands):
    """The arrays of ``operands`` (tensors, Python numbers, NumPy scalars or arrays) for one
    elementwise computation.

    On the CPU they pass through. Beside a GPU tensor, a NumPy scalar becomes a 0-d array on that
    GPU (CuPy's own kernels do not take NumPy scalars on the left of an operator), and a NumPy
    array is refused with both devices named: moving it would be the silent copy minidl never
    makes.
    """
    # type() first: this runs for every elementwise op, and a CPU tensor must cost next to nothing
    gpu = next(
        (
            x
            for x in operands
            if isinstance(x, Tensor) and type(x.data) is not numpy.ndarray and x.device.type != "cpu"
        ),
        None,
    )
    if gpu is None:
        return [data(x) for x in operands]
    out = []
    for x in operands:
        if isinstance(x, numpy.ndarray):
            raise RuntimeError(
                f"{op}: expected all operands on one device, got a tensor on {gpu.device} "
                f"{gpu.shape} and a NumPy array (cpu) {x.shape}; make it a tensor with "
                f"device='{gpu.device}'"
            )
        if isinstance(x, numpy.generic):
            x = xp_of(gpu.data).asarray(x)
        out.append(data(x))
    return out


def broadcast_error(op, *operands):
    shapes = " and ".join(str(tuple(shape_of(x))) for x in operands)
    return ShapeError(
        f"{op}: shapes {shapes} cannot be broadcast together "
        f"(sizes must match or be 1, aligned from the right)"
    )


def normalize_dim(dim, ndim, op):
    """One dim as a non-negative int, or a clear IndexError."""
    n = max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, numpy.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected {-n} to {n - 1})"
        )
    return int(dim) % n


def normalize_dims(dim, ndim, op):
    """``dim`` (None, an int, or a tuple/list of ints) as a sorted tuple of axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(sorted(normalize_dim(d, ndim, op) for d in dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    if ndim == 0:
        return ()
    return axes


def ensure_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x
