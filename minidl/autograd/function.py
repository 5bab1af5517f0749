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
import numpy

from ..backend.device import on_device_of
from .grad_mode import is_grad_enabled, no_grad
from .tensor import Tensor


class Context:
    """What ``forward`` leaves for ``backward``, and the node's place in the graph.

    edges[i]:      where input i's gradient goes: the input's own node, the input itself when it
                   is a leaf, or None when it does not require grad
    input_meta[i]: (shape, dtype) of input i, so the engine can reduce a broadcast gradient and
                   cast it back to the input's dtype in one central place
    """

    __slots__ = ("function", "edges", "input_meta", "needs_input_grad", "_saved", "released",
                 "retained_output", "_output", "__dict__")

    def __init__(self, function):
        self.function = function
        self.edges = ()
        self.input_meta = ()
        self.needs_input_grad = ()
        self._saved = ()
        self.released = False
        self.retained_output = None
        self._output = None

    def save_for_backward(self, *tensors):
        """Keep these tensors (or None) for ``backward``; read them back as ``ctx.saved_tensors``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self.function.__name__}: save_for_backward takes tensors or None, "
                                f"got {type(t).__name__}")
        self._saved = tensors

    def save_output(self):
        """Keep the op's output for ``backward`` (as ``ctx.output``): e^x, tanh x and sigmoid x have
        derivatives written in terms of their own value. The real output tensor is kept, not a
        copy, so that a second derivative can flow through it."""
        self._output = True

    @property
    def output(self):
        if self.released:
            raise RuntimeError(f"{self.name()}: its saved output was freed by an earlier backward()")
        return self._output

    @property
    def saved_tensors(self):
        if self.released:
            raise RuntimeError(
                f"{self.name()}: its saved tensors were freed by an earlier backward(); "
                "call backward(retain_graph=True) the first time to keep them")
        return self._saved

    def release(self):
        """Free what forward saved: called by the engine after backward unless retain_graph."""
        self._saved = ()
        self._output = None
        self.__dict__.clear()
        self.released = True

    def name(self):
        return f"{self.function.__name__}Backward"

    def __repr__(self):
        return f"<{self.name()}>"


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
                type(a.data) is not numpy.ndarray and a.device != first.device):
            raise RuntimeError(
                f"{function.__name__}: expected all tensors on one device, got {first.device} "
                f"{tuple(first.shape)} and {a.device} {tuple(a.shape)}; move one with .to()")
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
        record = is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        # CuPy works on its *current* GPU, so an op on cuda:1 tensors runs with cuda:1 current.
        with no_grad(), on_device_of(first.data if first is not None else None):
            out = cls.forward(ctx, *args, **kwargs)
        if isinstance(out, Tensor):
            out = out.data
        if isinstance(out, (tuple, list)):
            raise TypeError(f"{cls.__name__}.forward must return one tensor or array, got a {type(out).__name__}")
        result = Tensor._make(out)
        if record and result.dtype.kind == "f":  # integer results (indices, counts) carry no gradient
            ctx.edges = tuple(_edge(a) if needs else None for a, needs in zip(args, ctx.needs_input_grad))
            ctx.input_meta = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
            result._requires_grad = True
            result.grad_fn = ctx
            if ctx._output is True:  # forward asked for it; a cycle that release() breaks
                ctx._output = result
        return result


def _edge(tensor):
    """Where a gradient for ``tensor`` goes: its producing node, or the leaf tensor itself."""
    return tensor.grad_fn if tensor.grad_fn is not None else tensor
