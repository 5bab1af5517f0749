"""``einsum``: products and sums of tensors written as index labels, ``"bij,bjk->bik"``.

Each operand's dims get a letter; ``...`` stands for any number of dims (broadcast between the
operands, aligned from the right). A label in the output keeps its dim; a label missing from it is
summed. Without ``->`` the output is ``...`` followed by the labels used exactly once, sorted.
A label repeated inside one operand (``ii->i``, ``ii->``) first takes the diagonal of those dims.
Sizes of one label must agree across operands, or be 1 (broadcast).

The derivative. With the diagonals taken, every operand's labels are distinct, and the result is
y[out] = sum over the other labels of x1[L1] * ... * xn[Ln]. Its derivative with respect to xk
is the same kind of sum, of the output's gradient times the other operands:
dL/dxk[Lk] = einsum(g[out], x1[L1], ..(not k).., xn[Ln] -> Lk). So every operand's gradient is
one einsum, and differentiable in its turn. A label only xk has is summed in the forward, so its
gradient is constant along that label: computed without it, then expanded. A label where xk has
size 1 but the others more was broadcast: the engine sums its gradient back to size 1.
"""

import string
from collections.abc import Sequence

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError, ShapeError
from .shape import expand, reshape
from .triangular import diagonal

_LETTERS = string.ascii_letters
# Dims under '...' get int labels 0, 1, ...: they come first in an implicit output, letters after.
Label = str | int


def _terms(equation: str, count: int) -> tuple[list[list[str]], list[str] | None]:
    """The subscripts of each operand and of the output (None when implicit), as lists of
    letters and '...'; spaces are ignored. Checks the characters and the number of operands."""
    arrow = equation.find("->")
    lhs_end = arrow if arrow >= 0 else len(equation)
    pieces, start = [], 0
    for i in range(lhs_end + 1):
        if i == lhs_end or equation[i] == ",":
            pieces.append((start, equation[start:i]))
            start = i + 1
    if len(pieces) != count:
        raise ValueError(
            f"einsum: the equation {equation!r} has subscripts for {len(pieces)} operand(s), "
            f"but {count} operand(s) were given"
        )
    terms = [_subscripts(equation, s, text, f"operand {k}") for k, (s, text) in enumerate(pieces)]
    if arrow < 0:
        return terms, None
    return terms, _subscripts(equation, arrow + 2, equation[arrow + 2 :], "the output")


def _subscripts(equation, offset, text, what):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == ".":
            if text[i : i + 3] != "...":
                raise ValueError(f"einsum: {what} in {equation!r} has a '.' that is not part of '...'")
            if "..." in out:
                raise ValueError(f"einsum: {what} in {equation!r} has more than one '...'")
            out.append("...")
            i += 3
            continue
        if c in _LETTERS:
            out.append(c)
        elif c != " ":
            raise ValueError(
                f"einsum: invalid subscript {c!r} at index {offset + i} of {equation!r}; "
                f"subscripts are letters a-z, A-Z, or '...'"
            )
        i += 1
    return out


def _labels(term, ndim, k, ellipsis_dims):
    """Operand k's labels, one per dim: its letters, with '...' as the ints of the dims it covers
    (right-aligned against the widest '...': ``ellipsis_dims`` of them in all)."""
    letters = len(term) - ("..." in term)
    if ("..." in term and ndim < letters) or ("..." not in term and ndim != letters):
        raise ShapeError(
            f"einsum: operand {k} has {ndim} dim(s), but its subscripts {''.join(term)!r} "
            f"name {letters}{' or more' if '...' in term else ''}"
        )
    covered = ndim - letters
    out: list[Label] = []
    for c in term:
        out.extend(range(ellipsis_dims - covered, ellipsis_dims) if c == "..." else [c])
    return out


def _take_diagonals(x, labels):
    """For a label repeated in one operand (``ii``), the diagonal of its dims, until none repeats."""
    while len(set(labels)) != len(labels):
        first = next(lab for lab in labels if labels.count(lab) > 1)
        p = labels.index(first)
        q = labels.index(first, p + 1)
        if x.shape[p] != x.shape[q]:
            raise ShapeError(
                f"einsum: subscript {first} is repeated in an operand of shape {x.shape}, "
                f"but its dims have sizes {x.shape[p]} and {x.shape[q]}"
            )
        x = diagonal(x, 0, p, q)  # the diagonal becomes the last dim
        labels = [lab for i, lab in enumerate(labels) if i not in (p, q)] + [first]
    return x, labels


