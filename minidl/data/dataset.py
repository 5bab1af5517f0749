"""Datasets: things with a length that hand out one sample per index.

    Dataset        the protocol: ``__getitem__(i)`` and ``__len__()``; optionally ``__getitems__``
    TensorDataset  samples are the i-th rows of some tensors: ``(x[i], y[i])``
    Subset         a dataset seen through a list of indices
    random_split   cut a dataset into non-overlapping random Subsets

The batch fast path. A dataset may also define ``__getitems__(indices)``, which returns a whole
*collated* batch (what ``default_collate([ds[i] for i in indices])`` would return) in one go.
``DataLoader`` calls it instead of fetching items one by one, so a batch of 128 costs one NumPy
fancy-indexing operation per tensor instead of 128 Python calls and a stack. Note the difference
from PyTorch, whose ``__getitems__`` returns a list of samples still to be collated: here it
returns the finished batch, which is where the speed comes from.
"""

import numbers
from collections.abc import Sequence
from typing import Any

import numpy

from ..autograd.tensor import Tensor
from .collate import default_collate


class Dataset:
    """The base class of every dataset: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_indices(indices: Any, length: int, op: str) -> numpy.ndarray:
    """A 1-D int64 NumPy array of indices, checked against ``length`` (negatives count from the end)."""
    idx = numpy.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise TypeError(
            f"{op}: expected a 1-D sequence of integer indices, got shape {idx.shape} of dtype {idx.dtype}"
        )
    idx = idx.astype(numpy.int64, copy=False)
    if idx.size and (idx.min() < -length or idx.max() >= length):
        bad = idx[(idx < -length) | (idx >= length)][0]
        raise IndexError(f"{op}: index {bad} is out of range for a dataset of length {length}")
    return idx


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension.

    ``TensorDataset(x, y)`` with x (N, ...) and y (N, ...): ``ds[i]`` is ``(x[i], y[i])`` and a
    batch from ``ds.__getitems__(idx)`` is ``(x[idx], y[idx])``. NumPy arrays are accepted and
    wrapped without a copy. Samples are data, outside any autograd graph.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        wrapped: list[Tensor] = []
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                if not hasattr(t, "shape") or not hasattr(t, "dtype"):
                    raise TypeError(
                        f"TensorDataset: argument {i} is a {type(t).__name__}, expected a Tensor or an array"
                    )
                t = Tensor._make(t)
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {i} is a 0-d tensor; every tensor needs a "
                    f"first (sample) dimension"
                )
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(t.shape) for t in wrapped)
            raise ValueError(
                f"TensorDataset: all tensors must have the same size in dim 0 (the number "
                f"of samples), got shapes {shapes}"
            )
        self.tensors = tuple(wrapped)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        # Views, as in PyTorch: cheap, and they share memory with the dataset's tensors.
        return tuple(Tensor._make(t.data[index]) for t in self.tensors)

    def __getitems__(self, indices: Any) -> tuple[Tensor, ...]:
        idx = _as_indices(indices, len(self), "TensorDataset")
        # Fancy indexing copies: the batch never aliases the dataset.
        return tuple(Tensor._make(t.data[idx]) for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[k] == ds[idx[k]]``."""

    def __init__(self, dataset: Dataset, indices: Any) -> None:
        self.dataset = dataset
        self.indices = _as_indices(indices, len(dataset), "Subset")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices: Any) -> Any:
        idx = self.indices[_as_indices(indices, len(self), "Subset")]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(idx)
        # The underlying dataset fetches item by item: collate here, so a Subset always offers a
        # batch fetch and the DataLoader need not know what it wraps.
        return default_collate([self.dataset[int(i)] for i in idx])


def _split_lengths(lengths: Sequence[float], n: int) -> list[int]:
    """Integer lengths, from ints summing to n or fractions summing to 1 (as PyTorch does)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in lengths):
        if any(v < 0 for v in lengths):
            raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(
                f"random_split: lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples"
            )
        return [int(v) for v in lengths]
    fractions = [float(v) for v in lengths]
    if any(not 0 <= f <= 1 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"random_split: lengths must be ints summing to the dataset length ({n}) or "
            f"fractions in [0, 1] summing to 1, got {lengths}"
        )
    sizes = [int(numpy.floor(f * n)) for f in fractions]
    # The samples lost to flooring go one each to the splits in order, so the sizes add up to n.
    for k in range(n - sum(sizes)):
        sizes[k % len(sizes)] += 1
    return sizes


def make_generator(
    generator: numpy.random.Generator | int | None = None, seed: int | None = None, op: str = "random"
) -> numpy.random.Generator | None:
    """The NumPy Generator to draw from: ``generator`` itself, a fresh one seeded by ``seed`` (or by an
    int passed as ``generator``), else None (meaning: use ``minidl.random.generator()`` at draw time)."""
    if generator is not None and seed is not None:
        raise ValueError(f"{op}: pass generator= or seed=, not both")
    if isinstance(generator, numpy.random.Generator):
        return generator
    if generator is not None:
        seed = generator
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, numpy.integer)):
        raise TypeError(f"{op}: seed must be an int (or generator a numpy.random.Generator), got {seed!r}")
    return numpy.random.default_rng(int(seed))


def random_split(
    dataset: Dataset,
    lengths: Sequence[float],
    generator: numpy.random.Generator | int | None = None,
    seed: int | None = None,
) -> list[Subset]:
    """Split ``dataset`` into ``len(lengths)`` disjoint random Subsets.

    lengths: ints summing to ``len(dataset)``, or fractions summing to 1 (``[0.8, 0.2]``; the
    samples left over after flooring go one each to the first splits). The permutation comes from
    ``generator`` (a numpy.random.Generator, or an int seed) or ``seed``; without either, from
    ``minidl.random.generator()``, so ``minidl.manual_seed`` makes it repeatable.
    """
    from .. import random as _random

    n = len(dataset)
    sizes = _split_lengths(lengths, n)
    rng = make_generator(generator, seed, "random_split") or _random.generator()
    order = rng.permutation(n)
    bounds = numpy.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
