"""``Tensor``: an array (NumPy on the CPU, CuPy on the GPU) plus what autograd needs to know.

    data           the array itself
    requires_grad  whether gradients should flow to (or through) this tensor
    grad           the accumulated gradient (a Tensor), filled in by backward() on leaves
    grad_fn        the graph node (a Context) that produced this tensor; None for leaves
    _version       how many in-place updates (add_, copy_, ...) the array has had: a node that
                   saved this tensor for backward compares it, to refuse a changed value. Views
                   (reshape, x[i]) have counters of their own, so a change through one is not seen
                   by the other.

The arithmetic and shape methods (``x + y``, ``x.sum()``, ``x.relu()``) are not defined here: they
are the ops of ``minidl.functional``, attached to this class in one table,
``minidl/functional/methods.py``. That keeps this file about *what a tensor is*, and keeps
``autograd`` from importing ``functional``.
"""

import contextlib
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy
from numpy.typing import DTypeLike

from ..backend import device as _device
from ..errors import DTypeError
from . import dtypes

_NUMPY_ARRAY = numpy.ndarray

if TYPE_CHECKING:

    class ValuesIndices(NamedTuple):
        """What ``x.max(dim)`` returns (functional/reduce.py builds it): the values and their
        int64 indices along ``dim``."""

        values: "Tensor"
        indices: "Tensor"


def as_array(data: Any, dtype: DTypeLike | None = None, device: Any = None) -> Any:
    """The array for ``tensor(data, dtype, device)``: a copy, on ``device``, of dtype ``dtype``.

    Arrays keep their dtype (as in PyTorch); Python floats get the default dtype, Python ints
    int64, bools bool.
    """
    if isinstance(data, Tensor):
        data = data.data
    target = _device.Device(device) if device is not None else None
    if _device.device_of(data).type == "cuda" and not isinstance(data, _NUMPY_ARRAY):
        array = data.copy()
        target = target or _device.device_of(data)
    elif isinstance(data, (_NUMPY_ARRAY, numpy.generic)):
        array = numpy.array(data)
    else:
        array = _from_python(data, dtype)
    if dtype is not None:
        array = array.astype(numpy.dtype(dtype), copy=False)
    return _device.to_device(array, target or _device.get_default_device())


def _from_python(data, dtype=None):
    try:
        array = numpy.array(data)
    except ValueError as err:  # ragged lists
        raise ValueError(f"tensor: cannot build a tensor from {type(data).__name__}: {err}") from None
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(
            f"tensor: expected numbers, lists of numbers or arrays, got {type(data).__name__} "
            f"that NumPy reads as {array.dtype}"
        )
    if dtype is not None:
        return array  # cast once, by the caller, from full precision: not via float32 first
    if array.dtype.kind == "f":
        return array.astype(dtypes.get_default_dtype(), copy=False)
    if array.dtype.kind in "iu":
        return array.astype(dtypes.int64, copy=False)
    return array


