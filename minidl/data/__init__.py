"""Data: datasets, batching and transforms. Datasets read files with NumPy; they hand out Tensors.

    dataset.py     Dataset, TensorDataset, Subset, random_split
    collate.py     default_collate: a list of samples -> one batch
    dataloader.py  DataLoader: shuffled batches, fetched in one indexing operation when it can
    transforms.py  Compose, Normalize, RandomCrop, RandomHorizontalFlip
    labelled.py    LabelledImages: the shared body of the datasets below
    mnist1d.py     MNIST1D   generated locally (mnist1d package), cached as root/mnist1d.npz
    digits.py      Digits    scikit-learn's bundled 8x8 digits, a fixed stratified split
    mnist.py       MNIST     from the IDX files on disk
    cifar10.py     CIFAR10   from the pickled batches on disk, through a restricted unpickler
    sequences.py   DigitSequences  synthetic sort / reverse / lookup tasks on digit sequences

Nothing here downloads anything.
"""

from . import transforms
from .cifar10 import CIFAR10
from .collate import default_collate
from .dataloader import DataLoader
from .dataset import Dataset, Subset, TensorDataset, random_split
from .digits import Digits
from .labelled import LabelledImages
from .mnist import MNIST
from .mnist1d import MNIST1D
from .sequences import DigitSequences  # issue 14, synthetic sequence tasks

__all__ = [
    "CIFAR10",
    "DataLoader",
    "Dataset",
    "DigitSequences",
    "Digits",
    "LabelledImages",
    "MNIST",
    "MNIST1D",
    "Subset",
    "TensorDataset",
    "default_collate",
    "random_split",
    "transforms",
]
