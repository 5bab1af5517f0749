"""``Function``: an operation that knows its derivative, and ``Context``: one node of the graph.

Every differentiable op is a subclass with two static methods::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):             # x: Tensor; runs with gradient recording off
            ctx.save_for_backward(x)
            return x * x                  # a Tensor, or a raw array (the lean form used inside minidl)

        @staticmethod
        def backward(ctx, grad):          # grad: Tensor shaped like the output
            (x,) = ctx.saved_tensors
            return 2 * x * grad           # d(x^2)/dx = 2x; one gradient per forward argument

    y = Square.apply(x)

``apply`` runs ``forward`` and, when any input requires grad, turns ``ctx`` into the node that
produced the output: ``y.grad_fn is ctx``. The node remembers where each input's gradient must go
(its *edges*), so the engine can walk from the loss back to the leaves.

``backward`` is written with Tensor operations, not raw arrays. Normally the engine runs it with
recording off, so that costs nothing; with ``create_graph=True`` it runs with recording on, and the
gradient becomes differentiable in its turn (second derivatives, Hessian-vector products).
"""

import numbers
import weakref
from collections.abc import Sequence
from typing import Any

import numpy

from ..backend.device import on_device_of
from .grad_mode import is_grad_enabled, no_grad
from .tensor import Tensor


class Context:
    """What ``forward`` leaves for ``backward``, and the node's place in the graph.

    Two kinds of thing are kept, each one way:

    * tensors (and arrays) that ``backward`` reads: through ``ctx.save_for_backward(...)`` and
      ``ctx.save_output()``, never as attributes. The engine frees them after backward, and reading
      them back checks that nobody changed them in place since (each tensor's ``_version``).
      ``ctx.x = tensor`` raises a TypeError saying so.
    * everything else (shapes, dims, flags, geometry dicts): plain attributes, ``ctx.dim = dim``.
      The check looks at the value itself, not inside a tuple or dict (an index may hold arrays).

    All of it lives in the instance ``__dict__`` (no ``__slots__``). The graph's own fields have
    class-level defaults, so a node that records nothing costs one dict entry:

    function:         the Function subclass that made this node
    edges[i]:         where input i's gradient goes: the input's own node, the input itself when
                      it is a leaf, or None when it does not require grad
    input_meta[i]:    (shape, dtype) of input i, so the engine can reduce a broadcast gradient and
                      cast it back to the input's dtype in one central place
    needs_input_grad: one flag per forward argument
    """

    function: "type[Function]"  # set by __init__
    edges: tuple[Any, ...] = ()  # Context, Tensor (a leaf) or None
    input_meta: tuple[Any, ...] = ()  # (shape, dtype) or None
    needs_input_grad: tuple[bool, ...] = ()
    released = False
    retained_output: "weakref.ref[Tensor] | None" = None
    _saved: tuple[Any, ...] = ()
    _versions: Sequence[int | None] = ()
    _output: Any = None  # True (asked for) until Function.apply puts the output Tensor here
    _output_version = 0

    def __init__(self, function):
        self.__dict__["function"] = function

    def __setattr__(self, name, value):
        if type(value) in _PLAIN and name not in _RESERVED:  # the common case, kept cheap
            self.__dict__[name] = value
            return
        # Tensors and arrays set here would escape release() and the in-place check.
        if isinstance(value, Tensor) or _is_array(value):
            raise TypeError(
                f"{self.function.__name__}.forward: ctx.{name} = <{type(value).__name__}> keeps saved "
                f"data as an attribute; use ctx.save_for_backward(...) (or ctx.save_output() for the "
                f"op's own output), so that it is freed after backward and checked for in-place changes"
            )
        if name in _RESERVED:
            raise AttributeError(
                f"{self.function.__name__}.forward: ctx.{name} belongs to the graph; pick another name"
            )
        self.__dict__[name] = value

    def save_for_backward(self, *values):
        """Keep these for ``backward``; read them back, in order, as ``ctx.saved_tensors``.

        Each is a Tensor (its version is noted, to catch a later in-place change), None, or a
        constant operand: a number, or an array (``x * 2``, ``where(mask_array, a, b)``).
        """
        d = self.__dict__
        if "needs_input_grad" not in d:
            return  # not recording (no_grad, or no input requires grad): nothing will read them
        versions: list[int | None] = []
        for v in values:
            if isinstance(v, Tensor):
                versions.append(v._version)
            elif v is None or isinstance(v, _NUMBERS) or _is_array(v):
                versions.append(None)
            else:
                raise TypeError(
                    f"{self.function.__name__}: save_for_backward takes tensors, arrays, "
                    f"numbers or None, got {type(v).__name__}"
                )
        d["_saved"] = values
        d["_versions"] = versions

    def save_output(self):
        """Keep the op's output for ``backward`` (as ``ctx.output``): e^x, tanh x and sigmoid x have
        derivatives written in terms of their own value. The real output tensor is kept, not a
        copy, so that a second derivative can flow through it."""
        self.__dict__["_output"] = True

    @property
    def output(self):
        if self.released:
            raise RuntimeError(f"{self.name()}: its saved output was freed by an earlier backward()")
        out = self._output
        if out is not None and out is not True and out._version != self._output_version:
            raise self._modified(out, self._output_version, "output")
        return out

    @property
    def saved_tensors(self):
        if self.released:
            raise RuntimeError(
                f"{self.name()}: its saved tensors were freed by an earlier backward(); "
                "call backward(retain_graph=True) the first time to keep them"
            )
        saved = self._saved
        for t, version in zip(saved, self._versions):
            if version is not None and t._version != version:
                raise self._modified(t, version, "tensor")
        return saved

    def _modified(self, t, version, what):
        return RuntimeError(
            f"one of the tensors needed for gradient computation has been modified by an in-place "
            f"operation: {self.name()} saved a{'n' if what == 'output' else ''} {what} of shape "
            f"{t.shape} at version {version}, now at version {t._version}; do the in-place change "
            f"after backward(), or on a copy (t.clone())"
        )

    def retain_grad_of(self, output):
        """Fill ``output.grad`` (this node's own result) during backward: ``Tensor.retain_grad``.
        A weak reference, so the node does not keep its output alive."""
        self.__dict__["retained_output"] = weakref.ref(output)

    def release(self):
        """Free what forward saved: called by the engine after backward unless retain_graph.
        Keeps only the graph's fields (the engine still follows the edges)."""
        d = self.__dict__
        for name in [k for k in d if k not in _GRAPH_FIELDS]:
            del d[name]
        d["released"] = True

    def name(self):
        return f"{self.function.__name__}Backward"

    def __repr__(self):
        return f"<{self.name()}>"


