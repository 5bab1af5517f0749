"""Losses, with the names, arguments and semantics of ``torch.nn.functional``.

    cross_entropy(input, target)       log_softmax (native kernel) + nll_loss, optional label smoothing
    nll_loss(input, target)            -weight[t] * input[n, t], input holding log-probabilities
    mse_loss, l1_loss                  (input - target)^2, |input - target|
    binary_cross_entropy               -w (t log p + (1 - t) log(1 - p)), each log clamped at -100
    binary_cross_entropy_with_logits   the same from logits x (p = sigmoid(x)), in a form that
                                       never overflows

``reduction`` is 'mean' (default), 'sum' or 'none' (one loss per element / per target).

Class-index targets (cross_entropy, nll_loss): input is (N, C) or (N, C, d1, d2, ...) or (C,) for
one sample; target holds integers in [0, C), shaped (N,) or (N, d1, d2, ...) or (). Targets equal to
``ignore_index`` contribute nothing, and 'mean' divides by the summed class weights of the targets
that are not ignored (by their count without weights): with every target ignored that is 0/0 = NaN,
as in PyTorch.
"""

import math
from typing import Any

import numpy

from ..autograd.convert import cast
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from . import elementwise as ew
from ._util import ensure_tensor
from .activation import log_softmax, softplus

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------------------------------
# Checks and helpers shared by the losses


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def _as_tensor(x, op, name):
    """A target or weight as a Tensor on the device it already lives on (a NumPy array stays on the
    CPU: a mismatch with the input is then reported, never fixed by a silent copy)."""
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "dtype") and hasattr(x, "shape"):  # a NumPy or CuPy array
        return Tensor._make(x)
    try:
        return Tensor(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}: {err}") from None


def _same_device(op, input, **others):
    for name, t in others.items():
        if t is not None and t.device != input.device:
            raise RuntimeError(
                f"{op}: input is on {input.device} but {name} is on {t.device}; move one with .to()"
            )


def _check_float_input(op, input):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype} (shape {input.shape})")


def _same_shape(op, input, target):
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} differ; "
            f"they must be equal (broadcasting them is almost always a bug: reshape one)"
        )


# ---------------------------------------------------------------------------------------------
# Class-index targets: nll_loss and cross_entropy


def _class_weight(op, weight, classes, input):
    if weight is None:
        return None
    weight = _as_tensor(weight, op, "weight")
    _same_device(op, input, weight=weight)
    if weight.ndim != 1 or weight.shape[0] != classes or weight.dtype.kind != "f":
        raise ValueError(
            f"{op}: weight must be a 1-d float tensor of {classes} class weights, "
            f"got shape {weight.shape} and dtype {weight.dtype}"
        )
    return cast(weight, input.dtype)


def _class_targets(op, input, target, ignore_index):
    """The target as an integer array of the batch shape, checked against the input (>= 1-d)."""
    t = target.data
    if t.dtype.kind not in "iu":  # bool is kind 'b': not a class index either
        raise TypeError(
            f"{op}: class-index targets must be integers (int64), got {t.dtype} "
            f"(target shape {target.shape}, input shape {input.shape})"
        )
    # (C,) -> (); (N, C) -> (N,); (N, C, d1, ...) -> (N, d1, ...)
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{op}: target shape {target.shape} does not match input shape {input.shape}: "
            f"expected target shape {expected} (the input's shape without its class "
            f"dimension)"
        )
    classes = input.shape[0 if input.ndim == 1 else 1]
    counted = t != ignore_index
    out_of_range = counted & ((t < 0) | (t >= classes))
    if out_of_range.any():
        bad = int(t[out_of_range].reshape(-1)[0])
        raise IndexError(
            f"{op}: target {bad} is out of range for {classes} classes "
            f"(expected 0 <= target < {classes}, or ignore_index={ignore_index})"
        )
    return t


def _class_rows(input):
    """input (N, C, d1, ...) as (N*d1*..., C): one row of class scores per target. (C,) -> (1, C)."""
    if input.ndim == 1:
        return input.reshape(1, input.shape[0])
    if input.ndim == 2:
        return input  # already one row per target: no op, no copy
    input = input.permute(0, *range(2, input.ndim), 1)  # the class dim last
    return input.reshape(-1, input.shape[-1])


