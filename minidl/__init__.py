"""minidl: a deep-learning framework written to be read.

    import minidl as md
    x = md.randn(4, 3, requires_grad=True)
    loss = (x @ x.T).relu().sum()
    loss.backward()          # x.grad now holds d(loss)/dx

Layers, bottom to top: ``backend`` (NumPy/CuPy and our C++/CUDA kernels), ``autograd`` (Tensor and
the backward pass), ``functional`` (the differentiable ops). See docs/architecture.md.
"""

from . import backend, cuda, data, functional, nn, optim, viz
from ._version import __version__
from .autograd import (
    Function,
    GradcheckError,
    Tensor,
    enable_grad,
    get_default_dtype,
    grad,
    gradcheck,
    gradgradcheck,
    is_grad_enabled,
    no_grad,
    set_default_dtype,
    set_grad_enabled,
)
from .autograd.dtypes import bool_, float16, float32, float64, int32, int64, uint8
from .backend import Device as device
from .backend import get_default_device, get_num_threads, set_default_device, set_num_threads, use_kernels
from .doctor import doctor
from .factories import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .functional import (
    abs,
    add,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cat,
    chunk,
    clamp,
    clip,
    cos,
    div,
    eq,
    exp,
    expand,
    flatten,
    ge,
    gt,
    le,
    log,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logsumexp,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    ne,
    neg,
    pad,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .io import load, save
from .random import manual_seed

float = float32
double = float64
long = int64
bool = bool_
