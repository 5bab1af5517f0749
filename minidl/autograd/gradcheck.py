"""Checking a backward pass against finite differences.

For every input x that requires grad, and every element x[j]:

    numeric[j]  = (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)       central difference, error O(eps^2)
    analytic[j] = what backward() computes for dL/dx[j]

where L = sum(v * f(x)) for a fixed random v, so one backward pass checks a whole vector-Jacobian
product. They must agree within ``atol + rtol * |numeric|``. This only works in float64: in
float32 the rounding error of f (~1e-7 relative) divided by 2*eps swamps the difference.
"""

import warnings
from collections.abc import Callable
from typing import Any

import numpy

from ..backend.device import to_device
from . import engine
from .dtypes import float64
from .grad_mode import set_grad_enabled
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the numeric one; the message lists the worst entries."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """True if backward() of ``fn(*inputs)`` matches central finite differences for every input
    that requires grad; otherwise raise ``GradcheckError`` (or return False).

    fn:     a function of tensors returning a tensor or a tuple of tensors
    inputs: a tensor or a tuple of tensors (and any other arguments fn takes)
    """
    return _check(fn, inputs, eps, atol, rtol, raise_exception, seed, record=False)


def _check(fn, inputs, eps, atol, rtol, raise_exception, seed, record):
    """gradcheck; ``record`` runs the finite-difference evaluations with gradient recording on,
    for functions that call backward themselves (gradgradcheck's)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad; create the inputs with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; finite differences "
                f"in low precision are unreliable and may fail a correct gradient",
                stacklevel=2,
            )

    outputs = _float_outputs(fn(*inputs))
    rng = numpy.random.default_rng(seed)
    weights = [to_device(rng.standard_normal(o.shape).astype(o.dtype), o.device) for o in outputs]

    analytic = _analytic(outputs, weights, [inputs[i] for i in wrt])
    failures = []
    for slot, i in enumerate(wrt):
        numeric = _numeric(fn, inputs, i, weights, eps, record)
        a = _host(analytic[slot])
        if a.shape != numeric.shape:
            raise GradcheckError(
                f"gradcheck: gradient of input {i} has shape {a.shape}, expected {numeric.shape}"
            )
        excess = numpy.abs(a - numeric) - (atol + rtol * numpy.abs(numeric))
        for row in numpy.argwhere(excess > 0):  # argwhere, unlike nonzero, accepts 0-d inputs
            idx = tuple(int(k) for k in row)
            failures.append((excess[idx], i, idx, a[idx], numeric[idx]))
    if not failures:
        return True
    if not raise_exception:
        return False
    failures.sort(key=lambda f: -f[0])
    lines = [
        f"  input {i}, index {idx}: analytic {an:.8g}, numeric {nu:.8g}" for _, i, idx, an, nu in failures[:8]
    ]
    raise GradcheckError(
        f"gradcheck: backward disagrees with finite differences at {len(failures)} entr"
        f"{'y' if len(failures) == 1 else 'ies'} (atol={atol}, rtol={rtol}, eps={eps}); worst:\n"
        + "\n".join(lines)
    )


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """gradcheck of the gradient itself: checks the backward of the backward (create_graph=True)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = _float_outputs(fn(*inputs))
    rng = numpy.random.default_rng(seed + 1)
    weights = [
        Tensor._make(to_device(rng.standard_normal(o.shape).astype(o.dtype), o.device)) for o in outputs
    ]

    def first_derivative(*xs):
        grads = engine.grad(
            _float_outputs(fn(*xs)), [xs[i] for i in wrt], weights, create_graph=True, allow_unused=True
        )
        # a gradient that does not require grad is constant in the inputs (or was detached by a
        # wrong backward): it stays, so finite differences can tell which of the two it is
        return tuple(g for g in grads if g is not None)

    return _check(first_derivative, inputs, eps, atol, rtol, raise_exception, seed, record=True)


def _float_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = tuple(o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f")
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor")
    return outs


def _analytic(outputs, weights, wrt):
    live = [(o, w) for o, w in zip(outputs, weights) if o.requires_grad]
    if not live:
        return [Tensor._make(x.data * 0) for x in wrt]  # nothing depends on the inputs
    grads = engine.grad([o for o, _ in live], wrt, [Tensor._make(w) for _, w in live], allow_unused=True)
    return [g if g is not None else Tensor._make(x.data * 0) for g, x in zip(grads, wrt)]


def _numeric(fn, inputs, i, weights, eps, record):
    x = inputs[i]
    out = numpy.zeros(x.shape, dtype=numpy.float64)
    for idx in numpy.ndindex(*x.shape):
        original = x.data[idx].item()
        x.data[idx] = original + eps
        plus = _weighted_sum(fn, inputs, weights, record)
        x.data[idx] = original - eps
        minus = _weighted_sum(fn, inputs, weights, record)
        x.data[idx] = original
        out[idx] = (plus - minus) / (2 * eps)
    return out


def _weighted_sum(fn, inputs, weights, record):
    with set_grad_enabled(record):
        outs = _float_outputs(fn(*inputs))
    return sum(float((_host(o.data).astype(numpy.float64) * _host(w)).sum()) for o, w in zip(outs, weights))


def _host(x):
    data = x.data if isinstance(x, Tensor) else x
    return numpy.asarray(to_device(data, "cpu"), dtype=numpy.float64)
