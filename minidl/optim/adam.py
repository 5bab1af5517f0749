"""Adam: gradient steps scaled per coordinate by running moments of the gradient (Kingma & Ba).

For each parameter p with gradient ∇ at step t = 1, 2, ... (lr γ, betas β1 β2, eps ε, decay λ):

    g   = -∇ if maximize else ∇
    g   = g + λ p                                  (L2 weight decay, added to the gradient)
    m_t = β1 m_{t-1} + (1 - β1) g                  (first moment,  m_0 = 0)
    v_t = β2 v_{t-1} + (1 - β2) g²                 (second moment, v_0 = 0)
    v̂_t = max(v̂_{t-1}, v_t) if amsgrad else v_t   (AMSGrad: the denominator never shrinks)
    p   = p - γ / (1 - β1^t) · m_t / (sqrt(v̂_t) / sqrt(1 - β2^t) + ε)

The moments start at zero and so are biased towards it early on; dividing by 1 - β^t removes that
bias. ε is added after the bias correction, as PyTorch does, so results match it.

``AdamW`` (adamw.py) is the same algorithm with the decay taken out of the gradient.
"""

import math
from typing import Any

from ..autograd.tensor import Tensor
from ..functional import maximum
from .optimizer import Group, Optimizer, ParamsT


class Adam(Optimizer):
    # AdamW sets this: decay p directly (p *= 1 - γλ) instead of adding λp to the gradient
    decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=bool(amsgrad),
                maximize=bool(maximize),
            ),
        )

    number_bounds = {key: (0.0, None) for key in ("lr", "eps", "weight_decay")}

    def _check_group(self, group: Group, where: str) -> None:
        super()._check_group(group, where)
        name = type(self).__name__
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}{where}")
        group["betas"] = tuple(betas)  # a list saved and loaded back stays the tuple PyTorch uses
        for i, beta in enumerate(betas):
            self._check_number(f"betas[{i}]", beta, where, low=0.0, below=1.0)

    def _update(self, p: Tensor, grad: Tensor, group: Group, state: dict[str, Any]) -> None:
        lr, weight_decay, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        grad = self._gradient(p, grad, group, l2_decay=not self.decoupled_weight_decay)
        if self.decoupled_weight_decay and weight_decay != 0:
            p.mul_(1 - lr * weight_decay)

        state["step"] = t = state.get("step", 0) + 1
        m = self._buffer(state, "exp_avg", p).mul_(beta1).add_(grad, alpha=1 - beta1)
        v = self._buffer(state, "exp_avg_sq", p).mul_(beta2).add_(grad * grad, alpha=1 - beta2)
        if group["amsgrad"]:
            v_max = self._buffer(state, "max_exp_avg_sq", p)
            v = v_max.copy_(maximum(v_max, v))

        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = v.sqrt() / math.sqrt(bias_correction2) + eps
        p.add_(m / denom, alpha=-lr / bias_correction1)
