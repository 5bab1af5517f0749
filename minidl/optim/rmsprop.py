"""RMSprop: gradient steps divided by a running root mean square of the gradient (Hinton).

For each parameter p with gradient ∇ (lr γ, smoothing α, eps ε, decay λ, momentum μ):

    g   = -∇ if maximize else ∇
    g   = g + λ p                                   (L2 weight decay)
    v_t = α v_{t-1} + (1 - α) g²                    (running mean of g², v_0 = 0)
    a_t = α a_{t-1} + (1 - α) g                     (running mean of g, only when centered)
    d   = sqrt(v_t - a_t²) + ε  if centered  else  sqrt(v_t) + ε
    b_t = μ b_{t-1} + g / d,   p = p - γ b_t        when μ > 0   (b_0 = 0)
    p   = p - γ g / d                               otherwise

Centered divides by an estimate of the gradient's standard deviation instead of its RMS. There is
no bias correction (unlike Adam), so early steps are large: v_1 = (1 - α) g².
"""

from typing import Any

from ..autograd.tensor import Tensor
from .optimizer import Group, Optimizer, ParamsT


class RMSprop(Optimizer):
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=bool(centered),
                maximize=bool(maximize),
            ),
        )

    number_bounds = {key: (0.0, None) for key in ("lr", "alpha", "eps", "weight_decay", "momentum")}

    def _update(self, p: Tensor, grad: Tensor, group: Group, state: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        grad = self._gradient(p, grad, group)

        state["step"] = state.get("step", 0) + 1
        v = self._buffer(state, "square_avg", p).mul_(alpha).add_(grad * grad, alpha=1 - alpha)
        if group["centered"]:
            a = self._buffer(state, "grad_avg", p).mul_(alpha).add_(grad, alpha=1 - alpha)
            denom = (v - a * a).sqrt() + group["eps"]
        else:
            denom = v.sqrt() + group["eps"]

        if momentum > 0:
            buf = self._buffer(state, "momentum_buffer", p).mul_(momentum).add_(grad / denom)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.add_(grad / denom, alpha=-group["lr"])
