"""Embedding lookup: row ``i`` of a weight matrix for every integer ``i`` of an index tensor.

    embedding(indices, weight, padding_idx=None)
    one_hot(tensor, num_classes=-1)     the same lookup in the identity matrix, as int64

A lookup is indexing, ``weight[indices]``, so its gradient is the indexing op's: the incoming
gradient rows are *added* into a zero matrix at the looked-up rows (an index that appears twice
receives both rows). That scatter lives in ``indexing.py``; this file only checks the indices,
which a raw ``weight[indices]`` would accept with confusing errors (floats) or silently wrap
(negative indices count from the end in NumPy, but are not valid embedding ids).
"""

from typing import Any

import numpy

from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError
from ._util import ensure_tensor
from .indexing import getitem


def check_indices(owner: str, indices: Tensor, num_embeddings: int) -> Any:
    """The index array of ``indices`` (a Tensor of integers in [0, num_embeddings)), or a clear
    error naming ``owner`` (the op, or the layer that called it)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"{owner}: expected the indices as an integer Tensor, got {type(indices).__name__}")
    ids = indices.data
    if ids.dtype.kind not in "iu":
        raise TypeError(
            f"{owner}: expected integer indices (int64), got {ids.dtype} "
            f"(shape {tuple(indices.shape)}); convert them, e.g. indices.long()"
        )
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(
                f"{owner}: index {bad} is out of range for {num_embeddings} embeddings "
                f"(expected 0 <= index < {num_embeddings}), indices of shape "
                f"{tuple(indices.shape)}"
            )
    return ids


def embedding(indices: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """The rows of ``weight`` picked by ``indices``.

    indices: (*) integers in [0, num_embeddings); weight: (num_embeddings, embedding_dim)
    returns (*, embedding_dim).
    padding_idx: an index whose row gets no gradient (its value is still returned as it is), as in
    PyTorch; negative values count from the end.
    """
    op = "embedding"
    ensure_tensor(weight, op)
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be 2-d (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}"
        )
    num = weight.shape[0]
    ids = check_indices(op, indices, num)
    if indices.device != weight.device:
        raise RuntimeError(
            f"{op}: indices are on {indices.device} but weight is on {weight.device}; move one with .to()"
        )
    out = getitem(weight, ids)
    if padding_idx is None:
        return out
    if not -num <= padding_idx < num:
        raise ValueError(f"{op}: padding_idx {padding_idx} is out of range for {num} embeddings")
    padding_idx %= num
    # The padding rows keep their value but must pass no gradient: split the output into a part
    # that stays in the graph (the other rows) and a detached constant (the padding rows).
    keep = (ids != padding_idx)[..., None].astype(weight.dtype)
    return out * Tensor._make(keep) + Tensor._make(out.data * (1 - keep))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Row ``i`` of the num_classes x num_classes identity for every ``i`` of ``tensor``.

    tensor: (*) int64 in [0, num_classes); num_classes -1 means tensor.max() + 1.
    Returns (*, num_classes) int64 (no gradient: the classes are integers)."""
    op = "one_hot"
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected an int64 Tensor of class indices, got {type(tensor).__name__}")
    if tensor.dtype != numpy.int64:
        raise DTypeError(
            f"{op}: expected int64 class indices, got {tensor.dtype} (shape {tuple(tensor.shape)}); "
            f"convert them, e.g. tensor.long()"
        )
    ids = tensor.data
    if num_classes == -1:
        if ids.size == 0:
            raise ValueError(f"{op}: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(ids.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
        raise ValueError(f"{op}: num_classes must be a non-negative int or -1, got {num_classes!r}")
    if ids.size and int(ids.min()) < 0:
        raise IndexError(f"{op}: class values must be non-negative, got {int(ids.min())}")
    check_indices(op, tensor, num_classes)
    classes = xp_of(ids).arange(num_classes)
    return Tensor._make((ids[..., None] == classes).astype(numpy.int64))
