"""Digits: the 1797 handwritten 8 x 8 digits that ship inside scikit-learn (no download).

Each pixel in scikit-learn's copy is an ink count 0..16; here images are (1, 8, 8) float32 scaled
to [0, 1] (divided by 16). The set has no official train/test split, so this file fixes one:

Split. Stratified and seeded: the test set gets ``ceil(test_fraction * 1797)`` images (360 for
the default 0.2, as scikit-learn's ``train_test_split`` counts), shared among the ten classes in
proportion to their sizes (largest remainders get the leftover places, ties to the lower class),
and which images of a class go to the test set is a seeded random choice. So train and test have
the same class balance, the split is the same on every machine for a given ``seed``, and with
the defaults it is 1437 train / 360 test. Samples keep scikit-learn's order within each split.
"""

from typing import Any

import numpy

from .labelled import LabelledImages
from .transforms import Transform


def _load() -> tuple[numpy.ndarray, numpy.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            f"Digits: needs scikit-learn ({err}); install it with `pip install scikit-learn` "
            f'or `pip install -e ".[tutorials]"`'
        ) from err
    d = load_digits()
    images = (d.images / 16.0).astype(numpy.float32)[:, None]  # (1797, 1, 8, 8) in [0, 1]
    return images, d.target.astype(numpy.int64)


def stratified_test_mask(labels: Any, test_fraction: float, seed: int) -> numpy.ndarray:
    """A boolean mask (N,), True for the test samples; see the module docstring for the rule."""
    labels = numpy.asarray(labels)
    n = len(labels)
    classes, counts = numpy.unique(labels, return_counts=True)
    n_test = int(numpy.ceil(test_fraction * n))
    # Each class's fair share of the test places, floored; the places left go to the classes
    # whose shares lost the most to flooring (stable sort: ties go to the lower class).
    share = counts * n_test / n
    per_class = numpy.floor(share).astype(int)
    leftover = n_test - per_class.sum()
    per_class[numpy.argsort(-(share - per_class), kind="stable")[:leftover]] += 1
    rng = numpy.random.default_rng(seed)
    mask = numpy.zeros(n, dtype=bool)
    for c, k in zip(classes, per_class):
        members = numpy.flatnonzero(labels == c)
        mask[rng.choice(members, size=k, replace=False)] = True
    return mask


class Digits(LabelledImages):
    """scikit-learn's 8 x 8 digits: items ``(x, y)``, x float32 (1, 8, 8) in [0, 1], y int64 in 0..9.

    train: the training part (1437 with the defaults), else the test part (360).
    test_fraction: the share of the 1797 images held out for testing. seed: fixes the split.
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> None:
        if not 0 < test_fraction < 1:
            raise ValueError(f"Digits: test_fraction must be between 0 and 1, got {test_fraction!r}")
        images, labels = _load()
        test = stratified_test_mask(labels, test_fraction, seed)
        keep = ~test if train else test
        super().__init__(images[keep], labels[keep], transform, train)
