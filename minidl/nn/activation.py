"""Activation layers: the elementwise nonlinearities, and softmax/log_softmax along a dim.

Each is a thin Module over the functional op (``functional/elementwise.py`` for relu, sigmoid,
tanh; ``functional/activation.py`` for the rest), so that it can sit in a ``Sequential``. None has
parameters.

``inplace=True`` is accepted wherever PyTorch has it (ReLU, LeakyReLU, ELU, SELU, CELU, SiLU,
Mish, Hardswish, Hardsigmoid, Hardtanh, ReLU6) so PyTorch code runs unchanged, but minidl always
computes a new tensor (the values are the same; only the memory saving is not made).
"""

import warnings

from .. import functional as F
from ..autograd.tensor import Tensor
from ._checks import expect_float, expect_tensor
from .module import Module


class ReLU(Module):
    """max(x, 0), elementwise.  Any shape -> the same shape."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, negative_slope * x elsewhere.  Any shape -> the same shape."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return F.tanh(x)


class GELU(Module):
    """x * Phi(x) (Phi the standard normal CDF); approximate='tanh' uses the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


def _implicit_dim(layer: str, ndim: int) -> int:
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-d inputs, else 1. It guesses,
    so (as PyTorch) we warn: pass dim explicitly."""
    warnings.warn(
        f"{layer}: no dim given; using dim={0 if ndim in (0, 1, 3) else 1} for a {ndim}-d input "
        f"(PyTorch's implicit choice). Pass dim explicitly.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class _AlongDim(Module):
    """A layer that applies ``_op(x, dim)``: what Softmax and LogSoftmax share."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        dim = self.dim if self.dim is not None else _implicit_dim(type(self).__name__, x.ndim)
        return self._op(x, dim)

    def _op(self, x: Tensor, dim: int) -> Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """exp(x) / sum(exp(x)) along ``dim``: each slice along dim becomes a distribution."""

    def _op(self, x: Tensor, dim: int) -> Tensor:
        return F.softmax(x, dim)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along ``dim``, computed directly (stable for large inputs)."""

    def _op(self, x: Tensor, dim: int) -> Tensor:
        return F.log_softmax(x, dim)


class Softmin(_AlongDim):
    """softmax(-x) along ``dim``: the smallest entries get the most weight."""

    def _op(self, x: Tensor, dim: int) -> Tensor:
        return F.softmin(x, dim)


# ---------------------------------------------------------------------------------------------
# The PyTorch activation zoo (functional/activation.py): each layer is its functional op


class _Elementwise(Module):
    """A layer that applies ``_op(x)``, a float-only elementwise op; ``inplace`` is accepted."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return self._op(x)

    def _op(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class SELU(_Elementwise):
    """scale * elu(x, alpha), SELU's fixed constants (alpha ~ 1.6733, scale ~ 1.0507)."""

    def _op(self, x: Tensor) -> Tensor:
        return F.selu(x)


class SiLU(_Elementwise):
    """x * sigmoid(x) (swish)."""

    def _op(self, x: Tensor) -> Tensor:
        return F.silu(x)


class Mish(_Elementwise):
    """x * tanh(softplus(x))."""

    def _op(self, x: Tensor) -> Tensor:
        return F.mish(x)


class Hardswish(_Elementwise):
    """x * relu6(x + 3) / 6."""

    def _op(self, x: Tensor) -> Tensor:
        return F.hardswish(x)

    def extra_repr(self) -> str:
        return ""  # PyTorch's repr leaves the inplace flag out for this layer


class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6."""

    def _op(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x)

    def extra_repr(self) -> str:
        return ""  # PyTorch's repr leaves the inplace flag out for this layer


class LogSigmoid(_Elementwise):
    """log(sigmoid(x)), stable for any x."""

    def _op(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)

    def __init__(self) -> None:  # PyTorch's LogSigmoid has no inplace flag
        super().__init__()


class Softsign(Module):
    """x / (1 + |x|); integers give the default float dtype, as in PyTorch."""

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor(self, x)
        return F.softsign(x)


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return self._op(x, self.alpha)

    def _op(self, x: Tensor, alpha: float) -> Tensor:
        return F.elu(x, alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)); alpha must not be 0."""

    def _op(self, x: Tensor, alpha: float) -> Tensor:
        return F.celu(x, alpha)


class Hardtanh(Module):
    """x clipped to [min_val, max_val] (integer inputs keep their dtype, as in PyTorch)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not max_val > min_val:
            raise ValueError(
                f"{type(self).__name__}: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor(self, x)
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""
