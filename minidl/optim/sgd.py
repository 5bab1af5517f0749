"""Stochastic gradient descent, with momentum, Nesterov momentum, weight decay: PyTorch's algorithm.

For each parameter p with gradient ∇ (lr γ, momentum μ, dampening τ, weight decay λ):

    g   = -∇ if maximize else ∇
    g   = g + λ p                              (weight decay: the gradient of λ/2 |p|²)
    b_1 = g,   b_t = μ b_{t-1} + (1 - τ) g     (momentum buffer; only when μ ≠ 0)
    g   = g + μ b_t   if nesterov   else   b_t
    p   = p - γ g

The buffer starts as the first gradient itself, not as zeros, so the first step is a plain
gradient step whatever μ is. Nesterov looks ahead along the buffer; it needs μ > 0 and τ = 0.
"""

from typing import Any

from ..autograd.tensor import Tensor
from .optimizer import Group, Optimizer, ParamsT


class SGD(Optimizer):
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=bool(nesterov),
                maximize=bool(maximize),
            ),
        )

    number_bounds = {
        "lr": (0.0, None),
        "momentum": (0.0, None),
        "dampening": (None, None),
        "weight_decay": (0.0, None),
    }

    def _check_group(self, group: Group, where: str) -> None:
        super()._check_group(group, where)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov momentum needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}{where}"
            )

    def _update(self, p: Tensor, grad: Tensor, group: Group, state: dict[str, Any]) -> None:
        momentum = group["momentum"]
        grad = self._gradient(p, grad, group)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # a copy: the buffer is updated in place later and must not be p.grad itself
                buf = state["momentum_buffer"] = grad.clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])
