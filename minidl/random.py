"""The random number generator behind randn, rand, weight initialisation, dropout and shuffling.

Numbers are drawn on the CPU with NumPy and then moved to the tensor's device, so a seeded model
starts from the same weights on the CPU and on the GPU.
"""

import numpy

_generator = numpy.random.default_rng()


def manual_seed(seed: int) -> numpy.random.Generator:
    """Make every later random draw repeatable."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, numpy.integer)):
        raise TypeError(f"manual_seed: expected an int, got {seed!r}")
    _generator = numpy.random.default_rng(int(seed))
    return _generator


def generator() -> numpy.random.Generator:
    """The NumPy Generator minidl draws from."""
    return _generator
