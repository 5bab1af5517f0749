"""MNIST from the standard IDX files on disk (minidl downloads nothing).

Put the four files from the MNIST distribution in one directory, gzipped or not:

    train-images-idx3-ubyte[.gz]   train-labels-idx1-ubyte[.gz]      60000 training images
    t10k-images-idx3-ubyte[.gz]    t10k-labels-idx1-ubyte[.gz]       10000 test images

``MNIST(root)`` looks in ``root`` and in ``root/MNIST/raw`` (where torchvision keeps them).
Fashion-MNIST and KMNIST use the same files and names, so they load the same way.

The IDX format is a tiny header and raw bytes, all integers big-endian:

    bytes 0-1   0, 0
    byte 2      the element type: 0x08 = unsigned byte (the only one MNIST uses)
    byte 3      the number of dimensions d (3 for images, 1 for labels)
    then d      4-byte sizes (images: N, rows, cols; labels: N)
    then        N * rows * cols (or N) bytes of data

Every part of that is checked, so a truncated, mixed-up or wrong file is an error naming it.
"""

import gzip
import os

import numpy

from .labelled import LabelledImages
from .transforms import Transform

_UBYTE = 0x08


def _read_bytes(path: str) -> bytes:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as err:  # a damaged .gz (bad header, cut short) lands here
        raise ValueError(f"MNIST: cannot read {path}: {err}") from None


def read_idx(path: str, ndim: int) -> numpy.ndarray:
    """The array (uint8) stored in the IDX file at ``path``, which must have ``ndim`` dimensions."""
    raw = _read_bytes(path)
    header = 4 + 4 * ndim
    if len(raw) < 4:
        raise ValueError(f"MNIST: {path} is not an IDX file: only {len(raw)} bytes")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or raw[3] != ndim:
        raise ValueError(
            f"MNIST: {path} has magic number 0x{raw[:4].hex()}, expected 0x000008{ndim:02x} "
            f"(an IDX file of unsigned bytes with {ndim} dimension(s)); is it the right file?"
        )
    if len(raw) < header:
        raise ValueError(
            f"MNIST: {path} is truncated: the header needs {header} bytes, the file has {len(raw)}"
        )
    shape = tuple(int(s) for s in numpy.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(numpy.prod(shape))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(
            f"MNIST: {path} is {problem}: its header says shape {shape}, which needs "
            f"{expected} bytes, but the file has {len(raw)}"
        )
    # frombuffer gives a read-only view of the bytes: the dataset never writes to its images.
    return numpy.frombuffer(raw, dtype=numpy.uint8, offset=header).reshape(shape)


def _find(root: str, name: str) -> str | None:
    """The path of ``name`` (plain or .gz) in root or root/MNIST/raw, or None."""
    for folder in (root, os.path.join(root, "MNIST", "raw")):
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
    return None


class MNIST(LabelledImages):
    """MNIST from IDX files in ``root``: items ``(x, y)``, x float32 (1, 28, 28) in [0, 1], y int64.

    train: the 60000 training images, else the 10000 test images.
    transform: applied to each image (1, 28, 28).
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self, root: str | os.PathLike[str], train: bool = True, transform: Transform | None = None
    ) -> None:
        root = os.fspath(root)
        prefix = "train" if train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        found = [_find(root, name) for name in names]
        paths = [path for path in found if path is not None]
        if len(paths) < len(names):
            missing = [name for name, path in zip(names, found) if path is None]
            raise FileNotFoundError(
                f"MNIST: missing {' and '.join(missing)} (or .gz) in {os.path.abspath(root)}; put the MNIST "
                f"IDX files there (or in {os.path.join(root, 'MNIST', 'raw')}): train-images-idx3-ubyte, "
                f"train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not"
            )
        images, labels = read_idx(paths[0], 3), read_idx(paths[1], 1)
        if len(images) != len(labels):
            raise ValueError(
                f"MNIST: {paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} "
                f"labels; the two files do not belong together"
            )
        if labels.size and labels.max() > 9:
            raise ValueError(f"MNIST: {paths[1]} has label {labels.max()}; MNIST labels are 0..9")
        super().__init__(images[:, None], labels, transform, train)  # (N, 1, rows, cols)
