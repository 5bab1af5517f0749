"""``Module``: the base class of every layer and model.

A Module is a tree. Its attributes register themselves by type, in ``__setattr__``:

    self.weight = Parameter(...)      ->  _parameters['weight']   (learned, in state_dict)
    self.fc = Linear(2, 3)            ->  _modules['fc']          (a child: recursed into)
    self.register_buffer('mean', t)   ->  _buffers['mean']        (state, not learned: running stats)

Everything else (ints, flags, plain tensors) is an ordinary attribute. Walking the tree gives
``parameters()``, ``state_dict()``, ``train()``/``eval()``, ``to()``. Names of nested entries are
dotted paths: ``'0.weight'``, ``'encoder.fc.bias'``.

``to(dtype)`` and ``to(device)`` change each parameter's and buffer's array *in place*: the
Parameter objects stay the same, so an optimizer built before the move keeps working.
"""

from __future__ import annotations

import collections
import collections.abc
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ..autograd import dtypes
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import DeviceLike, Tensor, to_arguments
from .parameter import Parameter

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
_M = TypeVar("_M", bound="Module")  # methods that return self return the caller's own type


def _check_name(kind: str, name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")


class Module:
    """Base class of layers and models: subclass it, set parameters and submodules as attributes in
    ``__init__`` (after ``super().__init__()``), and write ``forward``. Call the module, not
    ``forward``: ``model(x)``."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", collections.OrderedDict())
        object.__setattr__(self, "_buffers", collections.OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", collections.OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"Module [{type(self).__name__}] is missing the required 'forward' function"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- registration ---------------------------------------------------------------------------

    def _dicts(
        self,
    ) -> tuple[dict[str, Parameter | None], dict[str, Tensor | None], dict[str, Module | None]]:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign parameters, buffers or modules before Module.__init__() "
                f"is called: call super().__init__() first in {type(self).__name__}.__init__"
            )
        return self._parameters, self._buffers, self._modules

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            params, buffers, modules = self._dicts()
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            params, buffers, modules = self._dicts()
            self._forget(name)
            modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of "
                    f"{type(self).__name__} (a Parameter or None expected); wrap it: "
                    f"nn.Parameter(t), or update the values with .copy_() under no_grad"
                )
            self._parameters[name] = None
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} of "
                    f"{type(self).__name__} (a Module or None expected)"
                )
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of "
                    f"{type(self).__name__} (a Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Remove ``name`` from every registry and the plain attributes, before re-registering it."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the registered entries live in the three dicts.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_entry(self, kind: str, registry: str, name: str, value: object, expected: type) -> None:
        """What registering ``value`` as a ``kind`` under ``name`` needs: ``Module.__init__`` done, a
        valid name that is not a plain attribute already, and an ``expected`` instance or None."""
        self._dicts()
        _check_name(kind, name)
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
        if value is not None and not isinstance(value, expected):
            raise TypeError(
                f"cannot register {type(value).__name__} as {kind} {name!r} "
                f"(a {expected.__name__} or None expected)"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._check_entry("parameter", "_parameters", name, param, Parameter)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not learned (running statistics, masks).

        Buffers move with ``to()`` and, when ``persistent``, are saved in ``state_dict()``.
        """
        self._check_entry("buffer", "_buffers", name, tensor, Tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a child module under ``name`` (what ``self.name = module`` does)."""
        self._check_entry("module", "_modules", name, module, Module)
        self._modules[name] = module

    register_module = add_module

    # -- walking the tree ----------------------------------------------------------------------

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, each once, parents first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of the direct children, each module once."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        """(dotted name, tensor) from one registry of every module; a tensor shared between modules
        (tied weights) is listed once, under its first name."""
        seen: set[int] = set()
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner_name, module in owners:
            for name, t in getattr(module, registry).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{owner_name}.{name}" if owner_name else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of learned numbers (elements of every parameter, shared ones counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self: _M, fn: Callable[[Module], object]) -> _M:
        """Call ``fn(m)`` on every submodule (children first) and then on self; returns self.
        The usual use is custom initialisation: ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------------------------

    def train(self: _M, mode: bool = True) -> _M:
        """Set training mode (dropout active, batch norm on batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self: _M) -> _M:
        """Evaluation mode: dropout off, batch norm on its running statistics. Same as train(False)."""
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: to None (the default, frees the memory) or to zeros.

        Zeros are written with ``zero_()``, so the gradient's version counts the change: a graph
        that saved the old gradient (create_graph=True) refuses it in backward."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            elif p.grad.grad_fn is not None:  # a gradient built with create_graph: cut it loose
                p.grad = Tensor._make(p.grad.data * 0)
            else:
                with no_grad():
                    p.grad.zero_()

    # -- dtype and device, in place -----------------------------------------------------------

    def _convert(self: _M, fn: Callable[[Tensor], Tensor]) -> _M:
        """Replace the array of every parameter, its gradient, and every buffer by ``fn(tensor)``'s,
        keeping the tensor objects."""
        with no_grad():
            for t in itertools.chain(self.parameters(), self.buffers()):
                t.data = fn(t).data
                if t.grad is not None:
                    t.grad.data = fn(t.grad).data
        return self

    def to(self: _M, *args: Any, dtype: Any = None, device: DeviceLike | None = None) -> _M:
        """``to('cuda')``, ``to(minidl.float64)``, ``to('cpu', minidl.float32)``, in place; returns self.

        A dtype applies to floating-point parameters and buffers only (an int64 counter stays int64).
        """
        dtype, target = to_arguments(args, dtype, device)
        if dtype is not None and not dtypes.is_floating(dtype):
            raise TypeError(f"Module.to only accepts floating-point dtypes, got {dtype}")

        def convert(t: Tensor) -> Tensor:
            return t.to(dtype=dtype if t.is_floating_point() else None, device=target)

        return self._convert(convert)

    def float(self: _M) -> _M:
        return self.to(dtypes.float32)

    def double(self: _M) -> _M:
        return self.to(dtypes.float64)

    def cpu(self: _M) -> _M:
        return self.to("cpu")

    def cuda(self: _M) -> _M:
        return self.to("cuda")

    # -- saving and loading --------------------------------------------------------------------

    def _persistent_entries(self) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) of every parameter and persistent buffer, the state_dict's keys."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            head = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    yield head + name, p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    yield head + name, b

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> collections.OrderedDict[str, Tensor]:
        """An ordered dict: dotted name -> tensor, for every parameter and persistent buffer.

        The tensors are detached and share memory with the module (copy them to keep a snapshot:
        ``{k: v.clone() for k, v in sd.items()}``); ``keep_vars=True`` gives the Parameters themselves.
        A parameter shared by two submodules appears under both names, as in PyTorch.
        """
        out = collections.OrderedDict()
        for name, t in self._persistent_entries():
            out[prefix + name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the values of ``state_dict`` into this module's parameters and buffers.

        Every key is checked before anything is copied, so a failed load changes nothing. Wrong
        shapes are always an error; missing and unexpected keys are one when ``strict`` (else they
        are returned). Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to tensors, got {type(state_dict).__name__}"
            )
        own = collections.OrderedDict(self._persistent_entries())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, pairs = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                try:
                    value = Tensor(value)
                except (TypeError, ValueError):
                    problems.append(f"value for {key!r} is a {type(value).__name__}, not a tensor")
                    continue
            if tuple(value.shape) != tuple(target.shape):
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}"
                )
                continue
            pairs.append((target, value))
        if strict:
            if missing:
                problems.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
                )
            if unexpected:
                problems.insert(
                    1 if missing else 0,
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".",
                )
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        with no_grad():
            for target, value in pairs:
                # to the target's device first (copy_ between devices would fail); the dtype is
                # cast by the copy itself
                target.copy_(value.detach().to(device=target.device))
        return IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (its settings); '' by default."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not self._modules and len(lines) <= 1:
            return f"{self._get_name()}({extra})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        names = list(super().__dir__())
        return sorted(set(names + list(self._parameters) + list(self._buffers) + list(self._modules)))
