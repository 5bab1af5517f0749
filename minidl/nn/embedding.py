"""``Embedding``: a learned lookup table, one vector per id (words, tokens, categories).

    weight  (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch

``emb(ids)`` is ``weight[ids]``: ids of any shape give vectors of shape (*ids.shape, embedding_dim).
Only the looked-up rows receive gradient (``functional/embedding.py``).
"""

from .. import factories
from .. import functional as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from ..functional.embedding import check_indices
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """Embedding(num_embeddings, embedding_dim, padding_idx=None)

    input: integer ids (*) in [0, num_embeddings) -> (*, embedding_dim).
    padding_idx: an id whose row starts at zeros and receives no gradient (e.g. padding tokens).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {n!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for {num_embeddings} embeddings"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(factories.empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].zero_()  # an int index gives a view: the row itself

    def forward(self, indices: Tensor) -> Tensor:
        check_indices(repr(self), indices, self.num_embeddings)
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
