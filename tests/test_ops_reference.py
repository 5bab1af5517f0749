"""docs/ops.md lists every op minidl has: each public function of minidl.nn.functional, each Tensor
method of functional/methods.py and each layer of minidl.nn, with its PyTorch counterpart."""

import inspect
import re
from pathlib import Path

import minidl.nn as nn
import minidl.nn.functional as F
from minidl.functional import methods

OPS_MD = Path(__file__).resolve().parent.parent / "docs" / "ops.md"


def _listed() -> tuple[set[str], set[str]]:
    text = OPS_MD.read_text()
    rows = set(re.findall(r"^\| `([A-Za-z_0-9]+)` \| `[^`]+` \|", text, re.M))
    layers = set(re.findall(r"`([A-Z][A-Za-z0-9]+)`", text.split("## Layers", 1)[1]))
    return rows, layers


def test_every_functional_op_and_tensor_method_is_listed_with_a_pytorch_name():
    rows, _ = _listed()
    ops = {n for n in dir(F) if not n.startswith("_") and inspect.isfunction(getattr(F, n))}
    ops |= {n for n in methods.METHODS if not n.startswith("__")}
    missing = sorted(ops - rows)
    assert not missing, (
        f"docs/ops.md does not list {missing}: add a row (minidl | PyTorch | gradient | method)"
    )


def test_every_layer_is_listed():
    _, layers = _listed()
    ours = {n for n in dir(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)}
    missing = sorted(ours - layers)
    assert not missing, f"docs/ops.md's Layers section does not list {missing}"


def test_the_reference_names_no_op_that_does_not_exist():
    rows, _ = _listed()
    ops = {n for n in dir(F) if not n.startswith("_")} | set(methods.METHODS)
    stale = sorted(rows - ops)
    assert not stale, f"docs/ops.md lists {stale}, which minidl does not have"
