"""Transforms: functions applied to each sample as a dataset hands it out.

    Compose([t1, t2])           t2(t1(x))
    Normalize(mean, std)        (x - mean[c]) / std[c] for every channel c
    RandomCrop(size, padding)   zero-pad the border, then cut a random size x size window
    RandomHorizontalFlip(p)     mirror left-right with probability p

A transform takes one sample, a tensor of shape (C, H, W) (Normalize: (C, ...)), and returns a new
tensor; the dataset's own tensor is never changed. Randomness is drawn from
``minidl.random.generator()`` at call time, so ``minidl.manual_seed`` makes augmentation
repeatable.

Batches. Every transform here also has ``apply_batch(x)`` for a batch (N, C, H, W): the same
operation on each sample, vectorised, with each sample's random choice drawn independently (from
the same distribution as the per-sample call, though not the same stream of numbers). Datasets use
it in their batch fast path through ``apply_to_batch``; a transform without ``apply_batch`` (any
plain function) is called sample by sample there, so user transforms always work unchanged.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy

from .. import random as _random
from ..autograd.tensor import Tensor
from ..backend.device import xp_of

Transform = Callable[[Tensor], Tensor]  # one sample in, one out


def apply_to_batch(transform: Transform | None, batch: Tensor) -> Tensor:
    """``transform`` applied to every sample of ``batch`` (a tensor (N, ...)); a batch back."""
    if transform is None:
        return batch
    if hasattr(transform, "apply_batch"):
        return transform.apply_batch(batch)
    from .collate import default_collate

    return default_collate([transform(Tensor._make(sample)) for sample in batch.data])


def _array(x: Tensor, op: str, min_ndim: int) -> Any:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected a tensor with at least {min_ndim} dimensions, got shape {x.shape}")
    return x.data


class Compose:
    """Apply ``transforms`` in order: ``Compose([RandomCrop(32, 4), Normalize(m, s)])``."""

    def __init__(self, transforms: Iterable[Transform]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")

    def __call__(self, x: Tensor) -> Tensor:
        for t in self.transforms:
            x = t(x)
        return x

    def apply_batch(self, x: Tensor) -> Tensor:
        # Each step vectorised where it can be, sample by sample where it cannot.
        for t in self.transforms:
            x = apply_to_batch(t, x)
        return x

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel c; x is (C, ...) and mean, std have C entries (or 1)."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = numpy.atleast_1d(numpy.asarray(mean, dtype=numpy.float64))
        self.std = numpy.atleast_1d(numpy.asarray(std, dtype=numpy.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(
                f"Normalize: mean and std must be numbers or 1-D sequences, got {mean!r}, {std!r}"
            )
        if numpy.any(self.std == 0):
            raise ValueError(f"Normalize: std must be nonzero, got {std!r}")

    def _normalize(self, arr: Any, channel_dim: int, op: str) -> Tensor:
        if arr.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point tensor, got {arr.dtype}")
        c = arr.shape[channel_dim]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(
                    f"{op}: {name} has {len(v)} entries but the tensor (shape {arr.shape}) has "
                    f"{c} channels in dim {channel_dim}"
                )
        # mean and std reshaped to (C, 1, ..., 1), so they broadcast over everything after the channels
        shape = (-1,) + (1,) * (arr.ndim - channel_dim - 1)
        xp = xp_of(arr)
        mean = xp.asarray(self.mean.reshape(shape), dtype=arr.dtype)
        std = xp.asarray(self.std.reshape(shape), dtype=arr.dtype)
        return Tensor._make((arr - mean) / std)

    def __call__(self, x: Tensor) -> Tensor:
        return self._normalize(_array(x, "Normalize", 1), 0, "Normalize")

    def apply_batch(self, x: Tensor) -> Tensor:
        return self._normalize(_array(x, "Normalize.apply_batch", 2), 1, "Normalize.apply_batch")

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _pair(size: int | Sequence[int], op: str) -> tuple[int, int]:
    values = [size, size] if isinstance(size, (int, numpy.integer)) else list(size)
    if len(values) != 2 or min(values) < 1:
        raise ValueError(f"{op}: size must be a positive int or a pair (h, w), got {size!r}")
    return int(values[0]), int(values[1])


class RandomCrop:
    """A random (h, w) window of the image after padding its border with ``fill`` (default 0).

    x: (..., H, W) -> (..., h, w). With ``padding=p`` the window is taken from the (H+2p, W+2p)
    padded image, so ``RandomCrop(32, padding=4)`` shifts a 32 x 32 image by up to 4 pixels.
    """

    def __init__(self, size: int | Sequence[int], padding: int = 0, fill: float = 0) -> None:
        self.size = _pair(size, "RandomCrop")
        if not isinstance(padding, (int, numpy.integer)) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be a non-negative int, got {padding!r}")
        self.padding = int(padding)
        self.fill = fill

    def _pad(self, arr: Any, op: str) -> tuple[Any, int, int]:
        p = self.padding
        if p:
            widths = [(0, 0)] * (arr.ndim - 2) + [(p, p), (p, p)]
            arr = xp_of(arr).pad(arr, widths, constant_values=self.fill)
        (h, w), (hp, wp) = self.size, arr.shape[-2:]
        if h > hp or w > wp:
            raise ValueError(
                f"{op}: crop size {self.size} is larger than the padded image {(hp, wp)} (padding {p})"
            )
        return arr, hp - h + 1, wp - w + 1  # the padded image and the number of offsets per axis

    def __call__(self, x: Tensor) -> Tensor:
        arr, n_top, n_left = self._pad(_array(x, "RandomCrop", 2), "RandomCrop")
        rng = _random.generator()
        top, left = int(rng.integers(n_top)), int(rng.integers(n_left))
        h, w = self.size
        return Tensor._make(arr[..., top : top + h, left : left + w].copy())

    def apply_batch(self, x: Tensor) -> Tensor:
        arr, n_top, n_left = self._pad(_array(x, "RandomCrop.apply_batch", 3), "RandomCrop.apply_batch")
        n, h, w = arr.shape[0], self.size[0], self.size[1]
        rng = _random.generator()
        top, left = rng.integers(n_top, size=n), rng.integers(n_left, size=n)
        xp = xp_of(arr)
        # One gather for the whole batch: sample i reads rows top[i]..top[i]+h-1 and columns
        # left[i]..left[i]+w-1. The middle (channel) dims are folded into one to index them.
        flat = arr.reshape(n, -1, arr.shape[-2], arr.shape[-1])
        rows = xp.asarray(top[:, None] + numpy.arange(h))  # (N, h)
        cols = xp.asarray(left[:, None] + numpy.arange(w))  # (N, w)
        out = flat[
            xp.arange(n)[:, None, None, None],
            xp.arange(flat.shape[1])[None, :, None, None],
            rows[:, None, :, None],
            cols[:, None, None, :],
        ]
        return Tensor._make(out.reshape(arr.shape[:-2] + (h, w)))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the last (width) dimension with probability ``p``; x: (..., W) -> same shape."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x: Tensor) -> Tensor:
        arr = _array(x, "RandomHorizontalFlip", 1)
        if _random.generator().random() < self.p:
            return Tensor._make(arr[..., ::-1].copy())
        return Tensor._make(arr.copy())

    def apply_batch(self, x: Tensor) -> Tensor:
        arr = _array(x, "RandomHorizontalFlip.apply_batch", 2)
        flip = xp_of(arr).asarray(_random.generator().random(arr.shape[0]) < self.p)
        out = arr.copy()
        out[flip] = arr[flip][..., ::-1]
        return Tensor._make(out)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
