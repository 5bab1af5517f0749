"""``MultiheadAttention``: PyTorch's ``nn.MultiheadAttention``, names, layout and results included.

    in_proj_weight  (3E, E)   W_q, W_k, W_v stacked (xavier_uniform); or, when kdim/vdim differ
                              from E, q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight
                              (E, vdim), and in_proj_weight is None
    in_proj_bias    (3E,)     zeros
    out_proj        Linear(E, E), its bias zeros

forward: project q, k, v; split E into num_heads heads of E / num_heads; attend in each head
(``F.scaled_dot_product_attention``, one op over all batch entries and heads); concatenate the
heads and project with out_proj. So a PyTorch ``state_dict`` loads unchanged.

The masks follow PyTorch's convention *for this layer*: a bool ``key_padding_mask`` (N, S) or
``attn_mask`` (L, S) / (N * num_heads, L, S) is True where attention is NOT allowed (the opposite
of sdpa's bool mask); a float one is added to the scores. With ``need_weights=True`` the weights
are computed explicitly (as PyTorch does) and returned, averaged over the heads unless
``average_attn_weights=False``. A query row with every key masked gets weights 0 and output
out_proj(0) = its bias, on both paths (PyTorch returns NaN on its need_weights=True path).
"""

import math
from typing import Any

from .. import factories
from .. import functional as F
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter


