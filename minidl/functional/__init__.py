"""Differentiable operations, grouped by family; also reachable as ``minidl.nn.functional``.

    elementwise.py  + - * / ** exp log sqrt abs sin cos tanh sigmoid relu maximum minimum clamp where
    reduce.py       sum mean max min amax amin var std logsumexp argmax argmin
    shape.py        reshape view permute transpose flatten squeeze unsqueeze expand cat stack split pad
    indexing.py     x[index]
    linalg.py       matmul
    methods.py      the table that makes them Tensor methods (x + y, x.sum(), x.relu())
"""
from . import methods  # noqa: F401  (attaches the ops to Tensor)
from .elementwise import (abs_ as abs, add, clamp, cos, div, eq, exp, ge, gt, le, log, logical_and,
                          logical_not, logical_or, lt, maximum, minimum, mul, ne, neg, pow, relu,
                          sigmoid, sign, sin, sqrt, sub, tanh, where)
from .indexing import getitem
from .linalg import matmul
from .reduce import all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .shape import (cat, chunk, expand, flatten, pad, permute, reshape, split, squeeze, stack,
                    transpose, unflatten, unsqueeze, view)

clip = clamp
