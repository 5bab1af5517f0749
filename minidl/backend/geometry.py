"""The window arguments of convolution and pooling, and the sizes they give: each written once.

Every op with window arguments (``F.conv1d``/``conv2d``, ``F.max_pool1d``/``2d``,
``F.avg_pool1d``/``2d``, their nn layers) reads them with ``int_tuple`` and checks the whole
geometry with ``check_conv`` / ``check_pool``, in its own terms (a conv1d's sizes are 1-d); the
kernels' entry points (``backend/kernels.py``) run the same checks for their own callers. Both size
the output with ``conv2d_output_size`` / ``pool2d_output_size``, and so do ``reference.py`` and
``cuda_kernels.py``. ``csrc/geometry.h`` holds the C++ twins of the two size functions under the same
names. The transposed convolutions (``F.conv_transpose1d``/``2d``) and the max unpoolings
(``F.max_unpool1d``/``2d``) are checked by ``check_conv_transpose`` / ``check_unpool`` and sized by
``conv_transpose2d_output_size`` / ``max_unpool2d_output_size`` (Python only: they run on the conv
kernels' grad-input path and on array indexing). Plain ints and tuples only: nothing here touches
an array.
"""

import numbers
from collections.abc import Sequence

from ..errors import ArgumentError, ShapeError  # ported PyTorch code catches both as RuntimeError

IntOrInts = int | Sequence[int]  # an int stands for the same value along every axis

_COUNT = {1: "one", 2: "two", 3: "three"}


