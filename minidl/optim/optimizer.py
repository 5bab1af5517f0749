"""``Optimizer``: what every optimizer shares, so that each subclass is only its update rule.

An optimizer holds

    param_groups  a list of dicts: {'params': [tensors], 'lr': ..., other hyper-parameters}.
                  Each group may override the defaults (a smaller lr for a pretrained backbone).
    state         a dict from parameter to its own dict of buffers (momentum, running moments, step).

``step()`` walks every parameter that has a gradient and calls the subclass's
``_update(p, grad, group, state)`` under ``no_grad``: an update is a change of the data, never
part of the graph. Writing a new optimizer is writing that one method:

    class SignSGD(Optimizer):
        '''p <- p - lr * sign(g)'''
        def __init__(self, params, lr=1e-3):
            super().__init__(params, dict(lr=lr))

        def _update(self, p: Tensor, grad: Tensor, group: Group, state: dict[str, Any]) -> None:
            p.sub_(grad.sign(), alpha=group["lr"])

``state_dict()`` / ``load_state_dict()`` use PyTorch's layout, with parameters replaced by their
position (counted over all groups, in order), because tensors themselves cannot be saved as keys:

    {'state': {0: {'momentum_buffer': tensor}, ...},
     'param_groups': [{'lr': 0.1, ..., 'params': [0, 1]}, {'lr': 0.01, ..., 'params': [2]}]}
"""

import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from ..factories import zeros_like

# What an optimizer is given: tensors, or parameter groups ({'params': [...], 'lr': ...}).
ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
# One parameter group once added: its 'params' list and its hyper-parameters.
Group = dict[str, Any]


