"""The layering of docs/architecture.md, checked on the source: every import points down.

    csrc (_C, _C_cuda) <- backend <- autograd <- functional <- nn, optim <- data <- train <- onnx, serving <- cli

Every ``import`` and ``from ... import`` in minidl/ counts, at module level or inside a function
(a local import is still a dependency; it only hides it from a reader). A module may import its
own unit (``minidl.nn.conv`` -> ``minidl.nn.module``) or a unit of a LOWER layer, never one of the
same layer or above. On top of the layers:

- only ``backend`` imports ``_C``/``_C_cuda`` or CuPy (DESIGN.md: "the ONLY Python code that
  imports numpy/cupy selection or _C/_C_cuda"; ``functional`` calls ``backend.kernels``);
- ``nn`` and ``optim`` know ``functional`` and ``autograd``, never NumPy or ``backend``.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "minidl"

# Bottom to top. A unit is a subpackage or a module directly under minidl/ ("__init__" is the
# package face ``import minidl``, which re-exports everything below train).
LAYERS = [
    ("_C", "_C_cuda", "_version", "errors"),  # the compiled kernels; the version string; error classes
    ("backend", "random"),  # NumPy/CuPy and _C; the one random generator
    ("autograd",),  # Tensor, Function, the engine
    ("functional", "factories", "cuda", "viz", "doctor"),  # the ops, tensor factories, tools
    ("nn", "optim", "io"),  # layers, optimizers, save/load
    ("data",),  # datasets and DataLoader
    ("__init__",),  # `import minidl`
    ("train", "demo"),  # what `minidl train` and `minidl demo` run
    ("onnx", "serving"),  # export to ONNX; the V2 inference server (neither imports the other)
    ("cli",),  # the `minidl` command
    ("__main__",),  # `python -m minidl`
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

# External or native modules only some units may import: module prefix -> the units allowed.
RESTRICTED = {
    "minidl._C": {"backend"},
    "minidl._C_cuda": {"backend"},
    "cupy": {"backend"},
    "cupyx": {"backend"},
}
# Units that must not import a module prefix at all, even one below them.
FORBIDDEN = {
    "nn": ("numpy", "minidl.backend"),
    "optim": ("numpy", "minidl.backend"),
}

# Today's known violations, in files whose owners are fixing them: (importing file, imported
# module, why it is here and how it goes away). Delete an entry when its import is gone; an entry
# that no longer matches anything fails the test, so the list cannot go stale.
ALLOWED: list[tuple[str, str, str]] = []


def _module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _imports(tree, module, is_package, exists):
    """Yield (line, imported module) for every import in ``tree``, relative ones made absolute.

    ``from pkg import name`` yields ``pkg.name`` when that is a module (``exists``), else ``pkg``.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield node.lineno, full if exists(full) else base


