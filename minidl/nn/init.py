"""Weight initialisation, in place, with PyTorch's names, fan computations and defaults.

Why the scale matters: in a layer y = W x with n inputs of unit variance and weights of variance
s^2, each output has variance n s^2. Choosing s^2 = 1/n (times a gain that undoes the activation's
shrinking) keeps the signal's size the same from layer to layer, forwards and backwards.

    fan_in   the number of inputs each output sees:  W.shape[1] * (kernel area)
    fan_out  the number of outputs each input feeds: W.shape[0] * (kernel area)

    kaiming (He):     std = gain / sqrt(fan)                      (fan = fan_in by default)
    xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))
    a uniform(-b, b) has std b / sqrt(3), so the uniform variants use b = sqrt(3) * std.

Every function fills the tensor's array in place, outside the graph (under ``no_grad``), and
returns the tensor. The random numbers come from ``minidl.random`` (``minidl.manual_seed``).
"""

import math

from .. import factories
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale the std for a nonlinearity, so that it preserves the variance.

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  leaky_relu: sqrt(2 / (1 + slope^2))
    (slope = param, default 0.01);  selu: 3/4.
    """
    linear = (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        # relu halves the variance (gain sqrt 2); a leaky relu keeps (1 + slope^2)/2 of it
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): in * prod(kernel), out * prod(kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out cannot be computed for a tensor with fewer than 2 "
            f"dimensions (got shape {tuple(tensor.shape)})"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: Tensor) -> Tensor:
    """Copy ``values`` (a tensor of the same shape) into ``tensor``, outside the graph."""
    with no_grad():
        tensor.copy_(values)
    return tensor


def _uniform(tensor: Tensor, low: float, high: float) -> Tensor:
    u = factories.rand(*tensor.shape, dtype=tensor.dtype, device=tensor.device)
    return _fill(tensor, u * (high - low) + low)


def _normal(tensor: Tensor, mean: float, std: float) -> Tensor:
    z = factories.randn(*tensor.shape, dtype=tensor.dtype, device=tensor.device)
    return _fill(tensor, z * std + mean)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of the uniform distribution on [a, b)."""
    if b < a:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _uniform(tensor, a, b)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of the normal distribution N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _normal(tensor, mean, std)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015); gain = calculate_gain(nonlinearity, a).

    Linear and Conv layers use a = sqrt(5): gain = sqrt(1/3), so b = 1 / sqrt(fan_in).
    """
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor  # nothing to scale by: an empty weight stays as it is
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _uniform(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan); gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    return _normal(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))
