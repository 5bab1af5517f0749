"""Differentiable operations, grouped by family; also reachable as ``minidl.nn.functional``.

elementwise.py  + - * / ** exp log sqrt abs sin cos tanh sigmoid relu maximum minimum clamp where
reduce.py       sum mean max min amax amin var std logsumexp argmax argmin
shape.py        reshape view permute transpose flatten squeeze unsqueeze expand cat stack split pad
indexing.py     x[index]
linalg.py       matmul
conv.py         conv1d conv2d
pool.py         max_pool1d max_pool2d avg_pool1d avg_pool2d
activation.py   softmax log_softmax gelu leaky_relu softplus erf
loss.py         cross_entropy nll_loss mse_loss l1_loss binary_cross_entropy(_with_logits)
norm.py         batch_norm layer_norm
dropout.py      dropout
embedding.py    embedding
methods.py      the table that makes them Tensor methods (x + y, x.sum(), x.relu())
"""

from . import methods  # noqa: F401  (attaches the ops to Tensor)
from .activation import erf, gelu, leaky_relu, log_softmax, softmax, softplus
from .conv import conv1d, conv2d
from .dropout import dropout
from .elementwise import abs_ as abs
from .elementwise import (
    add,
    clamp,
    cos,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from .embedding import embedding
from .indexing import getitem
from .linalg import matmul
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .norm import batch_norm, layer_norm
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .reduce import all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .shape import (
    cat,
    chunk,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unflatten,
    unsqueeze,
    view,
)

clip = clamp
