"""Synthetic digit-sequence tasks: the smallest problems on which attention visibly works.

Each sample is a sequence of ``length`` tokens drawn uniformly from ``0 .. vocab - 1``, and its
target is a sequence of the same length:

    task="sort"     target = the input sorted ascending      [3, 1, 4, 1] -> [1, 1, 3, 4]
    task="reverse"  target = the input read backwards        [3, 1, 4, 1] -> [1, 4, 1, 3]
    task="lookup"   target[i] = input[input[i] % length]      [3, 1, 4, 1] -> [1, 1, 3, 1]
                    (every token is also an address: position i fetches the token it points at)

    train = DigitSequences("sort", length=6, vocab=10, size=20000, train=True, seed=0)
    x, y = train[0]        # two int64 tensors (length,)
    xb, yb = train.__getitems__(range(128))   # (128, length) each, one indexing operation

The three differ in how information must move between positions, which is what makes them a
good test of a model's wiring. Reversing is a *fixed* permutation: an MLP on the one-hot input
learns it at once. Sorting is a permutation that depends on the data, but an MLP can still do it
by counting (how many of each digit there are is a linear function of the one-hot input), so it
does well on short sequences. Lookup is routing by content: which position to read depends on a
token's value, a product of two inputs, and an MLP of the same size fails, while one layer of
self-attention does it directly (query: the address I hold; key: the position I am at).

Held out means held out: every possible sequence belongs to exactly one side, decided by a hash
of its tokens (about 10 % of all sequences are test sequences). ``train=True`` draws only from
the training side and ``train=False`` only from the test side, so no test sequence is ever seen
in training, whatever the sizes and seeds. Data is made with NumPy from ``seed`` alone.
"""

import numbers
from typing import Any

import numpy

from .dataset import TensorDataset

TASKS = ("sort", "reverse", "lookup")
TEST_FRACTION = 0.1  # the share of all possible sequences that belongs to the test side

_HASH_MULTIPLIER = numpy.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: mixes the bits well
_TEST_BELOW = numpy.uint64(int(TEST_FRACTION * 2**32))


def _is_test_sequence(x: numpy.ndarray) -> numpy.ndarray:
    """Which rows of x (N, L) fall on the test side: a multiplicative hash of the tokens."""
    h = numpy.zeros(len(x), dtype=numpy.uint64)
    with numpy.errstate(over="ignore"):  # uint64 arithmetic wraps modulo 2^64 on purpose
        for column in x.T:
            h = (h + column.astype(numpy.uint64)) * _HASH_MULTIPLIER
    return (h >> numpy.uint64(32)) < _TEST_BELOW


def _targets(task: str, x: numpy.ndarray) -> numpy.ndarray:
    if task == "sort":
        return numpy.sort(x, axis=1)
    if task == "lookup":
        return numpy.take_along_axis(x, x % x.shape[1], axis=1)
    return numpy.ascontiguousarray(x[:, ::-1])


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, numpy.integer)):
        raise TypeError(f"DigitSequences: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"DigitSequences: {name} must be >= {low}, got {value}")
    return int(value)


class DigitSequences(TensorDataset):
    """``size`` sequences of ``length`` digits from a vocabulary of ``vocab``, with their targets.

    task: "sort", "reverse" or "lookup". train: draw from the training or the held-out side of the
    sequence space. seed: the NumPy seed; the same arguments give the same data everywhere.
    Items ``(x, y)``: int64 tensors (length,); ``tensors`` holds x and y as (size, length).
    """

    def __init__(
        self,
        task: str = "sort",
        length: int = 6,
        vocab: int = 10,
        size: int = 10000,
        train: bool = True,
        seed: int = 0,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"DigitSequences: task must be one of {TASKS}, got {task!r}")
        length = _check_int("length", length, 1)
        vocab = _check_int("vocab", vocab, 2)
        size = _check_int("size", size, 1)
        seed = _check_int("seed", seed, 0)
        space = vocab**length
        side = space * (TEST_FRACTION if not train else 1 - TEST_FRACTION)
        if size > side / 2:
            # Rejection sampling would crawl, and a dataset that is most of its space is no test.
            raise ValueError(
                f"DigitSequences: size {size} is too large for {'train' if train else 'test'} data "
                f"of {length} digits from {vocab} (about {int(side)} sequences on that side; "
                f"ask for at most half of them, or use longer sequences or a larger vocab)"
            )
        self.task, self.length, self.vocab, self.train = task, length, vocab, train
        # Separate streams for the two sides, so train and test of one seed are unrelated draws.
        rng = numpy.random.default_rng([seed, int(train)])
        x = numpy.empty((0, length), dtype=numpy.int64)
        while len(x) < size:
            draw = rng.integers(0, vocab, size=(2 * (size - len(x)) + 16, length), dtype=numpy.int64)
            draw = draw[_is_test_sequence(draw) != train]
            x = numpy.concatenate([x, draw])
        x = x[:size]
        super().__init__(x, _targets(task, x))

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return (
            f"DigitSequences(task={self.task!r}, length={self.length}, vocab={self.vocab}, "
            f"size={len(self)}, {split})"
        )
