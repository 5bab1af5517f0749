"""MNIST-1D: ten digit shapes drawn as 1-D signals of length 40, generated on this machine.

MNIST-1D (Greydanus, 2020) is a small benchmark on which a linear model, an MLP and a CNN score
clearly differently, and a CNN trains in seconds on a CPU. The data is *generated*, not
downloaded: ``mnist1d.data.make_dataset`` with its default arguments (seed 42) gives the same
5000 signals everywhere, 4000 for training and 1000 for testing. Generating takes a few seconds,
so the result is cached in ``root/mnist1d.npz`` and later uses load it instantly.

    train = MNIST1D(train=True)      # 4000 samples: x float32 (1, 40), y int64 in 0..9
    test = MNIST1D(train=False)      # 1000 samples

The signal is one channel of length 40, (1, 40), so it goes straight into ``conv1d``.
"""

import os
import random as _pyrandom
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy

from .labelled import LabelledImages
from .transforms import Transform

CACHE_NAME = "mnist1d.npz"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _generate() -> dict[str, Any]:
    """The four arrays from the mnist1d package's generator (never its download path)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:
        raise ImportError(
            f"MNIST1D: generating the data needs the mnist1d package ({err}); install it "
            f'with `pip install mnist1d` or `pip install -e ".[tutorials]"`'
        ) from err
    # make_dataset seeds NumPy's and Python's global generators; put them back afterwards so
    # building a dataset does not silently reseed the user's program.
    np_state, py_state = numpy.random.get_state(), _pyrandom.getstate()
    try:
        d = make_dataset(get_dataset_args())
    finally:
        numpy.random.set_state(np_state)
        _pyrandom.setstate(py_state)
    return {"x_train": d["x"], "y_train": d["y"], "x_test": d["x_test"], "y_test": d["y_test"]}


def _to_stored(arrays: Mapping[str, Any]) -> dict[str, numpy.ndarray]:
    """Signals as float32 (N, 1, 40), labels as int64 (N,): the form kept in the cache."""
    out: dict[str, numpy.ndarray] = {}
    for split in ("train", "test"):
        x, y = numpy.asarray(arrays[f"x_{split}"]), numpy.asarray(arrays[f"y_{split}"])
        out[f"x_{split}"] = numpy.ascontiguousarray(x.reshape(len(x), 1, -1), dtype=numpy.float32)
        out[f"y_{split}"] = y.astype(numpy.int64)
    return out


def _save_atomic(path: str, arrays: Mapping[str, Any]) -> None:
    """Write the .npz to a temporary file next to ``path``, then rename it into place, so an
    interrupted run never leaves a half-written cache behind."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mnist1d-", suffix=".npz.tmp", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            numpy.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _load_cache(path: str) -> dict[str, numpy.ndarray]:
    try:
        with numpy.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"MNIST1D: the cache {path} is unreadable or incomplete ({err}); delete it or "
            f"pass regenerate=True"
        ) from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1] != 1 or x.dtype != numpy.float32 or y.shape != (len(x),):
            raise ValueError(
                f"MNIST1D: the cache {path} holds unexpected arrays (x_{split} {x.shape} "
                f"{x.dtype}, y_{split} {y.shape}); delete it or pass regenerate=True"
            )
    return arrays


def load_arrays(root: str | os.PathLike[str] = "data", regenerate: bool = False) -> dict[str, numpy.ndarray]:
    """The cached arrays (x_train, y_train, x_test, y_test), generating and caching them if needed."""
    path = os.path.join(os.fspath(root), CACHE_NAME)
    if not regenerate and os.path.exists(path):
        return _load_cache(path)
    arrays = _to_stored(_generate())
    _save_atomic(path, arrays)
    return arrays


class MNIST1D(LabelledImages):
    """MNIST-1D, generated locally and cached in ``root/mnist1d.npz``.

    root: the directory of the cache (created if missing). train: the 4000 training samples, else
    the 1000 test samples. transform: applied to each x (1, 40). regenerate: ignore the cache
    and generate again. Items: ``(x, y)``, x float32 (1, 40), y a 0-d int64 tensor in 0..9.
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        root: str | os.PathLike[str] = "data",
        train: bool = True,
        transform: Transform | None = None,
        regenerate: bool = False,
    ) -> None:
        arrays = load_arrays(root, regenerate)
        split = "train" if train else "test"
        super().__init__(arrays[f"x_{split}"], arrays[f"y_{split}"], transform, train)