def _nll_terms(op, logp, target, weight, ignore_index):
    """The parts of a negative log-likelihood over class-index targets.

    logp: (N, C, d1, ...) log-probabilities (or (C,)); target: Tensor (N, d1, ...) (or ()).
    Returns, with M = N*d1*... the number of targets:
      gains   (M,)    weight[t] * logp[.., t, ..], 0 where the target is ignored: the losses are
                      -gains. The sign is left to _reduce_nll, where it costs no extra op.
      total           what 'mean' divides by: the summed weight[t] of the counted targets (their
                      number without class weights), a tensor or a Python number
      rows    (M, C)  logp with one row per target (label smoothing needs every class)
      mask            (M,) tensor, 1 where counted and 0 where the target is ignore_index; None
                      when every target counts
    The common case, no class weights and nothing ignored, takes the fewest ops: for small
    batches their Python overhead is the whole cost.
    """
    t = _class_targets(op, logp, target, ignore_index).reshape(-1)
    xp = xp_of(t)
    counted = t != ignore_index
    rows = _class_rows(logp)
    if bool(counted.all()):
        mask, safe = None, t.astype(xp.int64, copy=False)
    else:
        mask = Tensor._make(counted.astype(logp.dtype))
        # An ignored target still needs some class to pick; 0 is always valid, and its weight is 0.
        safe = xp.where(counted, t, 0).astype(xp.int64)
    picked = rows[xp.arange(safe.shape[0]), safe]  # rows[i, t[i]]: indexing.py's GetItem
    if weight is None:
        weights = mask
        total = float(t.shape[0]) if mask is None else mask.sum()
    else:
        weights = weight[safe] if mask is None else weight[safe] * mask
        total = weights.sum()
    gains = picked if weights is None else picked * weights
    return gains, total, rows, mask


def _reduce_nll(gains, total, reduction, shape):
    """The losses -gains, reduced: 'none' (shaped like the target), 'sum', or 'mean' = sum / total.
    With every target ignored, 'mean' is 0/0 = NaN, silently (as in PyTorch)."""
    if reduction == "none":
        return (-gains).reshape(shape)
    if reduction == "sum":
        return -gains.sum()
    if isinstance(total, float):
        # -sum / total as one multiply; an empty batch (total 0) gives NaN like 0/0 would
        return gains.sum() * (-1.0 / total if total else math.nan)
    with numpy.errstate(invalid="ignore", divide="ignore"):
        return gains.sum() / -total


