"""``Dropout``: randomly zero elements during training (``functional.dropout``), a regulariser.

In training mode each element is zeroed with probability p and the survivors are scaled by
1/(1 - p); in eval mode (``model.eval()``) the layer returns its input unchanged.
"""

from .. import functional as F
from ..autograd.tensor import Tensor
from ._checks import expect_float
from .module import Module


class Dropout(Module):
    """Dropout(p=0.5, inplace=False).  Any shape -> the same shape.

    ``inplace`` is accepted for PyTorch compatibility; minidl always returns a new tensor.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability between 0 and 1, got {p!r}")
        self.p = p
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
