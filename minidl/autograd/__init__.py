"""Reverse-mode automatic differentiation.

tensor.py     Tensor: an array plus requires_grad, grad, grad_fn
function.py   Function (an op and its derivative) and Context (a node of the graph)
engine.py     backward(): walks the graph from the loss to the leaves
broadcast.py  reducing broadcast gradients, once, for every op
convert.py    differentiable dtype and device changes
grad_mode.py  no_grad, enable_grad
gradcheck.py  gradcheck, gradgradcheck: backward against finite differences
"""

from .dtypes import get_default_dtype, set_default_dtype
from .engine import backward, grad
from .function import Context, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .tensor import Tensor
