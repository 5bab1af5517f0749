"""Differentiable operations, grouped by family; also reachable as ``minidl.nn.functional``.

elementwise.py  + - * / ** exp log sqrt abs sin cos tanh sigmoid relu maximum minimum clamp where
rounding.py     floor ceil trunc round frac fmod remainder (%) floor_divide (//) div(rounding_mode)
trig.py         tan asin acos atan atan2 sinh cosh asinh acosh atanh
explog.py       log2 log10 exp2 expm1 log1p rsqrt logaddexp copysign lerp
logical.py      isnan isinf isfinite isclose allclose logical_and/or/xor/not bitwise_and/or/xor/not
reduce.py       sum prod mean max min amax amin var std var_mean std_mean logsumexp argmax argmin
scan.py         cumsum cumprod cummax cummin logcumsumexp
sort.py         sort argsort topk kthvalue median
shape.py        reshape view permute transpose flatten squeeze unsqueeze expand cat stack split
triangular.py   tril triu diag diagonal
rearrange.py    roll flip movedim moveaxis repeat repeat_interleave meshgrid unfold (x.unfold only)
einsum.py       einsum
indexing.py     x[index]
interpolate.py  interpolate (nearest, nearest-exact, linear, bilinear, trilinear)
padding.py      pad (constant, reflect, replicate, circular)
linalg.py       matmul linear bmm baddbmm
attention.py    scaled_dot_product_attention (issue 14)
conv.py         conv1d conv2d conv_transpose1d conv_transpose2d
pool.py         max_pool1d max_pool2d avg_pool1d avg_pool2d max_unpool1d max_unpool2d
activation.py   softmax log_softmax softmin gelu leaky_relu softplus erf elu selu celu silu mish
                hardswish hardsigmoid hardtanh relu6 softsign logsigmoid
loss.py         cross_entropy nll_loss mse_loss l1_loss binary_cross_entropy(_with_logits)
norm.py         batch_norm layer_norm normalize
dropout.py      dropout
embedding.py    embedding one_hot
gather.py       gather take_along_dim index_select
scatter.py      scatter scatter_add scatter_reduce
masking.py      masked_fill masked_select nonzero where
methods.py      the table that makes them Tensor methods (x + y, x.sum(), x.relu())
"""

from . import methods  # noqa: F401  (attaches the ops to Tensor)
from .activation import (
    celu,
    elu,
    erf,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
)
from .attention import scaled_dot_product_attention  # issue 14, piece B
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .dropout import dropout

# shape: triangles, diagonals, rearranging, einsum (issue 13); unfold stays a Tensor method only,
# since F.unfold is PyTorch's im2col
from .einsum import einsum
from .elementwise import abs_ as abs
from .elementwise import (
    add,
    clamp,
    cos,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
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
)

# indexing along a dim and by masks (issue 13); `where` is masking.py's (it wraps elementwise.Where)
from .embedding import embedding, one_hot

# rounding, trigonometry, exponentials and logs, logic and tests (issue 13)
from .explog import copysign, exp2, expm1, lerp, log1p, log2, log10, logaddexp, rsqrt
from .gather import gather, index_select, take_along_dim
from .indexing import getitem
from .interpolate import interpolate
from .linalg import baddbmm, bmm, linear, matmul
from .logical import (
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    isclose,
    isfinite,
    isinf,
    isnan,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
)
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .masking import masked_fill, masked_select, nonzero, where
from .norm import batch_norm, layer_norm, normalize
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, max_unpool1d, max_unpool2d
from .rearrange import flip, meshgrid, moveaxis, movedim, repeat, repeat_interleave, roll

# reductions, scans and sorting (issue 13)
from .reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .rounding import ceil, div, floor, floor_divide, fmod, frac, remainder, round, trunc
from .scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from .scatter import scatter, scatter_add, scatter_reduce
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
from .sort import argsort, kthvalue, median, sort, topk
from .triangular import diag, diagonal, tril, triu
from .trig import acos, acosh, asin, asinh, atan, atan2, atanh, cosh, sinh, tan

clip = clamp
