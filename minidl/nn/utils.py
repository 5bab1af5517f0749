"""Training helpers over parameters: gradient clipping.

``clip_grad_norm_`` treats the gradients of all parameters as one long vector g, and when its norm
||g|| exceeds max_norm scales every gradient by max_norm / ||g||: the direction of the step is
kept, only its length is capped. That tames the rare huge gradient (exploding RNN gradients, a bad
batch) without changing ordinary steps.
"""

import math
from collections.abc import Iterable

from .. import factories
from .. import functional as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The gradients (the ``p.grad`` tensors themselves) of the parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients in place so that their total ``norm_type`` norm is at most ``max_norm``.

    parameters: a tensor or an iterable of tensors (those without .grad are skipped)
    norm_type: p of the p-norm, or float('inf') for the largest absolute value
    Returns the total norm before clipping, as a 0-d tensor: (sum_i ||g_i||_p^p)^(1/p).
    """
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return factories.tensor(0.0)
    with no_grad():
        detached = [g.detach() for g in grads]
        if math.isinf(norm_type):
            total = F.stack([g.abs().amax() for g in detached]).amax()
        else:
            # the norm of the per-tensor norms is the norm of the whole concatenated vector
            norms = F.stack([(g.abs() ** norm_type).sum() ** (1.0 / norm_type) for g in detached])
            total = (norms**norm_type).sum() ** (1.0 / norm_type)
        value = float(total.item())
        if error_if_nonfinite and not math.isfinite(value):
            raise RuntimeError(
                f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                f"{value}; pass error_if_nonfinite=False to clip anyway"
            )
        # 1e-6 keeps the factor finite for a zero norm (then it is > 1 and nothing changes)
        coef = max_norm / (value + 1e-6)
        if coef < 1:
            for g in grads:
                g.mul_(coef)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.copy_(F.clamp(g.detach(), -clip_value, clip_value))  # in place, counted in g's version