def _unit(module):
    """``minidl.nn.conv`` -> ``nn``; ``minidl`` -> ``__init__``; outside minidl -> None."""
    parts = module.split(".")
    if parts[0] != "minidl":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _matches(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


def violations(root):
    """Every import under the package directory ``root`` that breaks the layering.

    Returns a list of (file relative to root's parent, line, imported module, reason).
    """
    root = pathlib.Path(root)
    known = {_module_name(p, root)[0] for p in root.rglob("*.py")}
    known |= {f"{root.name}.{p.name.split('.')[0]}" for p in root.glob("_C*.so")}
    known |= {f"{root.name}._C", f"{root.name}._C_cuda"}
    found = []
    for path in sorted(root.rglob("*.py")):
        module, is_package = _module_name(path, root)
        unit = _unit(module)
        rel = path.relative_to(root.parent).as_posix()
        if unit not in RANK:
            found.append((rel, 0, module, f"unit {unit!r} is in no layer of LAYERS"))
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in _imports(tree, module, is_package, known.__contains__):
            reason = _check(unit, target)
            if reason:
                found.append((rel, line, target, reason))
    return found


def _check(unit, target):
    for prefix, allowed in RESTRICTED.items():
        if _matches(target, prefix) and unit not in allowed:
            return f"only {sorted(allowed)} may import {prefix}"
    for prefix in FORBIDDEN.get(unit, ()):
        if _matches(target, prefix):
            return f"{unit} must not import {prefix} (it knows functional and autograd only)"
    other = _unit(target)
    if other is None or other == unit:
        return None
    if other not in RANK:
        return f"{other!r} is in no layer of LAYERS"
    if RANK[other] >= RANK[unit]:
        where = "the same layer" if RANK[other] == RANK[unit] else "a higher layer"
        return f"{unit} (layer {RANK[unit]}) imports {other} from {where} ({RANK[other]})"
    return None


def _without_allowed(found):
    allowed = {(path, target) for path, target, _ in ALLOWED}
    return [v for v in found if (v[0], v[2]) not in allowed]


def test_every_import_points_down():
    bad = _without_allowed(violations(PACKAGE))
    assert not bad, "imports against the layering of docs/architecture.md:\n" + "\n".join(
        f"  {path}:{line}: imports {target}: {reason}" for path, line, target, reason in bad
    )


def test_allowed_entries_are_still_needed():
    found = {(v[0], v[2]) for v in violations(PACKAGE)}
    stale = [(path, target) for path, target, _ in ALLOWED if (path, target) not in found]
    assert not stale, f"these ALLOWED entries match no import any more; delete them: {stale}"


def _fake_package(tmp_path, files):
    root = tmp_path / "minidl"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    "files, expected",
    [
        # autograd reaching up to functional, in a function body: the hidden kind of cycle
        (
            {
                "autograd/__init__.py": "",
                "functional/__init__.py": "",
                "autograd/tensor.py": "def f():\n    from ..functional import add\n",
            },
            ("minidl/autograd/tensor.py", 2, "minidl.functional"),
        ),
        # nn asking backend for a device
        (
            {
                "nn/__init__.py": "",
                "backend/__init__.py": "",
                "backend/device.py": "",
                "nn/module.py": "from ..backend.device import Device\n",
            },
            ("minidl/nn/module.py", 1, "minidl.backend.device"),
        ),
        # optim doing array code itself
        (
            {"optim/__init__.py": "", "optim/sgd.py": "import numpy as np\n"},
            ("minidl/optim/sgd.py", 1, "numpy"),
        ),
        # functional calling the C++ module directly instead of backend.kernels
        (
            {"functional/__init__.py": "", "functional/conv.py": "from .. import _C\n"},
            ("minidl/functional/conv.py", 1, "minidl._C"),
        ),
        # an absolute import of a sibling layer: nn and optim do not know each other
        (
            {"nn/__init__.py": "", "optim/__init__.py": "", "nn/utils.py": "import minidl.optim\n"},
            ("minidl/nn/utils.py", 1, "minidl.optim"),
        ),
        # the core importing the training loop
        (
            {
                "data/__init__.py": "",
                "train/__init__.py": "",
                "train/loop.py": "",
                "data/dataset.py": "import os\n\n\nfrom minidl.train.loop import fit\n",
            },
            ("minidl/data/dataset.py", 4, "minidl.train.loop"),
        ),
        # a new top-level unit must be given a layer
        ({"webui.py": "import json\n"}, ("minidl/webui.py", 0, "minidl.webui")),
    ],
)
def test_a_new_violation_is_found_and_named(tmp_path, files, expected):
    found = violations(_fake_package(tmp_path, files))
    assert [v[:3] for v in found] == [expected]
    assert found[0][3]  # with a reason


def test_imports_that_point_down_pass(tmp_path):
    root = _fake_package(
        tmp_path,
        {
            "backend/__init__.py": "import numpy\nfrom .. import _C\n",
            "autograd/__init__.py": "from ..backend import device\n",
            "functional/__init__.py": "from ..autograd import Tensor\nfrom ..backend import kernels\n",
            "nn/__init__.py": "from .. import functional as F\nfrom ..autograd import no_grad\n",
            "nn/conv.py": "from . import init\nfrom .module import Module\n",
            "nn/init.py": "",
            "nn/module.py": "",
            "train/run.py": "import minidl\nfrom ..nn import Linear\n",
            "train/__init__.py": "",
        },
    )
    assert violations(root) == []
