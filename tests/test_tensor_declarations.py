"""The Tensor methods a type checker sees are the ones minidl attaches.

functional/methods.py attaches ``x + y``, ``x.sum()``, ``x.mT`` to Tensor at import time (METHODS
and PROPERTIES); autograd/tensor.py declares the same names, with types, in its ``if
TYPE_CHECKING:`` block, for mypy and editors. The two lists are written by hand in two files, so
this test keeps them from drifting: a name in one and not the other fails, naming where to add it.
"""

import ast
import inspect
import pathlib

from minidl.functional import methods

TENSOR_PY = pathlib.Path(methods.__file__).resolve().parent.parent / "autograd" / "tensor.py"
WHERE = (
    "minidl/autograd/tensor.py, in class Tensor's `if TYPE_CHECKING:` block, under the marker "
    "'# -- declarations added with new ops'"
)


def _declarations():
    """name -> list of FunctionDef nodes (several for an @overload) in Tensor's TYPE_CHECKING block."""
    tree = ast.parse(TENSOR_PY.read_text(encoding="utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor"]
    blocks = [
        n
        for n in cls.body
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "Tensor should have exactly one `if TYPE_CHECKING:` block of declarations"
    found = {}
    for node in blocks[0].body:
        if isinstance(node, ast.FunctionDef):
            found.setdefault(node.name, []).append(node)
    return found


def _decorators(node):
    return {d.id for d in node.decorator_list if isinstance(d, ast.Name)}


DECLARED = _declarations()


def test_every_attached_method_is_declared():
    missing = [name for name in {**methods.METHODS, **methods.PROPERTIES} if name not in DECLARED]
    assert not missing, (
        f"Tensor methods attached by minidl/functional/methods.py but not declared for type checkers: "
        f'{missing}. Add a typed declaration for each, e.g. `def {missing[0]}(self, ...) -> "Tensor": ...`'
        f" (with @property for a PROPERTIES entry), in {WHERE}."
    )


def test_every_declaration_is_attached():
    extra = [name for name in DECLARED if name not in methods.METHODS and name not in methods.PROPERTIES]
    assert not extra, (
        f"{extra} are declared in {WHERE.split(',')[0]}'s TYPE_CHECKING block but attached by no entry "
        f"of METHODS or PROPERTIES in minidl/functional/methods.py: a type checker would accept a "
        f"call that fails at run time. Add the op to the table or delete the declaration."
    )


def test_properties_are_declared_as_properties():
    for name, nodes in DECLARED.items():
        is_property = any("property" in _decorators(n) for n in nodes)
        expected = name in methods.PROPERTIES
        assert is_property == expected, (
            f"Tensor.{name}: functional/methods.py attaches it as a "
            f"{'property' if expected else 'method'}; declare it so in {WHERE.split(',')[0]}"
        )


def test_declared_options_have_the_attached_names_and_defaults():
    """A parameter the declaration lets a caller pass by keyword (``x.sum(dim=1, keepdim=True)``)
    has that name in the attached function, with the same default: otherwise mypy accepts a call
    that raises at run time, or rejects a correct one."""
    for name in DECLARED.keys() & methods.METHODS.keys():
        if name.startswith("__"):
            continue  # operators are called as operators, never with keywords
        runtime = list(inspect.signature(methods.METHODS[name]).parameters.values())[1:]
        by_name = {p.name: p for p in runtime}
        keyword_names = set()
        for node in DECLARED[name]:
            args = node.args
            every_positional = args.posonlyargs + args.args
            assert every_positional and every_positional[0].arg == "self", f"Tensor.{name}: self first"
            defaults = dict(zip([a.arg for a in every_positional][::-1], args.defaults[::-1]))
            positional = [a for a in args.args if a.arg != "self"]  # those a caller may name
            defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
            for arg in positional + args.kwonlyargs:
                keyword_names.add(arg.arg)
                where = f"Tensor.{name}({arg.arg}=...) in {TENSOR_PY.name}"
                assert arg.arg in by_name, (
                    f"{where}: the attached function {methods.METHODS[name].__qualname__} has no "
                    f"parameter {arg.arg!r} (its parameters: {list(by_name)}); rename it, or make it "
                    f"positional-only with `/`"
                )
                if arg.arg in defaults and not _is_none_for_overload(node, arg.arg, defaults):
                    declared = ast.literal_eval(defaults[arg.arg])
                    actual = by_name[arg.arg].default
                    assert declared == actual, f"{where}: declared default {declared!r}, attached {actual!r}"
            if args.vararg:
                star = [p for p in runtime if p.kind is inspect.Parameter.VAR_POSITIONAL]
                assert star, f"Tensor.{name}(*{args.vararg.arg}): the attached function takes no *args"
        # every option the attached function has is declared (positional-only ones are counted by place)
        declared_count = max(
            len(n.args.posonlyargs) + len(n.args.args) - 1 + len(n.args.kwonlyargs) for n in DECLARED[name]
        )
        runtime_plain = [p for p in runtime if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        star_only = any(n.args.vararg for n in DECLARED[name])
        if not star_only:
            assert declared_count == len(runtime_plain), (
                f"Tensor.{name}: declared with {declared_count} parameter(s) after self, attached "
                f"function takes {len(runtime_plain)} ({[p.name for p in runtime_plain]})"
            )


def _is_none_for_overload(node, arg, defaults):
    """In an @overload, ``dim: None = None`` narrows the type; the attached default may differ."""
    return (
        "overload" in _decorators(node)
        and isinstance(defaults[arg], ast.Constant)
        and defaults[arg].value is None
    )


def test_a_missing_declaration_is_reported_by_name(monkeypatch):
    """The check itself can fail: a method attached without a declaration is named."""
    monkeypatch.setitem(methods.METHODS, "cumsum_not_declared", lambda x, dim: x)
    try:
        test_every_attached_method_is_declared()
    except AssertionError as err:
        assert "cumsum_not_declared" in str(err) and "TYPE_CHECKING" in str(err)
    else:
        raise AssertionError("an undeclared method passed the check")