class Optimizer:
    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        # Check the defaults on their own first, so that `SGD(ps, lr=-1)` is reported as the
        # argument it is, not as a property of "parameter group 0".
        self._check_group(self.defaults, where="")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[Group] = []

        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of dicts (parameter "
                f"groups), got a single Tensor; pass [tensor]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: params must be an ordered collection (a list); a set has no fixed "
                f"order, so a saved state_dict would not match the parameters when loaded"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of dicts; for one "
                f"parameter group pass a list holding the dict: [{{'params': ..., 'lr': ...}}]"
            )
        try:
            groups: list[Any] = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of dicts, got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError(
                f"{name}: got an empty parameter list (did the model create its "
                f"parameters, and was model.parameters() consumed already?)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups ---------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones from the defaults)."""
        name = type(self).__name__
        where = f" in parameter group {len(self.param_groups)}"
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a parameter group must be a dict with a 'params' entry, got "
                f"{type(param_group).__name__} (do not mix tensors and groups in one list)"
            )
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry{where}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: the params of a group must be an ordered collection (a list), not a set{where}"
            )
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: a parameter group has no parameters{where}")

        # Tensors compare elementwise with ==, so membership is tested by identity (id), never `in`.
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: can only optimize tensors, but parameter {i}{where} is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: cannot optimize a non-leaf tensor (parameter {i}{where} was "
                    f"computed by {p.grad_fn!r}); optimize the tensor it was computed from"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{name}: parameter {i}{where} appears twice in its group; it would "
                    f"be updated twice per step"
                )
            seen.add(id(p))
        for group in self.param_groups:
            if any(id(p) in seen for p in group["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group")

        group = dict(param_group)  # the caller's dict is left as it was
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group, where)
        self.param_groups.append(group)

    # The hyper-parameters that must be numbers, each with its bounds (low <= value < below, None:
    # unbounded), checked in this order; a subclass lists its own and checks the rest itself.
    number_bounds: dict[str, tuple[float | None, float | None]] = {"lr": (0.0, None)}

    def _check_group(self, group: Group, where: str) -> None:
        """Raise a clear error for a bad hyper-parameter (those of ``number_bounds``)."""
        for key, (low, below) in self.number_bounds.items():
            if key in group:
                self._check_number(key, group[key], where, low=low, below=below)

    def _check_number(
        self, key: str, value: Any, where: str, low: float | None = None, below: float | None = None
    ) -> None:
        """Hyper-parameter ``key`` must be a real number with ``low <= value`` (and ``value < below``)."""
        name = type(self).__name__
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{name}: {key} must be a number, got {value!r}{where}")
        number = float(value)
        if low is not None and not number >= low:  # `not >=` also catches NaN
            raise ValueError(f"{name}: {key} must be >= {low}, got {value}{where}")
        if below is not None and not number < below:
            raise ValueError(f"{name}: {key} must be < {below}, got {value}{where}")

    # -- a training step ------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (the default), or fill them with zeros.

        None is cheaper (no memory is written) and lets ``step`` skip parameters that received no
        gradient since; zeros keep the tensors, for code that reads ``p.grad`` unconditionally.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:  # a gradient built with create_graph=True
                        p.grad = p.grad.detach()
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        ``closure`` re-evaluates the model and returns the loss (optimizers that need several
        evaluations per step call it; here it is called once, before the update, with recording on).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue  # not used in this loss: nothing to learn from
                    if p.grad.shape != p.shape:
                        raise ValueError(
                            f"{type(self).__name__}.step: a parameter of shape {p.shape} "
                            f"has a gradient of shape {p.grad.shape}"
                        )
                    self._update(p, p.grad, group, self.state[p])
        return loss

    def _update(self, p: Tensor, grad: Tensor, group: Group, state: dict[str, Any]) -> None:
        """Change ``p`` in place from its gradient; ``state`` is p's own dict of buffers."""
        raise NotImplementedError(f"{type(self).__name__} must define _update(p, grad, group, state)")

    @staticmethod
    def _gradient(p: Tensor, grad: Tensor, group: Group, l2_decay: bool = True) -> Tensor:
        """g = -∇ if maximize else ∇, plus λp when the weight decay is L2 (added to the gradient)."""
        if group["maximize"]:
            grad = -grad
        if l2_decay and group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        return grad

    @staticmethod
    def _buffer(state: dict[str, Any], key: str, p: Tensor) -> Tensor:
        """``state[key]``, created as zeros shaped like ``p`` the first time it is asked for."""
        if key not in state:
            state[key] = zeros_like(p)
        return state[key]

    # -- saving and resuming --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the state and hyper-parameters, parameters written as their positions.

        Tensors are detached copies: later steps do not change a state dict already taken (PyTorch
        returns live references; a copy costs memory once per checkpoint and removes a surprise).
        """
        position: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for p in group["params"]:
                position.setdefault(id(p), len(position))
            packed["params"] = [position[id(p)] for p in group["params"]]
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):  # .get: looking must not create entries in the defaultdict
                    state[position[id(p)]] = {key: _snapshot(value) for key, value in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from ``state_dict()``: the same groups with the same sizes, in the same order.

        Saved tensors are copied onto each parameter's device and (floating ones) its dtype. The
        optimizer is changed only once everything has been checked.
        """
        name = type(self).__name__
        if (
            not isinstance(state_dict, dict)
            or not isinstance(state_dict.get("state"), dict)
            or not isinstance(state_dict.get("param_groups"), (list, tuple))
        ):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' (a dict) and "
                f"'param_groups' (a list), as made by state_dict(); got "
                f"{_describe(state_dict)}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"group(s), this optimizer has {len(self.param_groups)}"
            )
        by_position: dict[Any, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} of the state dict is not "
                    f"a dict with a 'params' list"
                )
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                    f"parameter(s) here but {len(saved['params'])} in the state dict"
                )
            by_position.update(zip(saved["params"], group["params"]))

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for position, saved in state_dict["state"].items():
            if position not in by_position:
                raise ValueError(
                    f"{name}.load_state_dict: the state dict has state for parameter "
                    f"{position!r}, which none of its parameter groups lists"
                )
            p = by_position[position]
            state[p] = {
                key: _restore(value, p, f"{name}.load_state_dict: state {key!r} of parameter {position}")
                for key, value in saved.items()
            }

        groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new = {key: value for key, value in saved.items() if key != "params"}
            new["params"] = group["params"]
            for key, value in self.defaults.items():  # a checkpoint from before a hyper-parameter existed
                new.setdefault(key, value)
            self._check_group(new, f" in parameter group {i} of the loaded state dict")
            groups.append(new)
        self.state = state
        self.param_groups = groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def _snapshot(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, Tensor) else value


def _restore(value: Any, p: Tensor, what: str) -> Any:
    """A saved state value, as p's optimizer needs it: a tensor copied to p's device and dtype."""
    if not isinstance(value, Tensor):
        return value
    if value.ndim > 0 and value.shape != p.shape:
        # Buffers of the optimizers here are shaped like their parameter (0-d ones are scalars).
        raise ValueError(f"{what} has shape {value.shape}, but the parameter has shape {p.shape}")
    dtype = p.dtype if value.is_floating_point() else None
    return value.detach().to(device=p.device, dtype=dtype).clone()


def _describe(obj: object) -> str:
    if isinstance(obj, dict):
        return f"a dict with keys {sorted(map(str, obj))}"
    return f"a {type(obj).__name__}"
