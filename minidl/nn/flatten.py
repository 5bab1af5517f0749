"""``Flatten``: merge a range of dims into one, e.g. (N, C, H, W) -> (N, C*H*W) before a Linear.

The batch dim is kept by default (start_dim=1), unlike ``functional.flatten``/``Tensor.flatten``
whose start_dim is 0, as in PyTorch. Only the shape changes: the values are not copied.
"""

from ..autograd.tensor import Tensor
from ._checks import expect_tensor
from .module import Module


class Flatten(Module):
    """Flatten(start_dim=1, end_dim=-1): (*, d_start, ..., d_end, *) -> (*, d_start * ... * d_end, *)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor(self, x)
        n = x.ndim
        s = self.start_dim + n if self.start_dim < 0 else self.start_dim
        e = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= s < max(n, 1) and 0 <= e < max(n, 1)) or s > e:
            raise ValueError(
                f"{self!r} cannot flatten dims {self.start_dim}..{self.end_dim} of an input "
                f"with {n} dims, got {tuple(x.shape)}"
            )
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
