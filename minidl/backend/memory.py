"""Keep freed array memory in the process for the next step, instead of handing it back to the OS.

A training step allocates and frees the same large arrays (activations, gradients, temporaries)
every time. glibc's malloc serves an allocation above its mmap threshold (128 KiB at first) with a
fresh ``mmap`` and returns it with ``munmap`` when freed, and it trims the top of the heap back to
the OS once 128 KiB are free there. Both mean that the next step touches new pages, and the kernel
zero-fills every one of them on first touch: on a small GPT this page-fault work was ~13 % of a
training step (benchmarks/RESULTS.md). Raising the two thresholds makes malloc keep the memory and
reuse it, as a framework's caching allocator would. It changes nothing but speed and the process's
resident size (it stays at the step's peak). Off with ``MINIDL_MALLOC_TUNING=0``; a no-op where the
C library is not glibc.
"""

import ctypes
import ctypes.util
import os
import sys

# mallopt's parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value: arrays up to 32 MiB come from the heap
TRIM_THRESHOLD = 512 * 2**20  # free memory kept at the heap's top before it is given back


def keep_freed_memory() -> bool:
    """Set malloc's thresholds as above; True if they were set."""
    if os.environ.get("MINIDL_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