class Tensor:
    __slots__ = ("data", "_requires_grad", "grad", "grad_fn", "_version", "__weakref__")
    # Makes `ndarray + tensor` call Tensor.__radd__ instead of NumPy swallowing the tensor.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        self.data = as_array(data, dtype, device)
        self.grad = None
        self.grad_fn = None
        self._version = 0
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, array):
        """Wrap an array without copying or checking: the fast path used by every op."""
        t = object.__new__(cls)
        if isinstance(array, numpy.generic) or isinstance(array, numbers.Number):
            array = numpy.asarray(array)  # NumPy reductions return scalars; a tensor holds an array
        t.data = array
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._version = 0
        return t

    # -- autograd state ---------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if flag and not dtypes.is_floating(self.data.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                f"convert first, e.g. t.float()"
            )
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; use .detach() "
                "to get a tensor outside the graph"
            )
        self._requires_grad = flag

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (inputs, parameters)."""
        return self.grad_fn is None

    def detach(self) -> "Tensor":
        """The same data, cut from the graph: no grad_fn, no requires_grad."""
        return Tensor._make(self.data)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep theirs)."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("retain_grad: this tensor does not require grad")
            return
        self.grad_fn.retain_grad_of(self)

    def backward(
        self,
        gradient: "Tensor | None" = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: "Tensor | Sequence[Tensor] | None" = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        gradient: d(loss)/d(self), same shape as self; may be omitted for a scalar.
        The graph is freed afterwards unless ``retain_graph=True``; ``create_graph=True`` records
        the backward pass itself so the gradients can be differentiated again.
        """
        from . import engine

        engine.backward(
            [self], [gradient], retain_graph=retain_graph, create_graph=create_graph, inputs=inputs
        )

    # -- what the array is ------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> numpy.dtype:
        return self.data.dtype

    @property
    def device(self) -> _device.Device:
        return _device.device_of(self.data)

    def size(self, dim: int | None = None) -> "tuple[int, ...] | int":
        """The shape, or the length of one dimension: ``x.size(0)``."""
        if dim is None:
            return self.shape
        return self.shape[_check_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def is_floating_point(self) -> bool:
        return dtypes.is_floating(self.data.dtype)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    # -- leaving minidl ---------------------------------------------------------------------

    def numpy(self) -> numpy.ndarray:
        """The data as a NumPy array (shared, not copied, for CPU tensors)."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy(): this tensor requires grad; call t.detach().numpy() to "
                "take the values without the graph"
            )
        if not isinstance(self.data, _NUMPY_ARRAY):
            raise TypeError(f"numpy(): the tensor is on {self.device}; call t.cpu().numpy()")
        return self.data

    def __array__(self, dtype=None, copy=None):
        if not isinstance(self.data, _NUMPY_ARRAY):
            raise TypeError(f"cannot convert a tensor on {self.device} to a NumPy array; call .cpu() first")
        if copy:
            return numpy.array(self.data, dtype=dtype)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self) -> Any:
        """The single value of a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python number, "
                f"got shape {self.shape}"
            )
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return _device.to_device(self.data, "cpu").tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                f"use .any() or .all()"
            )
        return bool(self.item())

    __hash__ = object.__hash__  # tensors are dict keys by identity, although == is elementwise

    # -- moving and converting ----------------------------------------------------------------

    def to(self, *args: Any, dtype: DTypeLike | None = None, device: "DeviceLike | None" = None) -> "Tensor":
        """``t.to('cuda')``, ``t.to(minidl.float64)``, ``t.to('cpu', minidl.float32)``, ``t.to(other)``.

        Returns ``self`` when nothing changes; otherwise a new tensor that stays in the graph.
        """
        dtype, device = to_arguments(args, dtype, device)
        from .convert import to_tensor

        return to_tensor(self, dtype=dtype, device=device)

    def is_contiguous(self) -> bool:
        """True when the elements lie in memory in row-major order with no gaps."""
        return bool(self.data.flags.c_contiguous)

    def contiguous(self) -> "Tensor":
        """``self`` if it is contiguous, else a contiguous copy (still in the graph)."""
        return self if self.is_contiguous() else self.clone()

    def clone(self) -> "Tensor":
        """A copy with its own memory; gradients flow through it to ``self``."""
        from .convert import clone

        return clone(self)

    def cpu(self) -> "Tensor":
        return self.to(device="cpu")

    def cuda(self) -> "Tensor":
        return self.to(device="cuda")

    # -- in-place updates (optimizers, initialisers): never recorded, always counted ----------

    def _check_inplace(self, op):
        from .grad_mode import is_grad_enabled

        if is_grad_enabled() and (self._requires_grad or self.grad_fn is not None):
            raise RuntimeError(
                f"{op}: in-place change of a tensor that requires grad; do it inside "
                f"`with minidl.no_grad():` (as optimizers do)"
            )

    def _here(self):
        """Run an in-place update on this tensor's own GPU: CuPy launches on the *current* GPU,
        which for a cuda:1 tensor is not cuda:1 unless made so."""
        if type(self.data) is _NUMPY_ARRAY:
            return contextlib.nullcontext()
        return _device.on_device(self.device)

    def _other(self, other, op):
        """The array (or number) to update this tensor's array with. Another tensor must live on the
        same device: an in-place update never copies between devices behind the user's back."""
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise RuntimeError(
                    f"{op}: expected both tensors on one device, got {self.device} "
                    f"{self.shape} and {other.device} {other.shape}; move one with .to()"
                )
            return other.data
        if isinstance(other, _NUMPY_ARRAY) and type(self.data) is not _NUMPY_ARRAY:
            # a NumPy array into GPU memory: the same rule, said in terms of arrays
            raise RuntimeError(
                f"{op}: cannot update a tensor on {self.device} with a NumPy array "
                f"{tuple(other.shape)}; make it a tensor on {self.device} first"
            )
        return other

    def _update(self, op: str, other: Any, write: Callable[[Any, Any], Any]) -> "Tensor":
        """The one path of every in-place update: refused where it would corrupt a graph being
        recorded, run on this tensor's own device, and counted in ``_version`` (so that a node
        that saved this tensor refuses the changed value)."""
        self._check_inplace(op)
        value = self._other(other, op)
        with self._here():
            try:
                write(self.data, value)
            except TypeError as error:  # only a failed write pays for the diagnosis
                raise self._cast_error(op, other, value) or error from None
        self._version += 1
        return self

    def _cast_error(self, op: str, other: Any, value: Any) -> "DTypeError | None":
        """The clear error for an in-place result this tensor's dtype cannot hold (a float into an
        int tensor, which PyTorch refuses too), or None when the TypeError had another cause."""
        try:
            theirs = numpy.result_type(getattr(value, "dtype", value))
        except TypeError:  # not a number or an array: the original error says it best
            return None
        # true division of integers is floating point
        result = numpy.result_type(self.data.dtype, numpy.float64 if op == "div_" else theirs)
        if numpy.can_cast(result, self.data.dtype, "same_kind"):
            return None
        if isinstance(other, Tensor):
            operand = f"a {theirs} tensor"
        elif hasattr(value, "dtype"):
            operand = f"a {theirs} array"
        else:
            operand = f"the Python {type(value).__name__} {value!r}"
        return DTypeError(
            f"{op}: the result of this {self.dtype} tensor and {operand} is "
            f"{_KIND_NAMES.get(result.kind, result)}, which can't be stored in place in the "
            f"{self.dtype} tensor; use the out-of-place op, or convert with .to() first"
        )

    def zero_(self) -> "Tensor":
        return self._update("zero_", 0, _assign)

    def fill_(self, value: "Tensor | float") -> "Tensor":
        return self._update("fill_", value, _assign)

    def copy_(self, src: Any) -> "Tensor":
        """Copy ``src`` (a tensor on this device, an array or a number broadcasting to
        ``self.shape``) into this tensor's memory."""

        def write(data, src):
            # the shape without converting src: numpy.shape would pull a GPU array to the host
            shape = tuple(src.shape) if hasattr(src, "shape") else numpy.shape(src)
            try:
                fits = numpy.broadcast_shapes(shape, self.shape) == self.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"copy_: cannot copy shape {shape} into shape {self.shape}")
            data[...] = src

        return self._update("copy_", src, write)

    def add_(self, other: "Tensor | float", alpha: float = 1) -> "Tensor":
        return self._update("add_", other, lambda a, b: operator.iadd(a, b if alpha == 1 else alpha * b))

    def sub_(self, other: "Tensor | float", alpha: float = 1) -> "Tensor":
        return self._update("sub_", other, lambda a, b: operator.isub(a, b if alpha == 1 else alpha * b))

    def mul_(self, other: "Tensor | float") -> "Tensor":
        return self._update("mul_", other, operator.imul)

    def div_(self, other: "Tensor | float") -> "Tensor":
        return self._update("div_", other, operator.itruediv)

    # -- printing -----------------------------------------------------------------------------

    def __repr__(self):
        data = _device.to_device(self.data, "cpu")
        body = numpy.array2string(
            data, separator=", ", prefix="tensor(", precision=4, threshold=200, edgeitems=3
        )
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if data.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras.append(f"dtype=minidl.{data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -- declared for type checkers, defined in functional/methods.py --------------------------
    # The ops below are attached to this class at import time by the METHODS and PROPERTIES tables
    # of minidl/functional/methods.py (autograd must not import functional). A type checker does
    # not run that code, so without these declarations mypy and editors would see a Tensor with no
    # `x + y`, `x.sum()` or `x.mT`. They exist only while type checking (TYPE_CHECKING is False at
    # run time) and mirror the functional ops' signatures; tests/test_tensor_declarations.py checks
    # that they and the tables name the same methods.
    if TYPE_CHECKING:
        # operators
        def __add__(self, other: "Tensor | float") -> "Tensor": ...
        def __radd__(self, other: float) -> "Tensor": ...
        def __sub__(self, other: "Tensor | float") -> "Tensor": ...
        def __rsub__(self, other: float) -> "Tensor": ...
        def __mul__(self, other: "Tensor | float") -> "Tensor": ...
        def __rmul__(self, other: float) -> "Tensor": ...
        def __truediv__(self, other: "Tensor | float") -> "Tensor": ...
        def __rtruediv__(self, other: float) -> "Tensor": ...
        def __pow__(self, other: "Tensor | float") -> "Tensor": ...
        def __rpow__(self, other: float) -> "Tensor": ...
        def __matmul__(self, other: "Tensor") -> "Tensor": ...
        def __rmatmul__(self, other: "Tensor") -> "Tensor": ...
        def __neg__(self) -> "Tensor": ...
        def __pos__(self) -> "Tensor": ...
        def __abs__(self) -> "Tensor": ...
        # elementwise comparisons return a bool tensor, not the bool object.__eq__ promises
        def __eq__(self, other: "Tensor | float") -> "Tensor": ...  # type: ignore[override]
        def __ne__(self, other: "Tensor | float") -> "Tensor": ...  # type: ignore[override]
        def __lt__(self, other: "Tensor | float") -> "Tensor": ...
        def __le__(self, other: "Tensor | float") -> "Tensor": ...
        def __gt__(self, other: "Tensor | float") -> "Tensor": ...
        def __ge__(self, other: "Tensor | float") -> "Tensor": ...
        def __and__(self, other: "Tensor | bool") -> "Tensor": ...
        def __or__(self, other: "Tensor | bool") -> "Tensor": ...
        def __invert__(self) -> "Tensor": ...
        # an int, slice, None, Ellipsis, a list or an int/bool tensor, or a tuple of those
        def __getitem__(self, index: Any) -> "Tensor": ...

        # elementwise (`/`: the functional op names its operands a, b, so they are positional)
        def add(self, other: "Tensor | float", /) -> "Tensor": ...
        def sub(self, other: "Tensor | float", /) -> "Tensor": ...
        def mul(self, other: "Tensor | float", /) -> "Tensor": ...
        def div(self, other: "Tensor | float", /, *, rounding_mode: str | None = None) -> "Tensor": ...
        def pow(self, exponent: "Tensor | float", /) -> "Tensor": ...
        def neg(self) -> "Tensor": ...
        def exp(self) -> "Tensor": ...
        def log(self) -> "Tensor": ...
        def sqrt(self) -> "Tensor": ...
        def abs(self) -> "Tensor": ...
        def sin(self) -> "Tensor": ...
        def cos(self) -> "Tensor": ...
        def tanh(self) -> "Tensor": ...
        def sigmoid(self) -> "Tensor": ...
        def relu(self) -> "Tensor": ...
        def sign(self) -> "Tensor": ...
        def maximum(self, other: "Tensor | float", /) -> "Tensor": ...
        def minimum(self, other: "Tensor | float", /) -> "Tensor": ...
        def clamp(
            self, min: "Tensor | float | None" = None, max: "Tensor | float | None" = None
        ) -> "Tensor": ...
        def clip(
            self, min: "Tensor | float | None" = None, max: "Tensor | float | None" = None
        ) -> "Tensor": ...
        def eq(self, other: "Tensor | float", /) -> "Tensor": ...
        def ne(self, other: "Tensor | float", /) -> "Tensor": ...
        def lt(self, other: "Tensor | float", /) -> "Tensor": ...
        def le(self, other: "Tensor | float", /) -> "Tensor": ...
        def gt(self, other: "Tensor | float", /) -> "Tensor": ...
        def ge(self, other: "Tensor | float", /) -> "Tensor": ...

        # reductions
        def sum(
            self,
            dim: int | Sequence[int] | None = None,
            keepdim: bool = False,
            *,
            dtype: DTypeLike | None = None,
        ) -> "Tensor": ...
        def mean(
            self,
            dim: int | Sequence[int] | None = None,
            keepdim: bool = False,
            *,
            dtype: DTypeLike | None = None,
        ) -> "Tensor": ...
        # without dim the largest value; with dim, (values, indices) along it
        @overload
        def max(self, dim: None = None, keepdim: bool = False) -> "Tensor": ...
        @overload
        def max(self, dim: int, keepdim: bool = False) -> "ValuesIndices": ...
        def max(self, dim: int | None = None, keepdim: bool = False) -> "Tensor | ValuesIndices": ...
        @overload
        def min(self, dim: None = None, keepdim: bool = False) -> "Tensor": ...
        @overload
        def min(self, dim: int, keepdim: bool = False) -> "ValuesIndices": ...
        def min(self, dim: int | None = None, keepdim: bool = False) -> "Tensor | ValuesIndices": ...
        def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> "Tensor": ...
        def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> "Tensor": ...
        def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor": ...
        def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor": ...
        # as PyTorch: x.var(dim, unbiased, keepdim), x.var(dim, correction=0), x.var(True)
        def var(
            self,
            dim: int | Sequence[int] | bool | None = None,
            unbiased: bool | None = None,
            keepdim: bool = False,
            *,
            correction: float | None = None,
        ) -> "Tensor": ...
        def std(
            self,
            dim: int | Sequence[int] | bool | None = None,
            unbiased: bool | None = None,
            keepdim: bool = False,
            *,
            correction: float | None = None,
        ) -> "Tensor": ...
        def logsumexp(self, dim: int | Sequence[int] | None, keepdim: bool = False) -> "Tensor": ...
        def all(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> "Tensor": ...
        def any(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> "Tensor": ...

        # shape: sizes and dims as separate ints, x.reshape(2, 3), or one sequence, x.reshape((2, 3))
        def reshape(self, *shape: int | Sequence[int]) -> "Tensor": ...
        def view(self, *shape: int | Sequence[int]) -> "Tensor": ...
        def permute(self, *dims: int | Sequence[int]) -> "Tensor": ...
        def transpose(self, dim0: int, dim1: int) -> "Tensor": ...
        def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor": ...
        def unflatten(self, dim: int, sizes: Sequence[int]) -> "Tensor": ...
        def squeeze(self, dim: int | Sequence[int] | None = None) -> "Tensor": ...
        def unsqueeze(self, dim: int) -> "Tensor": ...
        def expand(self, *sizes: int | Sequence[int]) -> "Tensor": ...
        def expand_as(self, other: "Tensor") -> "Tensor": ...
        def split(
            self, split_size_or_sections: int | Sequence[int], dim: int = 0
        ) -> "tuple[Tensor, ...]": ...
        def chunk(self, chunks: int, dim: int = 0) -> "tuple[Tensor, ...]": ...
        @property
        def T(self) -> "Tensor": ...  # all dimensions reversed
        @property
        def mT(self) -> "Tensor": ...  # the last two dimensions swapped

        # linear algebra
        def matmul(self, other: "Tensor", /) -> "Tensor": ...
        def bmm(self, mat2: "Tensor", /) -> "Tensor": ...  # issue 14, piece B
        def baddbmm(
            self, batch1: "Tensor", batch2: "Tensor", *, beta: float = 1, alpha: float = 1
        ) -> "Tensor": ...

        # activations
        def softmax(self, dim: int, dtype: DTypeLike | None = None) -> "Tensor": ...
        def log_softmax(self, dim: int, dtype: DTypeLike | None = None) -> "Tensor": ...

        # -- declarations added with new ops: keep in METHODS order where possible --------------

        # shape: triangles, diagonals, rearranging (issue 13; functional/triangular.py, rearrange.py)
        def tril(self, diagonal: int = 0) -> "Tensor": ...
        def triu(self, diagonal: int = 0) -> "Tensor": ...
        def diag(self, diagonal: int = 0) -> "Tensor": ...
        def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> "Tensor": ...
        def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> "Tensor": ...
        def flip(self, dims: int | Sequence[int], *more_dims: int) -> "Tensor": ...
        def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> "Tensor": ...
        def moveaxis(self, source: int | Sequence[int], destination: int | Sequence[int]) -> "Tensor": ...
        def repeat(self, *repeats: int | Sequence[int]) -> "Tensor": ...
        def repeat_interleave(
            self, repeats: "int | Tensor | None" = None, dim: int | None = None
        ) -> "Tensor": ...
        def unfold(self, dimension: int, size: int, step: int) -> "Tensor": ...

        # indexing along a dim and by masks (issue 13; functional/gather.py, scatter.py, masking.py)
        def gather(self, dim: int, index: "Tensor", *, sparse_grad: bool = False) -> "Tensor": ...
        def take_along_dim(self, indices: "Tensor", dim: int | None = None) -> "Tensor": ...
        def index_select(self, dim: int, index: "Tensor") -> "Tensor": ...
        def scatter(
            self,
            dim: int,
            index: "Tensor",
            src: "Tensor | float | None" = None,
            *,
            value: float | None = None,
            reduce: str | None = None,
        ) -> "Tensor": ...
        def scatter_add(self, dim: int, index: "Tensor", src: "Tensor") -> "Tensor": ...
        def scatter_reduce(
            self, dim: int, index: "Tensor", src: "Tensor", reduce: str, *, include_self: bool = True
        ) -> "Tensor": ...
        def masked_fill(self, mask: "Tensor", value: "Tensor | float") -> "Tensor": ...
        def masked_select(self, mask: "Tensor") -> "Tensor": ...
        def nonzero(self, *, as_tuple: bool = False) -> "Tensor | tuple[Tensor, ...]": ...
        def where(self, condition: "Tensor", other: "Tensor | float") -> "Tensor": ...

        # reductions, scans and sorting (issue 13; functional/reduce.py, scan.py, sort.py)
        def prod(
            self, dim: int | None = None, keepdim: bool = False, *, dtype: DTypeLike | None = None
        ) -> "Tensor": ...
        def cumsum(self, dim: int, *, dtype: DTypeLike | None = None) -> "Tensor": ...
        def cumprod(self, dim: int, *, dtype: DTypeLike | None = None) -> "Tensor": ...
        def cummax(self, dim: int) -> "ValuesIndices": ...
        def cummin(self, dim: int) -> "ValuesIndices": ...
        def logcumsumexp(self, dim: int) -> "Tensor": ...
        def sort(
            self, dim: int = -1, descending: bool = False, *, stable: bool = False
        ) -> "ValuesIndices": ...
        def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> "Tensor": ...
        def topk(
            self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
        ) -> "ValuesIndices": ...
        def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> "ValuesIndices": ...
        # without dim the lower median of all elements; with dim, (values, indices) along it
        @overload
        def median(self, dim: None = None, keepdim: bool = False) -> "Tensor": ...
        @overload
        def median(self, dim: int, keepdim: bool = False) -> "ValuesIndices": ...
        def median(self, dim: int | None = None, keepdim: bool = False) -> "Tensor | ValuesIndices": ...

        # rounding, trigonometry, exponentials and logs, logic (issue 13; functional/rounding.py,
        # trig.py, explog.py, logical.py); & | ^ ~ are bitwise on bool and integer tensors
        def __rand__(self, other: "bool | int") -> "Tensor": ...
        def __ror__(self, other: "bool | int") -> "Tensor": ...
        def __xor__(self, other: "Tensor | bool | int") -> "Tensor": ...
        def __rxor__(self, other: "bool | int") -> "Tensor": ...
        def __mod__(self, other: "Tensor | float") -> "Tensor": ...
        def __rmod__(self, other: float) -> "Tensor": ...
        def __floordiv__(self, other: "Tensor | float") -> "Tensor": ...
        def __rfloordiv__(self, other: float) -> "Tensor": ...
        def floor(self) -> "Tensor": ...
        def ceil(self) -> "Tensor": ...
        def trunc(self) -> "Tensor": ...
        def round(self, *, decimals: int = 0) -> "Tensor": ...
        def frac(self) -> "Tensor": ...
        def fmod(self, other: "Tensor | float") -> "Tensor": ...
        def remainder(self, other: "Tensor | float") -> "Tensor": ...
        def floor_divide(self, other: "Tensor | float") -> "Tensor": ...
        def tan(self) -> "Tensor": ...
        def asin(self) -> "Tensor": ...
        def acos(self) -> "Tensor": ...
        def atan(self) -> "Tensor": ...
        def atan2(self, other: "Tensor | float") -> "Tensor": ...
        def sinh(self) -> "Tensor": ...
        def cosh(self) -> "Tensor": ...
        def asinh(self) -> "Tensor": ...
        def acosh(self) -> "Tensor": ...
        def atanh(self) -> "Tensor": ...
        def log2(self) -> "Tensor": ...
        def log10(self) -> "Tensor": ...
        def exp2(self) -> "Tensor": ...
        def expm1(self) -> "Tensor": ...
        def log1p(self) -> "Tensor": ...
        def rsqrt(self) -> "Tensor": ...
        def logaddexp(self, other: "Tensor | float") -> "Tensor": ...
        def copysign(self, other: "Tensor | float") -> "Tensor": ...
        def lerp(self, end: "Tensor | float", weight: "Tensor | float") -> "Tensor": ...
        def isnan(self) -> "Tensor": ...
        def isinf(self) -> "Tensor": ...
        def isfinite(self) -> "Tensor": ...
        def isclose(
            self, other: "Tensor | float", rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
        ) -> "Tensor": ...
        def allclose(
            self, other: "Tensor | float", rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
        ) -> bool: ...
        def logical_and(self, other: "Tensor | float", /) -> "Tensor": ...
        def logical_or(self, other: "Tensor | float", /) -> "Tensor": ...
        def logical_xor(self, other: "Tensor | float", /) -> "Tensor": ...
        def logical_not(self) -> "Tensor": ...
        def bitwise_and(self, other: "Tensor | bool | int", /) -> "Tensor": ...
        def bitwise_or(self, other: "Tensor | bool | int", /) -> "Tensor": ...
        def bitwise_xor(self, other: "Tensor | bool | int", /) -> "Tensor": ...
        def bitwise_not(self) -> "Tensor": ...

    # -- dtype conversions: last in the class -------------------------------------------------
    # From here to the end of the class body a type checker reads `float`, `int` and `bool` as
    # these methods, not the builtins, so no annotation may follow them.

    def float(self) -> "Tensor":
        return self.to(dtype=dtypes.float32)

    def double(self) -> "Tensor":
        return self.to(dtype=dtypes.float64)

    def long(self) -> "Tensor":
        return self.to(dtype=dtypes.int64)

    def int(self) -> "Tensor":
        return self.to(dtype=dtypes.int32)

    def bool(self) -> "Tensor":
        return self.to(dtype=dtypes.bool_)


DeviceLike = str | _device.Device  # what a device= argument takes: 'cpu', 'cuda:1', t.device


def to_arguments(
    args: Sequence[Any], dtype: DTypeLike | None = None, device: DeviceLike | None = None
) -> tuple[DTypeLike | None, _device.Device | None]:
    """The (dtype, device) that ``to(*args, dtype=..., device=...)`` asks for, read one way for
    ``Tensor.to`` and ``Module.to``: a string or a device is the device, a tensor gives its dtype
    and device, anything else is a dtype. None for what is not asked for."""
    for a in args:
        if isinstance(a, (str, _device.Device)):
            device = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        else:
            dtype = a
    return dtype, (_device.Device(device) if device is not None else None)


_KIND_NAMES = {"b": "bool", "i": "integer", "u": "integer", "f": "floating point", "c": "complex"}


def _assign(data: Any, value: Any) -> None:
    data[...] = value


def _check_dim(dim, ndim, op):
    """A dimension index, negative ones counted from the end, or a clear IndexError."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, numpy.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s)")
    return int(dim) % n
