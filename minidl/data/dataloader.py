"""``DataLoader``: iterate over a dataset in (optionally shuffled) batches.

    loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)
    for x, y in loader:          # x (64, C, H, W), y (64,): the last batch may be smaller
        ...
    len(loader)                  # the number of batches in one epoch

How a batch is fetched. With the default collate, and a dataset that has ``__getitems__`` (every
dataset in ``minidl.data`` has), the loader asks for the whole batch at once:
``dataset.__getitems__(indices)``, one fancy-indexing operation per tensor. Otherwise (a plain
``__getitem__`` dataset, or a custom ``collate_fn``, which expects a list of samples) it fetches
the samples one by one and collates them. Both give the same batches; the first is many times
faster, which matters in a loop that runs thousands of times.

Shuffling. Each epoch (each ``iter(loader)``) draws a fresh permutation. With ``seed=`` (or
``generator=``, an int or a numpy.random.Generator) the loader owns its generator: the sequence
of epochs is repeatable and independent of every other random draw in the program. Without
either it draws from ``minidl.random.generator()`` at the start of each epoch, so
``minidl.manual_seed`` makes the epochs repeatable.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy

from .. import random as _random
from .collate import default_collate
from .dataset import Dataset, make_generator


class DataLoader:
    """Batches of ``dataset``.

    batch_size: samples per batch (the last batch of an epoch may be smaller).
    shuffle: a new random order every epoch (else 0, 1, 2, ...).
    drop_last: leave out the last batch when it is smaller than batch_size.
    collate_fn: turns a list of samples into a batch; default ``default_collate``.
    generator / seed: where shuffling draws from (see the module docstring).
    """

    def __init__(
        self,
        dataset: Dataset | Sequence[Any],
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: numpy.random.Generator | int | None = None,
        seed: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, numpy.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"DataLoader: the dataset must define __getitem__ and __len__, got a {type(dataset).__name__}"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        self.generator = make_generator(generator, seed, "DataLoader")
        # The fast path hands out already-collated batches, so it only stands in for the default
        # collate; a custom collate_fn gets the list of samples it was written for.
        self._batch_fetch: Callable[[Any], Any] | None = (
            getattr(dataset, "__getitems__", None) if self.collate_fn is default_collate else None
        )

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> numpy.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return numpy.arange(n, dtype=numpy.int64)
        rng = self.generator if self.generator is not None else _random.generator()
        return rng.permutation(n).astype(numpy.int64, copy=False)

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn here, when the epoch starts (not lazily at the first batch), so a
        # random draw made between iter() and next() cannot change it.
        return self._batches(self._order())

    def _batches(self, order: numpy.ndarray) -> Iterator[Any]:
        n, size = len(order), self.batch_size
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            indices = order[start : start + size]
            if self._batch_fetch is not None:
                yield self._batch_fetch(indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
