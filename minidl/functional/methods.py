"""The one table that turns functional ops into Tensor methods and operators.

``x + y`` is ``functional.add(x, y)``, ``x.sum(1)`` is ``functional.sum(x, 1)``. The Tensor class
(``minidl/autograd/tensor.py``) defines none of these itself, so autograd never imports
functional; this file attaches them once, when ``minidl.functional`` is imported.
"""

from ..autograd.tensor import Tensor
from . import (  # reductions, scans and sorting (issue 13)  # rounding, trig, exp/log, logic (issue 13)  # shape: triangles, diagonals, rearranging (issue 13)  # indexing along a dim and by masks (issue 13)
    activation,
    explog,
    gather,
    indexing,
    linalg,
    logical,
    masking,
    rearrange,
    reduce,
    rounding,
    scan,
    scatter,
    shape,
    sort,
    triangular,
    trig,
)
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
    # & | ^ ~ are bitwise (logical on bools, bit by bit on integers), as in PyTorch (issue 13)
    "__and__": logical.bitwise_and,
    "__rand__": _swap(logical.bitwise_and),
    "__or__": logical.bitwise_or,
    "__ror__": _swap(logical.bitwise_or),
    "__xor__": logical.bitwise_xor,
    "__rxor__": _swap(logical.bitwise_xor),
    "__invert__": logical.bitwise_not,
    "__mod__": rounding.remainder,
    "__rmod__": _swap(rounding.remainder),
    "__floordiv__": rounding.floor_divide,
    "__rfloordiv__": _swap(rounding.floor_divide),
    "__getitem__": indexing.getitem,
    # elementwise
    "add": ew.add,
    "sub": ew.sub,
    "mul": ew.mul,
    "div": rounding.div,
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
    # rounding, trigonometry, exponentials and logs, logic and tests (issue 13)
    "floor": rounding.floor,
    "ceil": rounding.ceil,
    "trunc": rounding.trunc,
    "round": rounding.round,
    "frac": rounding.frac,
    "fmod": rounding.fmod,
    "remainder": rounding.remainder,
    "floor_divide": rounding.floor_divide,
    "tan": trig.tan,
    "asin": trig.asin,
    "acos": trig.acos,
    "atan": trig.atan,
    "atan2": trig.atan2,
    "sinh": trig.sinh,
    "cosh": trig.cosh,
    "asinh": trig.asinh,
    "acosh": trig.acosh,
    "atanh": trig.atanh,
    "log2": explog.log2,
    "log10": explog.log10,
    "exp2": explog.exp2,
    "expm1": explog.expm1,
    "log1p": explog.log1p,
    "rsqrt": explog.rsqrt,
    "logaddexp": explog.logaddexp,
    "copysign": explog.copysign,
    "lerp": explog.lerp,
    "isnan": logical.isnan,
    "isinf": logical.isinf,
    "isfinite": logical.isfinite,
    "isclose": logical.isclose,
    "allclose": logical.allclose,
    "logical_and": logical.logical_and,
    "logical_or": logical.logical_or,
    "logical_xor": logical.logical_xor,
    "logical_not": logical.logical_not,
    "bitwise_and": logical.bitwise_and,
    "bitwise_or": logical.bitwise_or,
    "bitwise_xor": logical.bitwise_xor,
    "bitwise_not": logical.bitwise_not,
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
    # reductions, scans and sorting (issue 13: prod, cumulative ops, sort/topk/median)
    "prod": reduce.prod,
    "cumsum": scan.cumsum,
    "cumprod": scan.cumprod,
    "cummax": scan.cummax,
    "cummin": scan.cummin,
    "logcumsumexp": scan.logcumsumexp,
    "sort": sort.sort,
    "argsort": sort.argsort,
    "topk": sort.topk,
    "kthvalue": sort.kthvalue,
    "median": sort.median,
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
    # shape: triangles, diagonals, rearranging (issue 13)
    "tril": triangular.tril,
    "triu": triangular.triu,
    "diag": triangular.diag,
    "diagonal": triangular.diagonal,
    "roll": rearrange.roll,
    "flip": rearrange.flip,
    "movedim": rearrange.movedim,
    "moveaxis": rearrange.moveaxis,
    "repeat": rearrange.repeat,
    "repeat_interleave": rearrange.repeat_interleave,
    "unfold": rearrange.unfold,
    # indexing along a dim and by masks (issue 13)
    "gather": gather.gather,
    "take_along_dim": gather.take_along_dim,
    "index_select": gather.index_select,
    "scatter": scatter.scatter,
    "scatter_add": scatter.scatter_add,
    "scatter_reduce": scatter.scatter_reduce,
    "masked_fill": masking.masked_fill,
    "masked_select": masking.masked_select,
    "nonzero": masking.nonzero,
    "where": lambda self, condition, other: masking.where(condition, self, other),
    # linear algebra
    "matmul": linalg.matmul,
    "bmm": linalg.bmm,  # issue 14, piece B
    "baddbmm": linalg.baddbmm,
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
