"""Learning-rate schedules: change each parameter group's ``lr`` as training goes on.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch()            # ... optimizer.step() ...
        scheduler.step()             # then move the schedule on: epoch 30 uses lr * 0.1

A scheduler counts its steps in ``last_epoch`` (0 right after construction; construction already
sets the lr for step 0) and writes ``group['lr']`` itself, so the optimizer needs to know nothing
about it. ``base_lrs`` are the groups' learning rates at the start, kept in ``group['initial_lr']``.

Below, t is ``last_epoch`` and η₀ a group's base lr. As in PyTorch, StepLR, MultiStepLR,
ExponentialLR and CosineAnnealingLR are computed *recursively* from the group's current lr (so two
schedulers can be chained: each multiplies in its own factor); without outside changes the result
is the closed form given in each docstring. LambdaLR and OneCycleLR use their closed forms.
"""

import copy
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from .optimizer import Group, Optimizer


class LRScheduler:
    # attributes that state_dict() leaves out (functions cannot be saved without pickle)
    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{type(self).__name__}: last_epoch must be an int >= -1, got {last_epoch!r}")
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: resuming at last_epoch={last_epoch}, but "
                        f"param_groups[{i}] has no 'initial_lr'; load the optimizer's "
                        f"state_dict first, or start with last_epoch=-1"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        # The first step, taken here, sets the lr of step 0. Recursive schedules leave the lr as it
        # is then (there is nothing to multiply yet); `_is_initial` tells them so.
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for step ``last_epoch``, one per parameter group."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self) -> None:
        """Move to the next step and write its learning rates into the optimizer's groups."""
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
        except Exception:
            self.last_epoch -= 1  # a refused step (e.g. past OneCycleLR's end) changes nothing
            raise
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set (one per group)."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything the schedule needs to continue, except the optimizer (saved on its own)."""
        return {
            key: copy.deepcopy(value) for key, value in self.__dict__.items() if key not in self._not_saved
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not isinstance(state_dict, dict) or "last_epoch" not in state_dict:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected the dict made by "
                f"state_dict() (with 'last_epoch'), got {type(state_dict).__name__}"
            )
        self.__dict__.update(
            copy.deepcopy({key: value for key, value in state_dict.items() if key not in self._not_saved})
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


def _positive_int(scheduler: str, name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{scheduler}: {name} must be a positive int, got {value!r}")
    return value


def _positive_number(scheduler: str, name: str, value: Any) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not float(value) > 0:
        raise ValueError(f"{scheduler}: {name} must be a number > 0, got {value!r}")
    return float(value)


class StepLR(LRScheduler):
    """Decay by ``gamma`` every ``step_size`` steps:  η_t = η₀ · γ^⌊t / step_size⌋."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _positive_int("StepLR", "step_size", step_size)
        self.gamma = _positive_number("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """Decay by ``gamma`` at each milestone:  η_t = η₀ · γ^(number of milestones ≤ t).

    A milestone listed twice decays twice there.
    """

    def __init__(
        self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        milestones = list(milestones)
        for m in milestones:
            if not isinstance(m, int) or isinstance(m, bool) or m < 0:
                raise ValueError(f"MultiStepLR: milestones must be ints >= 0, got {milestones!r}")
        self.milestones = sorted(milestones)
        self.gamma = _positive_number("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if self._is_initial or hits == 0:
            return self._current_lrs()
        return [lr * self.gamma**hits for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Decay by ``gamma`` every step:  η_t = η₀ · γ^t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _positive_number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch == 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from η₀ down to ``eta_min`` over ``T_max`` steps (and back up after, as in PyTorch):

        η_t = η_min + (η₀ - η_min) · (1 + cos(π t / T_max)) / 2

    Computed as the ratio of consecutive values, η_t = η_min + (η_{t-1} - η_min) · (1 + cos(π t/T)) /
    (1 + cos(π (t-1)/T)), except where that ratio is 0/0 (t - 1 = T_max, 3 T_max, ...), where the
    closed-form difference is added instead.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = _positive_int("CosineAnnealingLR", "T_max", T_max)
        if not isinstance(eta_min, numbers.Real) or isinstance(eta_min, bool) or float(eta_min) < 0:
            raise ValueError(f"CosineAnnealingLR: eta_min must be a number >= 0, got {eta_min!r}")
        self.eta_min: float = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial or t == 0:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum: the ratio below would be 0/0
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(self._current_lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [eta_min + (lr - eta_min) * ratio for lr in self._current_lrs()]


class LambdaLR(LRScheduler):
    """The base lr times a function of the step:  η_t = η₀ · f(t).

    ``lr_lambda`` is one function, or a list with one per parameter group. The functions are not
    in ``state_dict()`` (saving code is what our checkpoints refuse to do); pass them again.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(
                    f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the step, got {f!r}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): warm up to ``max_lr``, then anneal far below the start.

    With T = total_steps, η_start = max_lr / div_factor, η_end = η_start / final_div_factor, the
    schedule is a chain of phases, each annealing from one value to the next as its fraction p goes
    from 0 to 1 (cos: b + (a - b)(1 + cos πp)/2, linear: a + (b - a) p):

        two phases:   η_start → max_lr over steps [0, pct_start·T - 1],  max_lr → η_end until T - 1
        three_phase:  η_start → max_lr → η_start (ending at 2·pct_start·T - 2) → η_end until T - 1

    With ``cycle_momentum``, momentum (or Adam's β1) moves the opposite way, max_momentum →
    base_momentum while the lr rises, and back. The lr is set per *batch*: call ``step()`` after
    each ``optimizer.step()``; stepping more than ``total_steps`` times is an error.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            self.total_steps = _positive_int("OneCycleLR", "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _positive_int("OneCycleLR", "epochs", epochs) * _positive_int(
                "OneCycleLR", "steps_per_epoch", steps_per_epoch
            )
        else:
            raise ValueError("OneCycleLR: give either total_steps, or both epochs and steps_per_epoch")
        if (
            not isinstance(pct_start, numbers.Real)
            or isinstance(pct_start, bool)
            or not 0 <= float(pct_start) <= 1
        ):
            raise ValueError(f"OneCycleLR: pct_start must be a number in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        _positive_number("OneCycleLR", "div_factor", div_factor)
        _positive_number("OneCycleLR", "final_div_factor", final_div_factor)
        self.anneal_strategy: str = anneal_strategy

        T = self.total_steps
        # Each phase: the step it ends at, and the group entries it anneals lr and momentum between.
        warm_up = (float(pct_start * T) - 1, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum"))
        if three_phase:
            rows = [
                warm_up,
                (float(2 * pct_start * T) - 2, ("max_lr", "initial_lr"), ("base_momentum", "max_momentum")),
                (T - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")),
            ]
        else:
            rows = [warm_up, (T - 1, ("max_lr", "min_lr"), ("base_momentum", "max_momentum"))]
        self._phases: list[dict[str, Any]] = [
            dict(end_step=end, start_lr=lr[0], end_lr=lr[1], start_momentum=mom[0], end_momentum=mom[1])
            for end, lr, mom in rows
        ]

        groups = optimizer.param_groups
        max_lrs = _per_group("max_lr", max_lr, groups)
        for value in max_lrs:
            _positive_number("OneCycleLR", "max_lr", value)
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum: bool = bool(cycle_momentum)
        if self.cycle_momentum:
            defaults = optimizer.defaults
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(
                    f"OneCycleLR: cycle_momentum=True needs an optimizer with momentum or "
                    f"betas, and {type(optimizer).__name__} has neither; pass "
                    f"cycle_momentum=False"
                )
            self.use_beta1: bool = "betas" in defaults
            if last_epoch == -1:
                for group, top, base in zip(
                    groups,
                    _per_group("max_momentum", max_momentum, groups),
                    _per_group("base_momentum", base_momentum, groups),
                ):
                    self._set_momentum(group, top)
                    group["max_momentum"] = top
                    group["base_momentum"] = base
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: Group, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, but total_steps is "
                f"{self.total_steps}; make the schedule longer or stop stepping it"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self._phases) - 1:
                    # a phase of length 0 (tiny pct_start) is already over
                    pct = (step - start_step) / (end_step - start_step) if end_step > start_step else 1.0
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(
                            group,
                            self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct),
                        )
                    break
                start_step = end_step
        return lrs


def _per_group(name: str, value: Any, groups: list[Group]) -> list[Any]:
    """One value per parameter group: a list of them, or one value for every group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(
                f"OneCycleLR: {name} has {len(value)} values, but the optimizer has "
                f"{len(groups)} parameter groups"
            )
        return list(value)
    return [value] * len(groups)
