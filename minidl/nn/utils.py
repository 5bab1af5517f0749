"""Training helpers over parameters: gradient clipping.

``clip_grad_norm_`` treats the gradients of all parameters as one long vector g, and when its norm
||g|| exceeds max_norm scales every gradient by max_norm / ||g||: the direction of the step is
kept, only its length is capped. That tames the rare huge gradient (exploding RNN gradients, a bad
batch) without changing ordinary steps.
"""
import math

from .. import factories
from .. import functional as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients in place so that their total ``norm_type`` norm is at most ``max_norm``.

    parameters: a tensor or an iterable of tensors (those without .grad are skipped)
    norm_type: p of the p-norm, or float('inf') for the largest absolute value
    Returns the total norm before clipping, as a 0-d tensor: (sum_i ||g_i||_p^p)^(1/p).
    """
    params = _with_grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return factories.tensor(0.0)
    with no_grad():
        grads = [p.grad.detach() for p in params]
        if math.isinf(norm_type):
            total = F.stack([g.abs().amax() for g in grads]).amax()
        else:
            # the norm of the per-tensor norms is the norm of the whole concatenated vector
            norms = F.stack([(g.abs() ** norm_type).sum() ** (1.0 / norm_type) for g in grads])
            total = (norms ** norm_type).sum() ** (1.0 / norm_type)
        value = float(total.item())
        if error_if_nonfinite and not math.isfinite(value):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                               f"{value}; pass error_if_nonfinite=False to clip anyway")
        # 1e-6 keeps the factor finite for a zero norm (then it is > 1 and nothing changes)
        coef = max_norm / (value + 1e-6)
        if coef < 1:
            for p in params:
                p.grad.mul_(coef)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _with_grads(parameters):
            p.grad.data[...] = F.clamp(p.grad.detach(), -clip_value, clip_value).data