# What the engine and Function.apply write on a node, straight into its __dict__.
_GRAPH_FIELDS = frozenset(
    ("function", "edges", "input_meta", "needs_input_grad", "released", "retained_output")
)
_NUMBERS = (numbers.Number, numpy.generic)
# Values that are never saved data, and names a forward cannot take (the graph's, and properties)
_PLAIN = frozenset((int, float, bool, str, tuple, type(None), dict, list))
_RESERVED = _GRAPH_FIELDS | {"output", "saved_tensors", "_saved", "_versions", "_output", "_output_version"}


def _is_array(value):
    """True for NumPy and CuPy arrays: ``shape`` and ``dtype`` without being a dtype or scalar."""
    return type(value) is numpy.ndarray or (
        hasattr(value, "dtype")
        and hasattr(value, "shape")
        and not isinstance(value, (numpy.generic, numpy.dtype, Tensor))
    )


def _check_same_device(function, args):
    """Every tensor argument on one device, or an error naming both; never a silent copy.
    Returns the first tensor argument (None when there is none)."""
    first = None
    for a in args:
        if not isinstance(a, Tensor):
            continue
        if first is None:
            first = a
        # Array types tell CPU from GPU cheaply; GPU arrays also carry which GPU (cuda:0, cuda:1).
        elif type(a.data) is not type(first.data) or (
            type(a.data) is not numpy.ndarray and a.device != first.device
        ):
            raise RuntimeError(
                f"{function.__name__}: expected all tensors on one device, got {first.device} "
                f"{tuple(first.shape)} and {a.device} {tuple(a.shape)}; move one with .to()"
            )
    return first


class Function:
    """Base class of differentiable operations; see the module docstring."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        first = _check_same_device(cls, args)
        ctx = Context(cls)
        node = ctx.__dict__  # the graph's fields go straight in, past the check meant for forward
        record = is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if record:
            node["needs_input_grad"] = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        # CuPy works on its *current* GPU, so an op on cuda:1 tensors runs with cuda:1 current.
        with no_grad(), on_device_of(first.data if first is not None else None):
            out = cls.forward(ctx, *args, **kwargs)
        if isinstance(out, Tensor):
            out = out.data
        if isinstance(out, (tuple, list)):
            raise TypeError(
                f"{cls.__name__}.forward must return one tensor or array, got a {type(out).__name__}"
            )
        result = Tensor._make(out)
        if record and result.dtype.kind == "f":  # integer results (indices, counts) carry no gradient
            node["edges"] = tuple(_edge(a) if needs else None for a, needs in zip(args, ctx.needs_input_grad))
            node["input_meta"] = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
            result._requires_grad = True
            result.grad_fn = ctx
            if ctx._output is True:  # forward asked for it; a cycle that release() breaks
                node["_output"] = result  # a fresh tensor: version 0, the class default
        return result


def _edge(tensor):
    """Where a gradient for ``tensor`` goes: its producing node, or the leaf tensor itself."""
    return tensor.grad_fn if tensor.grad_fn is not None else tensor