def nll_loss(
    input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood: -weight[t] * input[n, t], for input holding log-probabilities
    (the output of log_softmax).

    input: (N, C), (N, C, d1, ...) or (C,);  target: integers, (N,), (N, d1, ...) or ()
    weight: (C,) class weights or None.  Returns a scalar, or the target's shape for 'none'.
    'mean' is sum(losses) / sum(weight[t]) over the targets that are not ignore_index.
    """
    op = "nll_loss"
    ensure_tensor(input, op)
    _check_reduction(op, reduction)
    _check_float_input(op, input)
    if input.ndim == 0:
        raise ValueError(
            f"{op}: input must have a class dimension: (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor"
        )
    target = _as_tensor(target, op, "target")
    _same_device(op, input, target=target)
    weight = _class_weight(op, weight, input.shape[0 if input.ndim == 1 else 1], input)
    gains, total, _, _ = _nll_terms(op, input, target, weight, ignore_index)
    return _reduce_nll(gains, total, reduction, target.shape)


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between softmax(input) over the class dim and the target:
    nll_loss(log_softmax(input, class_dim), target, ...), the log-softmax on the native kernel.

    input: (N, C), (N, C, d1, ...) or (C,) raw scores (logits)
    target: class indices (integers) shaped like the input without its class dim, or class
            probabilities (floats) shaped like the input
    weight: (C,) class weights or None
    label_smoothing: eps in [0, 1]: the target becomes (1 - eps) * one_hot + eps / C, i.e. the loss
            is (1 - eps) * nll + eps / C * sum_c(-weight[c] * log p_c), each term reduced like nll
            (for 'mean', both are divided by the summed weights of the counted targets).
    Returns a scalar, or the target's (batch) shape for reduction='none'.
    """
    op = "cross_entropy"
    ensure_tensor(input, op)
    _check_reduction(op, reduction)
    _check_float_input(op, input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError(
            f"{op}: input must have a class dimension: (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor"
        )
    target = _as_tensor(target, op, "target")
    _same_device(op, input, target=target)
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    weight = _class_weight(op, weight, classes, input)
    logp = log_softmax(input, class_dim)

    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(
            op, logp, target, weight, ignore_index, reduction, label_smoothing, class_dim
        )

    gains, total, rows, mask = _nll_terms(op, logp, target, weight, ignore_index)
    if label_smoothing > 0:
        # Each counted target also takes eps/C of every class: sum_c weight[c] log p_c per row.
        per_class = rows if weight is None else rows * weight
        smooth = per_class.sum(1) if mask is None else per_class.sum(1) * mask
        gains = (1 - label_smoothing) * gains + (label_smoothing / classes) * smooth
    return _reduce_nll(gains, total, reduction, target.shape)


def _cross_entropy_probabilities(
    op, logp, target, weight, ignore_index, reduction, label_smoothing, class_dim
):
    """cross_entropy with a distribution over the classes as the target (PyTorch's 'probabilities'
    form): -sum_c weight[c] target[.., c, ..] log p_c per sample; 'mean' divides by the number of
    samples (N * d1 * ...), whatever the weights."""
    if target.shape != logp.shape:
        raise ValueError(
            f"{op}: a float target is read as class probabilities and must have the input's shape "
            f"{logp.shape}, got {target.shape} ({target.dtype}); for class indices, pass integers (int64)"
        )
    if ignore_index >= 0:
        raise ValueError(
            f"{op}: ignore_index={ignore_index} applies to class-index targets only, not to probabilities"
        )
    target = cast(target, logp.dtype)
    classes = logp.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = logp * target
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = classes
        terms = terms * weight.reshape(shape)
    losses = -terms.sum(class_dim)
    return _reduce(losses, reduction)


# ---------------------------------------------------------------------------------------------
# Regression losses


def _regression_operands(op, input, target, reduction):
    ensure_tensor(input, op)
    _check_reduction(op, reduction)
    _check_float_input(op, input)
    target = _as_tensor(target, op, "target")
    _same_device(op, input, target=target)
    if target.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating-point target, got {target.dtype}; convert it, e.g. target.float()"
        )
    _same_shape(op, input, target)
    return target


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: (input - target)^2, reduced.  input, target: one shape."""
    target = _regression_operands("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: |input - target|, reduced.  input, target: one shape.
    Its gradient at input == target is 0 (the sign of 0), as in PyTorch."""
    target = _regression_operands("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


# ---------------------------------------------------------------------------------------------
# Binary cross-entropy

# PyTorch clamps each log at -100, so p = 0 or 1 gives a large finite loss instead of inf, and
# keeps the gradient's denominator p (1 - p) at least 1e-12.
_LOG_FLOOR = -100.0
_GRAD_EPS = 1e-12


class _BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)) elementwise, each log clamped at -100."""

    @staticmethod
    def forward(ctx, p, t):
        xp = xp_of(p.data)
        ctx.save_for_backward(p, t)
        with numpy.errstate(divide="ignore"):  # log(0) = -inf, then clamped: intended
            log_p = xp.maximum(xp.log(p.data), _LOG_FLOOR)
            log_1mp = xp.maximum(xp.log1p(-p.data), _LOG_FLOOR)
        return -(t.data * log_p + (1 - t.data) * log_1mp)

    @staticmethod
    def backward(ctx, grad):
        # d/dp = (p - t) / (p (1 - p)), the denominator kept >= 1e-12 (PyTorch's formula)
        # d/dt = log(1 - p) - log(p), each clamped at -100
        p, t = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad
        dp = grad * (p - t) / ew.clamp(p * (1 - p), min=_GRAD_EPS) if need_p else None
        dt = None
        if need_t:
            dt = grad * (ew.clamp((1 - p).log(), min=_LOG_FLOOR) - ew.clamp(p.log(), min=_LOG_FLOOR))
        return dp, dt


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """-weight * (target log(input) + (1 - target) log(1 - input)), input holding probabilities.

    input, target: one shape, input in [0, 1]; weight broadcasts to it.
    Each log is clamped at -100 (so input 0 or 1 gives a finite loss), as in PyTorch.
    """
    op = "binary_cross_entropy"
    target = _regression_operands(op, input, target, reduction)
    xp = xp_of(input.data)
    if bool(xp.any((input.data < 0) | (input.data > 1))):
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1] (shape {input.shape}); "
            f"for raw scores use binary_cross_entropy_with_logits"
        )
    loss = _BinaryCrossEntropy.apply(input, cast(target, input.dtype))
    if weight is not None:
        weight = _as_tensor(weight, op, "weight")
        _same_device(op, input, weight=weight)
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed from the logits without overflow.

    input, target: one shape; weight broadcasts to it; pos_weight (e.g. (C,)) weighs the positive
    term and broadcasts with the target. With sp(z) = log(1 + e^z) (softplus, stable for any z):
        loss = (1 - t) x + (1 + (pos_weight - 1) t) sp(-x)
    which is -[pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], since
    -log sigmoid(x) = sp(-x) and -log(1 - sigmoid(x)) = x + sp(-x).
    """
    op = "binary_cross_entropy_with_logits"
    target = _regression_operands(op, input, target, reduction)
    target = cast(target, input.dtype)
    # softplus without its linear cut-off: its gradient, sigmoid, is then exact everywhere
    # (in particular 1/2 at x = 0, where abs/max-based formulas would give a one-sided value).
    sp = softplus(-input, threshold=None)
    if pos_weight is None:
        loss = (1 - target) * input + sp
    else:
        pos_weight = _as_tensor(pos_weight, op, "pos_weight")
        _same_device(op, input, pos_weight=pos_weight)
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    if weight is not None:
        weight = _as_tensor(weight, op, "weight")
        _same_device(op, input, weight=weight)
        loss = loss * weight
    return _reduce(loss, reduction)
