"""``default_collate``: turn a list of samples into one batch, as PyTorch's default_collate does.

    tensors (each shape S)       -> one tensor of shape (B, *S)         (stacked)
    NumPy arrays / NumPy scalars -> a tensor of shape (B, *S), their dtype
    Python ints / bools          -> an int64 / bool tensor of shape (B,)
    Python floats                -> a tensor of the default dtype (float32), shape (B,)
    tuples, lists, namedtuples   -> the same container of collated fields, so (x, y) -> (X, Y)
    dicts                        -> a dict of collated values, key by key
    str / bytes                  -> a list, unchanged

Two differences from PyTorch, both for consistency inside minidl: Python floats become the
default dtype (float32, as ``minidl.tensor(1.0)`` does) rather than float64, and tuples stay
tuples (PyTorch returns lists for them).
"""

import collections.abc
import numbers
from collections.abc import Sequence
from typing import Any

import numpy

from ..autograd import dtypes
from ..autograd.tensor import Tensor
from ..backend.device import xp_of


def _stack(arrays: Sequence[Any], what: str) -> Tensor:
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.shape != first.shape or a.dtype != first.dtype:
            raise ValueError(
                f"default_collate: cannot stack {what}: sample 0 has shape "
                f"{tuple(first.shape)} and dtype {first.dtype}, sample {i} has shape "
                f"{tuple(a.shape)} and dtype {a.dtype}; pass collate_fn= to batch samples "
                f"of different shapes"
            )
    return Tensor._make(xp_of(first).stack(arrays))


def default_collate(batch: Sequence[Any]) -> Any:
    """Collate a non-empty list of samples (all of one structure) into a batch; see the module doc."""
    if not isinstance(batch, collections.abc.Sequence) or len(batch) == 0:
        raise ValueError("default_collate: expected a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if not all(isinstance(b, Tensor) for b in batch):
            raise TypeError(_mixed(batch))
        # The arrays are stacked directly, off the autograd graph: samples are data, and going
        # through functional.stack would cost one unsqueeze node per sample.
        return _stack([b.data for b in batch], "tensors")
    if isinstance(elem, (numpy.ndarray, numpy.generic)):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: cannot batch NumPy arrays of dtype {elem.dtype}")
        return _stack([numpy.asarray(b) for b in batch], "NumPy arrays")
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, bool):
        return Tensor._make(numpy.array(batch, dtype=dtypes.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._make(numpy.array(batch, dtype=dtypes.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._make(numpy.array(batch, dtype=dtypes.get_default_dtype()))
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem)
        for i, b in enumerate(batch):
            if not isinstance(b, collections.abc.Mapping) or set(b) != set(keys):
                raise ValueError(
                    f"default_collate: sample 0 is a dict with keys {keys}, sample {i} is {_describe(b)}"
                )
        return {k: default_collate([b[k] for b in batch]) for k in keys}
    if isinstance(elem, collections.abc.Sequence):
        for i, b in enumerate(batch):
            if not isinstance(b, collections.abc.Sequence) or len(b) != len(elem):
                raise ValueError(
                    f"default_collate: sample 0 has {len(elem)} fields, sample {i} is "
                    f"{_describe(b)}; every sample must have the same structure"
                )
        fields = [default_collate(list(column)) for column in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its names
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: don't know how to batch a {type(elem).__name__}; samples may be "
        f"tensors, NumPy arrays, numbers, str, and tuples/lists/dicts of those, or pass "
        f"collate_fn="
    )


def _describe(b: object) -> str:
    if isinstance(b, collections.abc.Mapping):
        return f"a dict with keys {list(b)}"
    if isinstance(b, collections.abc.Sequence) and not isinstance(b, (str, bytes)):
        return f"a {type(b).__name__} of {len(b)} fields"
    return f"a {type(b).__name__}"


def _mixed(batch: Sequence[Any]) -> str:
    kinds = sorted({type(b).__name__ for b in batch})
    return f"default_collate: sample 0 is a Tensor but the batch mixes {', '.join(kinds)}"
