"""The kernels in plain NumPy/CuPy: the readable math, and the oracle the native kernels are
tested against.

Every function here has a C++ twin in ``csrc/cpu`` (and a CUDA twin in ``csrc/cuda``) with the same
name, the same argument order and the same output. They run on NumPy or CuPy arrays alike: the
array library is taken from the inputs.
"""
from .device import xp_of


def matmul(a, b, trans_a=False, trans_b=False):
    """Batched matrix product ``op(a) @ op(b)``, where ``op`` transposes the last two axes when
    its flag is set.

    a: (Ba, M, K), or (Ba, K, M) when trans_a
    b: (Bb, K, N), or (Bb, N, K) when trans_b
    Ba == Bb, or one of them is 1 and is shared by every batch entry.
    returns: (max(Ba, Bb), M, N)
    """
    xp = xp_of(a)
    if trans_a:
        a = a.transpose(0, 2, 1)
    if trans_b:
        b = b.transpose(0, 2, 1)
    return xp.matmul(a, b)
