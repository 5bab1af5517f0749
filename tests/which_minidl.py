"""Which ``minidl`` the suite tests, decided before anything imports it.

The suite must test what was built, never a source tree without its native module:

- an editable install (``pip install -e .``) or an in-place build leaves ``minidl/_C*.so`` in the
  source tree: the tree is the package, and it is tested;
- a regular install (``pip install .``) leaves the tree without ``_C``, and ``python -m pytest``
  would import the tree first (``python -m`` puts the current directory on ``sys.path``). If an
  installed copy exists and its Python files match the tree's, the tree is taken off ``sys.path``
  and the installed copy is tested; if they differ, the installed copy is stale and the run stops;
- with neither, the run stops with the commands that build the module, unless
  ``MINIDL_ALLOW_NO_NATIVE=1`` asks on purpose for a run on the NumPy reference kernels alone.
"""

from __future__ import annotations

import filecmp
import importlib.machinery
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "minidl"
NATIVE_SUFFIXES = importlib.machinery.EXTENSION_SUFFIXES
BUILD_HINT = (
    'build it with  pip install -e ".[dev]"  (editable: the tests use the tree), or '
    'pip install ".[dev]"  (the tests use the installed copy); set MINIDL_ALLOW_NO_NATIVE=1 '
    "only for a deliberate run on the reference kernels alone"
)


def allow_no_native() -> bool:
    return os.environ.get("MINIDL_ALLOW_NO_NATIVE") == "1"


def has_native(package: Path) -> bool:
    return any((package / f"_C{suffix}").is_file() for suffix in NATIVE_SUFFIXES)


def _is_tree(entry: str) -> bool:
    try:
        return Path(entry or os.getcwd()).resolve() == ROOT
    except OSError:
        return False


def _installed_copy() -> Path | None:
    """The minidl package sys.path would find if the source tree were not on it."""
    others = [entry for entry in sys.path if not _is_tree(entry)]
    spec = importlib.machinery.PathFinder.find_spec("minidl", others)
    if spec is None or not spec.submodule_search_locations:
        return None
    location = Path(next(iter(spec.submodule_search_locations))).resolve()
    return None if location == SOURCE else location


def _stale_files(installed: Path) -> list[str]:
    """The tree's .py files that the installed copy lacks or has with other contents."""
    stale = []
    for source in sorted(SOURCE.rglob("*.py")):
        relative = source.relative_to(SOURCE)
        copy = installed / relative
        if not copy.is_file() or not filecmp.cmp(source, copy, shallow=False):
            stale.append(str(relative))
    return stale


def choose() -> str | None:
    """Arrange ``sys.path`` so that ``import minidl`` gets the package to test.

    Returns None when the run may go on, or the message to stop it with.
    """
    if has_native(SOURCE):
        return None
    installed = _installed_copy()
    if installed is not None and has_native(installed):
        stale = _stale_files(installed)
        if stale:
            shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            return (
                f"the source tree {SOURCE} has no native module, and the installed minidl at "
                f"{installed} is not this tree's code ({shown} differ): reinstall with  "
                f'pip install ".[dev]"  or use  pip install -e ".[dev]"'
            )
        sys.path[:] = [entry for entry in sys.path if not _is_tree(entry)]
        return None
    if allow_no_native():
        return None
    where = f"; the installed copy at {installed} has none either" if installed is not None else ""
    return (
        f"minidl._C (the C++ kernels) is not built: the tests would import {SOURCE}, which has "
        f"no _C module{where}. {BUILD_HINT}"
    )
