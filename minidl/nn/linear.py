"""``Linear``: y = x W^T + b, the fully connected layer.

    weight  (out_features, in_features)    one row per output: y_j = <W_j, x> + b_j
    bias    (out_features,) or None

Initialisation as in PyTorch: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)),
b ~ U(-1/sqrt(in), 1/sqrt(in)). The forward multiplies by the transposed *view* W.mT, which our
matmul kernel reads in place through a transpose flag: no copy of W is made.
"""

import math

from .. import factories
from .. import functional as F
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from . import init
from ._checks import expect_dtype, expect_float
from .module import Module
from .parameter import Parameter


def reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for a layer y = W x + b (Linear, Conv1d, Conv2d): kaiming_uniform_ with
    a = sqrt(5) for W, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for b."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """Linear(in_features, out_features, bias=True, device=None, dtype=None)

    input (*, in_features) -> output (*, out_features); * is any number of leading dims.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.bias: Parameter | None
        self.weight = Parameter(factories.empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(factories.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}) "
                f"expected input (..., {self.in_features}), got {tuple(x.shape)}"
            )
        expect_dtype(self, x, self.weight)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )
