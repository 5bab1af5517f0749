"""CIFAR-10 from the standard "python version" batches on disk (minidl downloads nothing).

Unpack ``cifar-10-python.tar.gz`` (from https://www.cs.toronto.edu/~kriz/cifar.html) into
``root``, which gives

    root/cifar-10-batches-py/data_batch_1 ... data_batch_5    10000 training images each
    root/cifar-10-batches-py/test_batch                       10000 test images

(``root`` may also be the ``cifar-10-batches-py`` directory itself). Each batch is a pickled dict:
``b'data'``, a uint8 array (10000, 3072) whose rows are the red, green and blue 32 x 32 planes one
after another, and ``b'labels'``, a list of ints 0..9.

Why a restricted unpickler. Unpickling can call any function the file names (``os.system``
included), so a ``pickle.load`` of a file from the internet runs whatever its author wanted.
These files only need dicts, lists, bytes, strings and NumPy arrays, so ``_BatchUnpickler``
resolves exactly the few NumPy names that rebuild an array and refuses every other name,
before anything is called.
"""

import io
import os
import pickle
from typing import IO, Any

import numpy

from .labelled import LabelledImages
from .transforms import Transform

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_FOLDER = "cifar-10-batches-py"


class RefusedPickleError(pickle.UnpicklingError):
    """A batch file asked for a function or class the restricted unpickler does not allow."""


def _latin1_encode(text: str, encoding: str) -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, 'latin1'); this is
    # that call and nothing more (no other codec can be named through it).
    if encoding not in ("latin1", "latin-1"):
        raise RefusedPickleError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _allowed_names() -> dict[tuple[str, str], Any]:
    """(module, name) -> object, for the names a CIFAR-10 batch may use. The array-rebuilding
    functions are taken from what NumPy itself pickles with, so this holds for NumPy 1 and 2
    (whose private module moved from numpy.core to numpy._core)."""
    reconstruct = numpy.ndarray.__reduce__(numpy.zeros(1))[0]  # used by protocols 0-4
    frombuffer = numpy.ndarray.__reduce_ex__(numpy.zeros(1), 5)[0]  # used by protocol 5
    allowed = {
        ("numpy", "ndarray"): numpy.ndarray,
        ("numpy", "dtype"): numpy.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for core in ("numpy.core", "numpy._core"):
        allowed[(core + ".multiarray", "_reconstruct")] = reconstruct
        allowed[(core + ".numeric", "_frombuffer")] = frombuffer
    return allowed


class _BatchUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the names in ``_allowed_names()``."""

    def __init__(self, file: IO[bytes], path: str) -> None:
        # encoding='bytes': the files were written by Python 2, whose str is bytes.
        super().__init__(file, encoding="bytes")
        self.path = path
        self.allowed = _allowed_names()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise RefusedPickleError(
                f"CIFAR10: refusing to load {self.path}: it refers to {module}.{name}, but a CIFAR-10 batch "
                f"only holds dicts, lists, bytes and NumPy arrays; the file is not a CIFAR-10 batch, or "
                f"has been tampered with"
            ) from None


def read_batch(path: str) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) from one pickled batch file."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), path).load()
    except RefusedPickleError as err:
        if path in str(err):
            raise
        raise RefusedPickleError(f"CIFAR10: refusing to load {path}: {err}") from None
    except Exception as err:  # a truncated or garbled pickle fails in many ways
        raise ValueError(
            f"CIFAR10: cannot read {path} as a pickled batch: {type(err).__name__}: {err}"
        ) from None
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR10: {path} holds a {type(batch).__name__}, expected a dict")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if (
        not isinstance(data, numpy.ndarray)
        or data.dtype != numpy.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
    ):
        what = f"{data.dtype} {data.shape}" if isinstance(data, numpy.ndarray) else type(data).__name__
        raise ValueError(f"CIFAR10: {path}: 'data' must be a uint8 array (N, 3072), got {what}")
    try:
        labels = numpy.asarray(labels, dtype=numpy.int64)
    except (TypeError, ValueError):
        labels = None
    if labels is None or labels.shape != (len(data),):
        raise ValueError(f"CIFAR10: {path}: 'labels' must be a list of {len(data)} ints")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"CIFAR10: {path}: labels must be in 0..9, got {labels.min()}..{labels.max()}")
    return data.reshape(len(data), 3, 32, 32), labels


def _folder(root: str) -> str:
    nested = os.path.join(root, _FOLDER)
    return nested if os.path.isdir(nested) else root


class CIFAR10(LabelledImages):
    """CIFAR-10 from pickled batches: items ``(x, y)``, x float32 (3, 32, 32) in [0, 1], y int64.

    root: the directory holding ``cifar-10-batches-py`` (or that directory itself).
    train: the 50000 training images (data_batch_1..5), else the 10000 test images (test_batch).
    transform: applied to each image (3, 32, 32).
    """

    classes = CLASSES

    def __init__(
        self, root: str | os.PathLike[str], train: bool = True, transform: Transform | None = None
    ) -> None:
        folder = _folder(os.fspath(root))
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
        if missing:
            raise FileNotFoundError(
                f"CIFAR10: missing {', '.join(missing)} in {os.path.abspath(folder)}; unpack "
                f"cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) into "
                f"{os.path.abspath(os.fspath(root))} so that {_FOLDER}/data_batch_1..5 and "
                f"{_FOLDER}/test_batch are there"
            )
        parts = [read_batch(os.path.join(folder, n)) for n in names]
        images = numpy.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = numpy.concatenate([p[1] for p in parts])
        super().__init__(images, labels, transform, train)
