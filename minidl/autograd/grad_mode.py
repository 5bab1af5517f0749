"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``is_grad_enabled``.

Inside ``no_grad`` no graph is recorded: ops compute their result and forget how. Evaluation loops
and optimizer updates run there. Both work as context managers and as function decorators.
"""

import functools

_enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return _enabled


class _GradMode:
    mode = True

    def __enter__(self):
        global _enabled
        self._previous = _enabled
        _enabled = self.mode

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Record nothing inside this block (or decorated function)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again, even inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` is ``no_grad()``; ``set_grad_enabled(True)`` is ``enable_grad()``."""

    def __init__(self, mode):
        global _enabled
        self.mode = bool(mode)
        self._previous = _enabled
        _enabled = self.mode  # like PyTorch, it takes effect even when not used with `with`

    def __enter__(self):
        pass

    def __call__(self, func):
        global _enabled
        _enabled = self._previous  # undo what __init__ switched before refusing
        raise TypeError("set_grad_enabled is not a decorator; use no_grad or enable_grad")
