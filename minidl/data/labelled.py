"""``LabelledImages``: the shared body of the built-in datasets (an image array and a label array).

Each built-in dataset (MNIST1D, Digits, MNIST, CIFAR10) only knows how to *read* its files; once
read, it is two NumPy arrays, and everything else, indexing, batching, transforms, lives here:

    images  (N, C, H, W) or (N, C, L)   uint8 (0..255, handed out scaled to [0, 1]) or float32
    labels  (N,)                        int64 class indices

A sample is ``(x, y)``: x a float32 tensor (C, H, W), y a 0-d int64 tensor (so a batch of them
stacks to (B,), the same as the batch fast path gives). Tensors are made on the CPU; move a batch
with ``x.to(device)``. Keeping large image sets as uint8 and
converting a batch at a time holds CIFAR-10 in 150 MB instead of 600 MB.
"""

import operator
from typing import Any

import numpy

from ..autograd.tensor import Tensor
from .dataset import Dataset, _as_indices
from .transforms import Transform, apply_to_batch


class LabelledImages(Dataset):
    """(image, label) pairs from two arrays; ``transform`` is applied to each image as it leaves."""

    classes: list[str] | None = None  # names of the classes, set by datasets that know them

    def __init__(
        self, images: Any, labels: Any, transform: Transform | None = None, train: bool = True
    ) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {len(images)} images but {len(labels)} labels")
        if transform is not None and not callable(transform):
            raise TypeError(f"{type(self).__name__}: transform must be callable, got {transform!r}")
        self.images = images
        self.labels = numpy.asarray(labels, dtype=numpy.int64)
        self.transform = transform
        self.train = train

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def targets(self) -> Tensor:
        """All labels as an int64 tensor (N,), sharing memory with the dataset."""
        return Tensor._make(self.labels)

    def _float_images(self, index: Any) -> numpy.ndarray:
        raw = self.images[index]
        if raw.dtype == numpy.uint8:
            # One pass, uint8 straight to float32: 0 -> 0.0, 255 -> 1.0 exactly.
            return numpy.divide(raw, numpy.float32(255), dtype=numpy.float32)
        return numpy.array(raw, dtype=numpy.float32)  # a copy: callers may change what they get

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: index must be an int, got {type(index).__name__}; "
                f"use a DataLoader or Subset for many samples"
            ) from None
        if not -len(self) <= i < len(self):
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {len(self)} samples")
        x = Tensor._make(self._float_images(i))
        if self.transform is not None:
            x = self.transform(x)
        return x, Tensor._make(self.labels[i])

    def __getitems__(self, indices: Any) -> tuple[Tensor, Tensor]:
        idx = _as_indices(indices, len(self), type(self).__name__)
        x = apply_to_batch(self.transform, Tensor._make(self._float_images(idx)))
        return x, Tensor._make(self.labels[idx])

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        shape = tuple(self.images.shape[1:])
        return f"{type(self).__name__}({split}: {len(self)} samples of shape {shape}, labels int64)"
