"""``minidl.nn.functional``: the differentiable ops of ``minidl.functional`` under PyTorch's path,
so that ``import minidl.nn.functional as F`` works as ``import torch.nn.functional as F`` does.

Nothing is defined here; the ops live in ``minidl/functional/``, one family per file.
"""

from ..functional import *  # noqa: F401,F403