def is_int(value: object) -> bool:
    # numbers.Integral covers Python and NumPy integers (numpy.int64 registers with it); a bool
    # is an int to Python but never a size.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_tuple(op: str, name: str, value: IntOrInts, n: int) -> tuple[int, ...]:
    """``value`` as a tuple of ``n`` Python ints: an int (NumPy's too), or a tuple or list of ``n``
    ints or of one int (meaning all ``n``, as PyTorch reads it). Anything else, a bool or a float
    among them, is a TypeError naming the op and the argument. Ranges are ``check_*``'s business."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(items) == 1:
        items *= n
    if len(items) != n or not all(is_int(v) for v in items):
        many = "int" if n == 1 else "ints"
        # a wrong count is also PyTorch's RuntimeError; a wrong kind (a float) only a TypeError
        error = TypeError if len(items) == n else ArgumentError
        raise error(f"{op}: {name} must be an int or a tuple of {_COUNT.get(n, n)} {many}, got {value!r}")
    return tuple(int(v) for v in items)


# ---------------------------------------------------------------------------------------------
# Output sizes along one axis. A window of `kernel` taps `dilation` apart spans
# dilation*(kernel-1) + 1 inputs; it starts at -padding and moves by `stride`, so the number of
# outputs is
#
#     out = floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1
#
# (ceil instead of floor in a pooling's ceil_mode). out < 1 means the window is larger than the
# padded input: the caller turns that into an error.


def conv2d_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Outputs along one axis of a convolution (< 1 when the kernel does not fit)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool2d_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """Outputs along one axis of a pooling (< 1 when the window does not fit)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1  # room left for the window to move
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1  # ceil division
    # PyTorch's rule: a last window must start inside the input or its left padding.
    if out > 1 and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv_transpose2d_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int
) -> int:
    """Outputs along one axis of a transposed convolution (< 1 when the padding eats it all).

    The transposed conv maps back onto the input of the conv it transposes: the smallest size
    that conv would turn into ``size`` outputs, plus ``output_padding`` of the stride - 1 sizes
    that give the same count (the floor in conv2d_output_size forgets which one it was):

        out = (size - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


# ---------------------------------------------------------------------------------------------
# The whole geometry of one call, checked: what must hold before any size reaches a kernel.
# The window arguments are tuples already (int_tuple); shapes are tuples of ints.


def _at_least(op: str, name: str, values: tuple[int, ...], minimum: int, shapes: str) -> None:
    if min(values) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ShapeError(f"{op}: {name} must be {kind}, got {values} ({shapes})")


def _too_large(op: str, what: str, sizes, padding, out, shapes: str) -> ShapeError:
    padded = tuple(n + 2 * p for n, p in zip(sizes, padding))
    return ShapeError(
        f"{op}: {what} is larger than the padded input {padded} (input {tuple(sizes)}, "
        f"padding {padding}); the output would be {tuple(out)} ({shapes})"
    )


def check_conv(
    op: str,
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    shapes: str,
) -> tuple[int, ...]:
    """Check a convolution and return its output shape (N, C_out, *spatial), in any number of
    spatial dims (conv1d checks (N, C, L), conv2d and the conv2d kernels (N, C, H, W)).

    x_shape: (N, C_in, *sizes); w_shape: (C_out, C_in/groups, *kernel); stride, padding, dilation:
    one int per spatial dim. ``shapes`` names the operands in the messages, e.g.
    "x (2, 3, 8, 8), weight (4, 3, 3, 3)".
    """
    _at_least(op, "stride", stride, 1, shapes)
    _at_least(op, "padding", padding, 0, shapes)
    _at_least(op, "dilation", dilation, 1, shapes)
    if not is_int(groups):
        raise TypeError(f"{op}: groups must be an int, got {groups!r} ({shapes})")
    if groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r} ({shapes})")
    (n, c_in, *sizes), (c_out, c_per_group, *kernel) = x_shape, w_shape
    if min(kernel) < 1:
        raise ShapeError(f"{op}: the kernel must be at least 1 wide ({shapes})")
    if c_in != c_per_group * groups:
        raise ShapeError(
            f"{op}: input has {c_in} channels, but weight expects {c_per_group} per group x "
            f"groups={groups} = {c_per_group * groups} ({shapes})"
        )
    if c_out % groups:
        raise ShapeError(
            f"{op}: weight's {c_out} output channels are not divisible by groups={groups} ({shapes})"
        )
    out = [conv2d_output_size(*axis) for axis in zip(sizes, kernel, stride, padding, dilation)]
    if min(out) < 1:
        raise _too_large(op, f"the kernel {tuple(kernel)} (dilation {dilation})", sizes, padding, out, shapes)
    return (n, c_out, *out)


def check_pool(
    op: str,
    x_shape: Sequence[int],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil_mode: bool,
    shapes: str,
) -> tuple[int, ...]:
    """Check a pooling of x (N, C, *sizes) and return its output sizes, in any number of spatial
    dims (max_pool1d checks (N, C, L); max_pool2d and the pool2d kernels (N, C, H, W)).

    kernel, stride, padding, dilation: one int per spatial dim; ``shapes`` names the operands.
    """
    _at_least(op, "kernel", kernel, 1, shapes)
    _at_least(op, "stride", stride, 1, shapes)
    _at_least(op, "padding", padding, 0, shapes)
    _at_least(op, "dilation", dilation, 1, shapes)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        # PyTorch's rule: more padding would allow windows (nearly) all padding.
        raise ShapeError(f"{op}: padding {padding} must be at most half the kernel {kernel} ({shapes})")
    sizes = tuple(x_shape[2:])
    if min(sizes) < 1:
        raise ShapeError(f"{op}: the input's spatial sizes must be at least 1 ({shapes})")
    out = [pool2d_output_size(*axis, ceil_mode) for axis in zip(sizes, kernel, stride, padding, dilation)]
    if min(out) < 1:
        span = "x".join(str(d * (k - 1) + 1) for k, d in zip(kernel, dilation))
        raise _too_large(
            op, f"the {span} window (kernel {kernel}, dilation {dilation})", sizes, padding, out, shapes
        )
    return tuple(out)


def check_conv_transpose(
    op: str,
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_padding: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    shapes: str,
) -> tuple[int, ...]:
    """Check a transposed convolution and return its output shape (N, C_out, *spatial).

    x_shape: (N, C_in, *sizes); w_shape: (C_in, C_out/groups, *kernel) (the weight of the conv it
    transposes, which maps C_out channels to C_in); the window: one int per spatial dim.
    """
    _at_least(op, "stride", stride, 1, shapes)
    _at_least(op, "padding", padding, 0, shapes)
    _at_least(op, "output_padding", output_padding, 0, shapes)
    _at_least(op, "dilation", dilation, 1, shapes)
    if not is_int(groups):
        raise TypeError(f"{op}: groups must be an int, got {groups!r} ({shapes})")
    if groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r} ({shapes})")
    (n, c_in, *sizes), (w_in, c_per_group, *kernel) = x_shape, w_shape
    if min(kernel) < 1:
        raise ShapeError(f"{op}: the kernel must be at least 1 wide ({shapes})")
    if w_in != c_in:
        raise ShapeError(
            f"{op}: input has {c_in} channels, but weight (C_in, C_out/groups, ...) expects {w_in} ({shapes})"
        )
    if c_in % groups:
        raise ShapeError(f"{op}: the {c_in} input channels are not divisible by groups={groups} ({shapes})")
    if min(sizes) < 1:
        raise ShapeError(f"{op}: the input's spatial sizes must be at least 1 ({shapes})")
    # PyTorch's rule: a larger output_padding would be a size no conv maps back to this input.
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(
            f"{op}: output_padding {output_padding} must be smaller than either stride {stride} or "
            f"dilation {dilation} ({shapes})"
        )
    out = [
        conv_transpose2d_output_size(*axis)
        for axis in zip(sizes, kernel, stride, padding, dilation, output_padding)
    ]
    if min(out) < 1:
        raise ShapeError(
            f"{op}: padding {padding} leaves no output: the output would be {tuple(out)} ({shapes})"
        )
    return (n, c_per_group * groups, *out)


def max_unpool2d_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """The size a max pooling without dilation or ceil_mode took to ``size`` outputs (the
    smallest one; output_size may ask for up to stride - 1 more or fewer):

        out = (size - 1)*stride - 2*padding + kernel
    """
    return (size - 1) * stride - 2 * padding + kernel


def check_unpool(
    op: str,
    x_shape: Sequence[int],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_size: Sequence[int] | None,
    shapes: str,
) -> tuple[int, ...]:
    """Check a max unpooling of x (N, C, *sizes) and return its output sizes: output_size's
    spatial part (it may lead with N, C), which must lie strictly within stride of the default
    size (PyTorch's rule), or that default."""
    _at_least(op, "kernel", kernel, 1, shapes)
    _at_least(op, "stride", stride, 1, shapes)
    _at_least(op, "padding", padding, 0, shapes)
    sizes = tuple(x_shape[2:])
    if 0 in x_shape[1:]:
        raise ShapeError(f"{op}: the input's dims but the batch must be non-empty ({shapes})")
    default = [max_unpool2d_output_size(*axis) for axis in zip(sizes, kernel, stride, padding)]
    if output_size is None:
        out = default
    else:
        out = list(output_size)[-len(sizes) :] if len(output_size) == len(sizes) + 2 else list(output_size)
        if len(out) != len(sizes) or not all(is_int(n) for n in out):
            raise ShapeError(
                f"{op}: output_size must hold {len(sizes)} or {len(sizes) + 2} ints, got {output_size!r} ({shapes})"
            )
        for d, (n, m, s) in enumerate(zip(out, default, stride)):
            if not m - s < n < m + s:
                raise ShapeError(
                    f"{op}: invalid output_size {tuple(output_size)}: dim {d} must lie strictly "
                    f"between {m - s} and {m + s} ({shapes})"
                )
    if min(out) < 0:
        raise ShapeError(f"{op}: the output size {tuple(out)} is negative ({shapes})")
    return tuple(int(n) for n in out)