class MultiheadAttention(Module):
    """MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None, dtype=None)

    query (L, N, E), key (S, N, kdim), value (S, N, vdim) ((N, L, E) ... with batch_first; or
    unbatched (L, E), (S, kdim), (S, vdim))  ->  (attn_output like query, attn_weights (N, L, S),
    (N, num_heads, L, S) unaveraged, or None)
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        for name, n in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got {n!r}")
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be a probability in [0, 1], got {dropout!r}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not supported by minidl"
            )
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        like: dict[str, Any] = dict(dtype=dtype, device=device)
        self.in_proj_weight: Parameter | None
        self.in_proj_bias: Parameter | None
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(factories.empty(3 * embed_dim, embed_dim, **like))
        else:
            self.q_proj_weight = Parameter(factories.empty(embed_dim, embed_dim, **like))
            self.k_proj_weight = Parameter(factories.empty(embed_dim, self.kdim, **like))
            self.v_proj_weight = Parameter(factories.empty(embed_dim, self.vdim, **like))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(factories.empty(3 * embed_dim, **like))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **like)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier_uniform_ projections, zero biases; out_proj.weight keeps Linear's init."""
        if self.in_proj_weight is not None:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
        if self.out_proj.bias is not None:
            init.zeros_(self.out_proj.bias)

    # -- forward -------------------------------------------------------------------------------

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        batched = self._check_inputs(query, key, value)
        self_attention = query is key and key is value  # before the views below make three tensors
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{self._label()}: is_causal=True is a hint that attn_mask is the causal mask; pass attn_mask too"
            )
        if not batched:  # one sequence: a batch of one
            query, key, value = (t.unsqueeze(0 if self.batch_first else 1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        if not self.batch_first:  # work on (N, L, E) views
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, n_q, _ = query.shape
        n_k = key.shape[1]
        mask = self._merged_mask(attn_mask, key_padding_mask, n, n_q, n_k, query.dtype, batched)
        q, k, v = self._project(query, key, value, self_attention)
        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = self._attend_with_weights(q, k, v, mask, p)
        else:
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        out = self.out_proj(out.transpose(1, 2).reshape(n, n_q, self.embed_dim))  # heads side by side
        if not self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            weights = None if weights is None else weights.squeeze(0)
        return out, weights

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """The shapes PyTorch accepts; returns whether the inputs are batched."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor) or not t.is_floating_point():
                what = t.dtype if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"{self._label()}: {name} must be a floating-point Tensor, got {what}")
            if t.ndim not in (2, 3):
                raise ValueError(
                    f"{self._label()}: {name} must be 3-d (batched) or 2-d (unbatched), got {t.shape}"
                )
        if not query.ndim == key.ndim == value.ndim:
            raise ValueError(
                f"{self._label()}: query, key and value must be all batched or all unbatched, got "
                f"{query.shape}, {key.shape}, {value.shape}"
            )
        for name, t, size in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            if t.shape[-1] != size:
                raise ValueError(
                    f"{self._label()}: expected {name} of embedding size {size}, got shape {t.shape}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{self._label()}: key {key.shape} and value {value.shape} must agree but in the last dim"
            )
        if query.ndim == 3 and query.shape[1 - self.batch_first] != key.shape[1 - self.batch_first]:
            raise ValueError(
                f"{self._label()}: query {query.shape} and key {key.shape} have different batch sizes"
            )
        dtype = self.out_proj.weight.dtype
        if not query.dtype == key.dtype == value.dtype == dtype:
            raise TypeError(
                f"{self._label()}: query, key and value must have the parameters' dtype {dtype}, got "
                f"{query.dtype}, {key.dtype}, {value.dtype}; convert them, or the layer with .to()"
            )
        return query.ndim == 3

    def _project(
        self, query: Tensor, key: Tensor, value: Tensor, self_attention: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """q, k, v: (N, L or S, E) each, projected and split into heads: (N, H, L or S, head_dim)."""
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
        weights: tuple[Tensor, ...]
        if self.in_proj_weight is None:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        else:
            weights = self.in_proj_weight.chunk(3)
        if self_attention and self.in_proj_weight is not None:
            # self-attention: one product with the stacked (3E, E) weight, then split
            qkv = F.linear(query, self.in_proj_weight, b).chunk(3, dim=-1)
        else:
            qkv = tuple(F.linear(x, w, bb) for x, w, bb in zip((query, key, value), weights, (bq, bk, bv)))
        n, h, d = query.shape[0], self.num_heads, self.head_dim
        return tuple(x.reshape(n, x.shape[1], h, d).transpose(1, 2) for x in qkv)  # type: ignore[return-value]

    def _merged_mask(
        self,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        n: int,
        n_q: int,
        n_k: int,
        dtype: Any,
        batched: bool,
    ) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive float mask broadcasting to (N, H, L, S)."""
        merged = None
        if attn_mask is not None:
            merged = self._additive(attn_mask, "attn_mask", dtype)
            heads = n * self.num_heads
            if attn_mask.shape == (n_q, n_k):
                merged = merged.reshape(1, 1, n_q, n_k)
            elif attn_mask.shape == (heads, n_q, n_k):
                merged = merged.reshape(n, self.num_heads, n_q, n_k)
            else:
                raise ValueError(
                    f"{self._label()}: attn_mask must be ({n_q}, {n_k}) or ({heads}, {n_q}, {n_k}) "
                    f"(L, S) or (N * num_heads, L, S), got {attn_mask.shape}"
                )
        if key_padding_mask is not None:
            if key_padding_mask.shape != (n, n_k):
                want = f"({n}, {n_k})" if batched else f"({n_k},)"
                got = key_padding_mask.shape if batched else key_padding_mask.shape[1:]
                raise ValueError(f"{self._label()}: key_padding_mask must be {want} (N, S), got {got}")
            padding = self._additive(key_padding_mask, "key_padding_mask", dtype).reshape(n, 1, 1, n_k)
            merged = padding if merged is None else merged + padding
        return merged

    def _additive(self, mask: Tensor, name: str, dtype: Any) -> Tensor:
        """A mask as the float added to the scores: bool True (not allowed) -> -inf, False -> 0."""
        if not isinstance(mask, Tensor):
            raise TypeError(
                f"{self._label()}: {name} must be a bool or float Tensor, got {type(mask).__name__}"
            )
        if mask.dtype.kind == "b":  # bool
            zeros = factories.zeros(*mask.shape, dtype=dtype, device=mask.device)
            return F.masked_fill(zeros, mask, -math.inf)
        if not mask.is_floating_point():
            raise TypeError(
                f"{self._label()}: {name} must be bool (True = not allowed) or float (added to the "
                f"scores), got {mask.dtype}"
            )
        return mask if mask.dtype == dtype else mask.to(dtype)

    def _attend_with_weights(
        self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, p: float
    ) -> tuple[Tensor, Tensor]:
        """The attention written out, to return its weights: P = softmax(q k^T / sqrt(d) + M)."""
        scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.mT  # (N, H, L, S)
        dead = None
        if mask is not None:
            dead_rows = (mask == -math.inf).all(-1, keepdim=True)  # every key masked
            if dead_rows.any().item():
                dead = dead_rows
                mask = F.masked_fill(mask, dead, 0.0)  # a finite softmax there, zeroed below
            scores = scores + mask
        weights = F.softmax(scores, -1)
        if dead is not None:
            weights = F.masked_fill(weights, dead, 0.0)
        return F.dropout(weights, p, training=p > 0) @ v, weights

    def _label(self) -> str:
        """The layer in an error message, on one line (repr() lists the submodules too)."""
        return f"MultiheadAttention({self.extra_repr()})"

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
