"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter).

With weight decay λ and lr γ, each step first shrinks the parameter, then takes Adam's step with
the plain gradient (no λp in it):

    p = p · (1 - γ λ)
    p = p - γ / (1 - β1^t) · m_t / (sqrt(v̂_t) / sqrt(1 - β2^t) + ε)      (moments of g, as in Adam)

Why: in Adam, a decay added to the gradient is divided by sqrt(v̂) like everything else, so
parameters with large gradients are barely decayed. Decoupled, every parameter shrinks at the same
rate γλ. The default decay is 1e-2 (Adam's is 0), as in PyTorch.
"""

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
