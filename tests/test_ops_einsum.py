"""einsum against PyTorch on random valid equations (1-3 operands, '...', repeated labels, size-1
broadcasting, size-0 dims, implicit and explicit outputs), gradcheck, dtypes, bad equations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl as md
from minidl.errors import DTypeError, ShapeError

from strategies import arrays, leaf

LABELS = "abcAB"  # upper and lower case: an implicit output sorts 'A' before 'a'


@st.composite
def equations(draw, min_side=0):
    """(equation, operand shapes): a valid einsum call. Each label has one size; an operand may
    have 1 there instead (broadcast), the same at each place it repeats a label (``ii``)."""
    side = st.integers(1, 3) if min_side else st.sampled_from([0, 1, 2, 2, 3, 3])  # some size-0 dims
    sizes = {c: draw(side) for c in LABELS}
    ellipsis = tuple(draw(st.lists(side, max_size=2)))
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        term = draw(st.lists(st.sampled_from(LABELS), max_size=3))
        own = {c: 1 if draw(st.integers(0, 4)) == 0 else sizes[c] for c in set(term)}
        shape = [own[c] for c in term]
        if draw(st.booleans()):
            at = draw(st.integers(0, len(term)))
            covered = ellipsis[len(ellipsis) - draw(st.integers(0, len(ellipsis))) :]
            covered = [1 if draw(st.integers(0, 4)) == 0 else n for n in covered]
            term, shape = term[:at] + ["..."] + term[at:], shape[:at] + covered + shape[at:]
        terms.append("".join(term))
        shapes.append(tuple(shape))
    equation = ",".join(terms)
    if draw(st.booleans()):  # explicit output: some of the labels used, in any order, maybe '...'
        used = sorted({c for t in terms for c in t if c != "."})
        out = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
        if draw(st.booleans()):
            out.insert(draw(st.integers(0, len(out))), "...")
        equation += "->" + "".join(out)
    if draw(st.integers(0, 5)) == 0:
        equation = equation.replace(",", " , ")  # spaces are allowed anywhere
    return equation, shapes


@settings(max_examples=150, deadline=None)
@given(data=st.data(), spec=equations())
def test_random_equations_match_pytorch(data, spec):
    equation, shapes = spec
    xs = [data.draw(arrays(s)) for s in shapes]
    compare(lambda *t: md.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *xs)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), spec=equations(min_side=1))
def test_random_equations_gradcheck(data, spec):
    """Gradients of every operand, each itself an einsum, against finite differences."""
    equation, shapes = spec
    xs = tuple(leaf(data.draw(arrays(s))) for s in shapes)
    assert md.gradcheck(lambda *t: md.einsum(equation, *t), xs)


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),  # matmul
        ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]),  # batched, batch broadcast
        ("ii", [(3, 3)]),  # trace
        ("ii->i", [(3, 3)]),  # diagonal
        ("iji->j", [(2, 3, 2)]),
        ("i,j->ij", [(2,), (3,)]),  # outer product
        ("...ij->...ji", [(2, 1, 3, 4)]),
        ("...ij->ij", [(2, 3, 4)]),  # '...' left out of an explicit output: summed
        ("b...,...a", [(2, 3, 5), (5, 4)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("i,->i", [(3,), ()]),
    ],
)
def test_named_equations_and_second_derivatives(equation, shapes):
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1, 1, s) for s in shapes]
    compare(lambda *t: md.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *xs)
    compare(lambda *t: md.einsum(equation, list(t)), lambda *t: torch.einsum(equation, list(t)), *xs)
    assert md.gradgradcheck(lambda *t: md.einsum(equation, *t) ** 2, tuple(leaf(x) for x in xs))


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_dtype_is_kept(dtype):
    a, b = np.arange(6).reshape(2, 3).astype(dtype), np.arange(12).reshape(3, 4).astype(dtype)
    compare(lambda x, y: md.einsum("ij,jk", x, y), lambda x, y: torch.einsum("ij,jk", x, y), a, b)


x23, x3, x22 = md.ones(2, 3), md.ones(3), md.ones(2, 2)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: md.einsum("ij", x23, x3), ValueError, r"einsum: .*'ij' has subscripts for 1 operand.*2"),
        (lambda: md.einsum("ij,j", x23), ValueError, r"einsum: .*for 2 operand\(s\), but 1"),
        (lambda: md.einsum("i1->i", x23), ValueError, r"einsum: invalid subscript '1' at index 1"),
        (lambda: md.einsum("i-j", x23), ValueError, r"einsum: invalid subscript '-' at index 1"),
        (lambda: md.einsum("ij->j->", x23), ValueError, r"einsum: invalid subscript '-'"),
        (lambda: md.einsum("i.j", x23), ValueError, r"einsum: .*'.' that is not part of '...'"),
        (lambda: md.einsum("...i...", x23), ValueError, r"einsum: .*more than one '...'"),
        (lambda: md.einsum("ij->k", x23), ValueError, r"einsum: output subscript k does not appear"),
        (lambda: md.einsum("ij->ii", x23), ValueError, r"einsum: output subscript i appears more than once"),
        (lambda: md.einsum("ijk", x23), ShapeError, r"einsum: operand 0 has 2 dim\(s\), .*'ijk' name 3"),
        (
            lambda: md.einsum("ij,ij", x23, md.ones(2, 4)),
            ShapeError,
            r"einsum: subscript j has size 4 in operand 1",
        ),
        (lambda: md.einsum("...,...", md.ones(3, 2), md.ones(4)), ShapeError, r"einsum: a dim under '...'"),
        (lambda: md.einsum("ii", x23), ShapeError, r"einsum: subscript i is repeated .* sizes 2 and 3"),
        (lambda: md.einsum("ij,j", x23, md.ones(3, dtype=md.float64)), DTypeError, r"einsum: .*one dtype"),
        (lambda: md.einsum("ij"), ValueError, r"einsum: expected at least one operand"),
        (lambda: md.einsum("ij", np.ones((2, 3))), TypeError, r"einsum: operand 0 must be a Tensor"),
        (lambda: md.einsum(x22, x22), TypeError, r"einsum: the equation must be a string"),
    ],
)
def test_bad_equations(call, error, match):
    with pytest.raises(error, match=match):
        call()
