"""``Linear``: y = x W^T + b, the fully connected layer.

    weight  (out_features, in_features)    one row per output: y_j = <W_j, x> + b_j
    bias    (out_features,) or None

Initialisation as in PyTorch: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)),
b ~ U(-1/sqrt(in), 1/sqrt(in)). The forward multiplies by the transposed *view* W.mT, which our
matmul kernel reads in place through a transpose flag: no copy of W is made.
"""
import math

from .. import factories
from . import init
from ._checks import expect_dtype, expect_float
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """Linear(in_features, out_features, bias=True, device=None, dtype=None)

    input (*, in_features) -> output (*, out_features); * is any number of leading dims.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(factories.empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(factories.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        expect_float(self, x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features={self.out_features}) "
                             f"expected input (..., {self.in_features}), got {tuple(x.shape)}")
        expect_dtype(self, x, self.weight)
        y = x @ self.weight.mT
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
