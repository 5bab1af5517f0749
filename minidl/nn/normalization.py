"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``.

Both kinds compute  y = (x - mean) / sqrt(var + eps) * weight + bias  (``functional/norm.py``):

    BatchNorm   statistics per channel over the batch (and positions). Training normalises with
                the batch's statistics and updates running averages of them (buffers
                running_mean, running_var, and the step count num_batches_tracked); eval mode
                normalises with the running averages, so a single sample gives a fixed answer.
    LayerNorm   statistics per sample over its last dims; the same in training and eval.

weight starts at ones and bias at zeros (the identity after normalising), as in PyTorch.
"""

from collections.abc import Sequence

from .. import factories
from .. import functional as F
from ..autograd import dtypes
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from . import init
from ._checks import expect_float
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input ranks they accept."""

    ranks: tuple[int, ...] = ()
    layouts: tuple[str, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(
                f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}"
            )
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum  # None: a cumulative average, 1/num_batches_tracked per step
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(factories.empty(num_features, dtype=dtype, device=device))
            self.bias = Parameter(factories.empty(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", factories.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", factories.ones(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "num_batches_tracked", factories.tensor(0, dtype=dtypes.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            layouts = " or ".join(layout.format(c=self.num_features) for layout in self.layouts)
            raise ValueError(f"{self!r} expected input {layouts}, got {tuple(x.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average: the mean of all batch statistics
                factor = 1.0 / int(self.num_batches_tracked.item())
        # Without running statistics there is nothing else to normalise with, even in eval mode.
        use_batch_stats = self.training or self.running_mean is None
        # Running statistics go in to be updated (training) or used (eval); a layer that does not
        # track them passes None, and batch_norm then uses and updates nothing.
        give_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if give_stats else None,
            self.running_var if give_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)

    input (N, C) or (N, C, L), C = num_features -> the same shape.
    """

    ranks = (2, 3)
    layouts = ("(N, {c})", "(N, {c}, L)")


class BatchNorm2d(_BatchNorm):
    """BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)

    input (N, C, H, W), C = num_features -> the same shape.
    """

    ranks = (4,)
    layouts = ("(N, {c}, H, W)",)


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)

    input (*, *normalized_shape) -> the same shape; each sample is normalised over its trailing
    normalized_shape dims; weight and bias (if any) have shape normalized_shape.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
            raise ValueError(
                f"LayerNorm: normalized_shape must be a positive int or a non-empty tuple of "
                f"positive ints, got {normalized_shape!r}"
            )
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(factories.ones(*shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(factories.zeros(*shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k :]) != self.normalized_shape:
            raise ValueError(
                f"{self!r} expected input (*, {', '.join(map(str, self.normalized_shape))}), "
                f"got {tuple(x.shape)}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
