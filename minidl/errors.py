"""minidl's own error classes: what an op raises, catchable the minidl way and the PyTorch way.

minidl reports a bad shape as a ValueError and a bad dtype as a TypeError, Python's usual words.
PyTorch raises RuntimeError for both, and code ported from PyTorch catches that. Each class here
is both, so ``except ValueError`` and ``except RuntimeError`` (or ``except TypeError``) all work:

    ShapeError(ValueError, RuntimeError)
        shapes that do not fit the op: ``(2, 4) @ (1, 3)``, operands that cannot be broadcast,
        ``reshape`` to a size with another number of elements, ``permute`` dims that are not a
        permutation, ``cat``/``stack`` of mismatched tensors, a conv kernel or pooling window
        larger than its (padded) input, window arguments (stride, padding, ...) out of range.

    DTypeError(TypeError, RuntimeError)
        dtypes the op cannot take together: ``matmul`` of float32 with float64, an integer
        tensor where only floats make sense.

    ArgumentError(TypeError, ValueError, RuntimeError)
        a window argument with the wrong number of entries: ``padding=(1, 2, 3)`` for a conv2d.
        minidl long reported it as a TypeError (the wrong kind of argument) and keeps that, since
        code catches it so; PyTorch says RuntimeError; ValueError is Python's word for it.

Other errors keep Python's classes, as PyTorch's do: IndexError for a dim or an index out of
range, TypeError for an argument of the wrong kind (a float where an int goes).
The messages name the op, the shapes (or dtypes) and what was expected.
"""


class ShapeError(ValueError, RuntimeError):
    """The operands' shapes (or the op's geometry) do not fit: a ValueError and a RuntimeError."""


class DTypeError(TypeError, RuntimeError):
    """The operands' dtypes do not fit the op: a TypeError and a RuntimeError."""


class ArgumentError(TypeError, ValueError, RuntimeError):
    """An argument with the wrong number of entries: a TypeError, a ValueError and a RuntimeError."""


__all__ = ["ArgumentError", "DTypeError", "ShapeError"]
