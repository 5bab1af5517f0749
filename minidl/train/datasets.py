"""The datasets ``minidl train`` knows, by name, as a (train, test) pair.

mnist1d   4000 / 1000 signals (1, 40), generated once and cached in ``data_root/mnist1d.npz``
digits    1437 / 360 images (1, 8, 8) from scikit-learn (bundled; ``data_root`` is not used)
"""

from ..data import MNIST1D, Dataset, Digits


def load_splits(dataset: str, data_root: str = "data") -> tuple[Dataset, Dataset]:
    """The training and test sets of ``dataset`` ('mnist1d' or 'digits')."""
    if dataset == "mnist1d":
        return MNIST1D(data_root, train=True), MNIST1D(data_root, train=False)
    if dataset == "digits":
        return Digits(train=True), Digits(train=False)
    raise ValueError(f"load_splits: unknown dataset {dataset!r}; expected 'mnist1d' or 'digits'")
