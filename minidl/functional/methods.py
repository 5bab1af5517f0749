"""The one table that turns functional ops into Tensor methods and operators.

``x + y`` is ``functional.add(x, y)``, ``x.sum(1)`` is ``functional.sum(x, 1)``. The Tensor class
(``minidl/autograd/tensor.py``) defines none of these itself, so autograd never imports
functional; this file attaches them once, when ``minidl.functional`` is imported.
"""

from ..autograd.tensor import Tensor
from . import activation, indexing, linalg, reduce, shape
from . import elementwise as ew


def _swap(fn):
    """The reflected operator: ``2 - x`` calls ``x.__rsub__(2)``, which is ``sub(2, x)``."""
    return lambda self, other: fn(other, self)


METHODS = {
    # operators
    "__add__": ew.add,
    "__radd__": _swap(ew.add),
    "__sub__": ew.sub,
    "__rsub__": _swap(ew.sub),
    "__mul__": ew.mul,
    "__rmul__": _swap(ew.mul),
    "__truediv__": ew.div,
    "__rtruediv__": _swap(ew.div),
    "__pow__": ew.pow,
    "__rpow__": _swap(ew.pow),
    "__matmul__": linalg.matmul,
    "__rmatmul__": _swap(linalg.matmul),
    "__neg__": ew.neg,
    "__pos__": lambda x: x,
    "__abs__": ew.abs_,
    "__eq__": ew.eq,
    "__ne__": ew.ne,
    "__lt__": ew.lt,
    "__le__": ew.le,
    "__gt__": ew.gt,
    "__ge__": ew.ge,
    "__and__": ew.logical_and,
    "__or__": ew.logical_or,
    "__invert__": ew.logical_not,
    "__getitem__": indexing.getitem,
    # elementwise
    "add": ew.add,
    "sub": ew.sub,
    "mul": ew.mul,
    "div": ew.div,
    "pow": ew.pow,
    "neg": ew.neg,
    "exp": ew.exp,
    "log": ew.log,
    "sqrt": ew.sqrt,
    "abs": ew.abs_,
    "sin": ew.sin,
    "cos": ew.cos,
    "tanh": ew.tanh,
    "sigmoid": ew.sigmoid,
    "relu": ew.relu,
    "sign": ew.sign,
    "maximum": ew.maximum,
    "minimum": ew.minimum,
    "clamp": ew.clamp,
    "clip": ew.clamp,
    "eq": ew.eq,
    "ne": ew.ne,
    "lt": ew.lt,
    "le": ew.le,
    "gt": ew.gt,
    "ge": ew.ge,
    # reductions
    "sum": reduce.sum,
    "mean": reduce.mean,
    "max": reduce.max,
    "min": reduce.min,
    "amax": reduce.amax,
    "amin": reduce.amin,
    "argmax": reduce.argmax,
    "argmin": reduce.argmin,
    "var": reduce.var,
    "std": reduce.std,
    "logsumexp": reduce.logsumexp,
    "all": reduce.all,
    "any": reduce.any,
    # shape
    "reshape": shape.reshape,
    "view": shape.view,
    "permute": shape.permute,
    "transpose": shape.transpose,
    "flatten": shape.flatten,
    "unflatten": shape.unflatten,
    "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze,
    "expand": shape.expand,
    "expand_as": shape.expand_as,
    "split": shape.split,
    "chunk": shape.chunk,
    # linear algebra
    "matmul": linalg.matmul,
    # activations
    "softmax": activation.softmax,
    "log_softmax": activation.log_softmax,
}

PROPERTIES = {
    "T": shape.full_transpose,
    "mT": shape.matrix_transpose,
}


def attach():
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name, fn in PROPERTIES.items():
        setattr(Tensor, name, property(fn))


attach()
