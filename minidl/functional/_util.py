"""Small helpers shared by the op families: unwrapping operands, normalising dims."""
import numpy

from ..autograd.tensor import Tensor


def data(x):
    """The array inside a tensor; Python numbers and arrays pass through unchanged."""
    return x.data if isinstance(x, Tensor) else x


def shape_of(x):
    return x.shape if isinstance(x, Tensor) else numpy.shape(x)


def broadcast_error(op, *operands):
    shapes = " and ".join(str(tuple(shape_of(x))) for x in operands)
    return ValueError(f"{op}: shapes {shapes} cannot be broadcast together "
                      f"(sizes must match or be 1, aligned from the right)")


def normalize_dim(dim, ndim, op):
    """One dim as a non-negative int, or a clear IndexError."""
    n = max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, numpy.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) "
                         f"(expected {-n} to {n - 1})")
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
