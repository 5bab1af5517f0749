"""A small GPT: a decoder-only Transformer that predicts the next character.

    ids (B, T) -> token embedding + position embedding          (B, T, C)
               -> layers x Block:  x = x + attention(ln_1(x))   causal self-attention
                                   x = x + mlp(ln_2(x))         C -> 4C -> C with GELU
               -> ln_f -> head (Linear C -> vocabulary)         (B, T, V) logits

The normalisation comes before each sublayer ("pre-norm", GPT-2's order), so the residual stream
x carries every block's contribution unscaled and deep stacks train without warm-up. Position t's
logits depend only on ids[:, :t + 1]: the attention is causal (``is_causal=True``), and nothing
else mixes positions. The default (4 layers, 4 heads, width 128, context 128) has about 0.84 M
parameters with the 103 characters of the default corpus.
"""

from __future__ import annotations

from typing import Any

from .. import arange, nn
from ..autograd.tensor import Tensor
from ..nn import functional as F


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t attends to positions 0..t only.

    One Linear makes queries, keys and values together (C -> 3C); the heads are a reshape of the
    width, (B, T, C) -> (B, heads, T, C / heads), so each head attends in its own subspace.
    """

    def __init__(self, width: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if width % heads != 0:
            raise ValueError(f"CausalSelfAttention: width {width} is not divisible by heads {heads}")
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.proj_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        batch, length, width = x.shape
        # (B, T, 3C) -> (3, B, heads, T, C / heads): q, k and v, each split into heads.
        qkv = self.qkv(x).reshape(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        # (B, heads, T, C / heads) -> (B, T, C): the heads side by side again.
        y = y.transpose(1, 2).reshape(batch, length, width)
        return self.proj_dropout(self.proj(y))


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)): (B, T, C) -> (B, T, C)."""

    def __init__(self, width: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, heads, dropout)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width),
            nn.GELU(approximate="tanh"),
            nn.Linear(4 * width, width),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """ids (B, T) of at most ``context`` positions -> next-character logits (B, T, vocabulary).

    tied: the head reuses the token embedding's matrix (logits = h @ E^T, no bias), as GPT-2 does;
    untied (the default, as the issue's PyTorch reference) it is a Linear of its own.
    """

    def __init__(
        self,
        vocabulary: int,
        context: int = 128,
        layers: int = 4,
        width: int = 128,
        heads: int = 4,
        dropout: float = 0.0,
        tied: bool = False,
    ) -> None:
        super().__init__()
        self.context = context
        self.tied = tied
        self.token_embedding = nn.Embedding(vocabulary, width)
        self.position_embedding = nn.Embedding(context, width)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*(Block(width, heads, dropout) for _ in range(layers)))
        self.ln_f = nn.LayerNorm(width)
        self.head = None if tied else nn.Linear(width, vocabulary)

    def forward(self, ids: Tensor) -> Tensor:
        length = ids.shape[-1]
        if length > self.context:
            raise ValueError(f"GPT: {length} positions is more than the context of {self.context}")
        positions = arange(length, device=ids.device)
        x = self.dropout(self.token_embedding(ids) + self.position_embedding(positions))
        h = self.ln_f(self.blocks(x))
        if self.head is None:
            return F.linear(h, self.token_embedding.weight)
        return self.head(h)

    def predict_next(self, ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """The logits (B, V) of the character after ``ids`` (B, L), seeing at most the last
        ``context`` of them (a GPT has no memory beyond its window; the state is unused)."""
        return self(ids[:, -self.context :])[:, -1], None