def _sizes(tensors, labels):
    """The size of every label: the one size (other than 1) that its dims have, or 1."""
    sizes: dict[Label, int] = {}
    for k, (x, labs) in enumerate(zip(tensors, labels)):
        for lab, n in zip(labs, x.shape):
            seen = sizes.get(lab, 1)
            if n != 1 and seen != 1 and n != seen:
                what = f"subscript {lab}" if isinstance(lab, str) else "a dim under '...'"
                raise ShapeError(
                    f"einsum: {what} has size {n} in operand {k} (shape {x.shape}), but size "
                    f"{seen} elsewhere; sizes of one subscript must match or be 1"
                )
            if n != 1 or lab not in sizes:
                sizes[lab] = n
    return sizes


class Contract(Function):
    """y[out] = sum of the product x1[L1] ... xn[Ln] over the labels not in ``out``; each
    operand's labels distinct. spec = (L1, ..., Ln, out)."""

    @staticmethod
    def forward(ctx, spec, *xs):
        ctx.spec = spec
        ctx.save_for_backward(*xs)
        *ins, out = spec
        sizes = _sizes(xs, ins)
        names = {lab: _LETTERS[i] for i, lab in enumerate(sizes)}
        subscripts = ",".join("".join(names[lab] for lab in labs) for labs in ins)
        subscripts += "->" + "".join(names[lab] for lab in out)
        xp = xp_of(xs[0].data)
        # size-1 dims stretched to their label's size (a view), so einsum sees one size per label
        arrays = [xp.broadcast_to(x.data, tuple(sizes[lab] for lab in labs)) for x, labs in zip(xs, ins)]
        return xp.asarray(xp.einsum(subscripts, *arrays, optimize=len(arrays) > 1))

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        *ins, out = ctx.spec
        grads: list[Tensor | None] = []
        for k, x in enumerate(xs):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            # d y / d xk: g times every other operand, summed onto xk's labels (module docstring)
            others = [grad, *xs[:k], *xs[k + 1 :]]
            other_labels = [out, *ins[:k], *ins[k + 1 :]]
            present = {lab for labs in other_labels for lab in labs}
            target = tuple(lab for lab in ins[k] if lab in present)
            g = contract(others, other_labels, target)
            kept = iter(g.shape)
            g = reshape(g, tuple(next(kept) if lab in present else 1 for lab in ins[k]))
            grads.append(expand(g, *numpy.broadcast_shapes(g.shape, x.shape)))
        return (None, *grads)


def contract(tensors: Sequence[Tensor], labels: Sequence[Sequence[Label]], out: Sequence[Label]) -> Tensor:
    """einsum on labels already parsed: operand i has the distinct labels ``labels[i]``, one per
    dim; the result has the labels ``out``."""
    if len({lab for labs in labels for lab in labs}) > len(_LETTERS):
        raise ValueError(f"einsum: at most {len(_LETTERS)} distinct subscripts (with '...' dims)")
    spec = (*(tuple(labs) for labs in labels), tuple(out))
    return Contract.apply(spec, *tensors)


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is a @ b, ``einsum("ii", a)`` the trace,
    ``einsum("...ij->...ji", x)`` a batched transpose, ``einsum("i,j->ij", u, v)`` the outer
    product. Operands may also come as one list: ``einsum("ij,jk", [a, b])``."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    for k, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum: operand {k} must be a Tensor, got {type(x).__name__}")
        if x.dtype != operands[0].dtype:
            raise DTypeError(
                f"einsum: all operands must have one dtype; operand 0 is {operands[0].dtype}, "
                f"operand {k} is {x.dtype}"
            )
    terms, out_term = _terms(equation, len(operands))
    ellipsis_dims = max((x.ndim - len(t) + 1 for x, t in zip(operands, terms) if "..." in t), default=0)
    ellipsis_dims = max(ellipsis_dims, 0)
    tensors, labels = [], []
    for k, (x, term) in enumerate(zip(operands, terms)):
        x, labs = _take_diagonals(x, _labels(term, x.ndim, k, ellipsis_dims))
        tensors.append(x)
        labels.append(labs)
    _sizes(tensors, labels)  # one size per label, before anything is computed
    return contract(tensors, labels, _output(terms, out_term, ellipsis_dims))


def _output(terms, out_term, ellipsis_dims):
    """The output's labels: as written after '->', or '...' then the letters used exactly once."""
    letters = [c for term in terms for c in term if c != "..."]
    if out_term is None:
        return [*range(ellipsis_dims), *sorted(c for c in set(letters) if letters.count(c) == 1)]
    out: list[Label] = []
    for c in out_term:
        if c == "...":
            out.extend(range(ellipsis_dims))
        elif c not in letters:
            raise ValueError(f"einsum: output subscript {c} does not appear in any operand's subscripts")
        elif c in out:
            raise ValueError(f"einsum: output subscript {c} appears more than once in the output")
        else:
            out.append(c)
    return out
