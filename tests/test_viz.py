"""minidl.viz: the DOT text of an autograd graph, rendering it with or without Graphviz, and the
setup every tutorial chapter starts from (chapter_setup)."""

import re
import shutil
import warnings

import pytest

import minidl as md
from minidl import viz


def _nodes(dot):
    """{node id: label} from DOT text."""
    return {
        m.group(1): m.group(2).replace("\\n", "\n")
        for m in re.finditer(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M)
    }


def _edges(dot):
    return re.findall(r"^\s*(n\d+) -> (n\d+);", dot, re.M)


def test_sum_of_product_plus_input():
    a = md.randn(2, 3, requires_grad=True)
    b = md.randn(2, 3, requires_grad=True)
    y = ((a * b) + a).sum()
    dot = viz.to_dot(y)
    nodes = _nodes(dot)
    # numbered in the order a depth-first walk from the output meets them, input 0 first
    assert nodes == {
        "n0": "SumBackward\n() float32",
        "n1": "AddBackward\n(2, 3) float32",
        "n2": "MulBackward\n(2, 3) float32",
        "n3": "(2, 3) float32\nrequires_grad=True",
        "n4": "(2, 3) float32\nrequires_grad=True",
    }
    # arrows go from inputs to the op that used them; `a` (n3) feeds both Mul and Add
    assert sorted(_edges(dot)) == sorted(
        [("n1", "n0"), ("n2", "n1"), ("n3", "n1"), ("n3", "n2"), ("n4", "n2")]
    )
    assert dot.startswith('digraph "autograd" {') and dot.rstrip().endswith("}")
    # leaves are boxes, ops ellipses, the output highlighted
    assert re.search(r"n3 \[.*shape=box", dot) and re.search(r"n2 \[.*shape=ellipse", dot)
    assert re.search(r"n0 \[.*penwidth=2", dot) and not re.search(r"n1 \[.*penwidth", dot)
    assert viz.to_dot(y) == dot  # deterministic


def test_leaf_names_in_every_form():
    a = md.randn(3, requires_grad=True)
    b = md.randn(3, requires_grad=True)
    y = (a * b).sum()
    for names in (
        {"a": a, "b": b, "loss": y},
        {a: "a", b: "b", y: "loss"},
        {id(a): "a", id(b): "b", id(y): "loss"},
    ):
        nodes = _nodes(viz.to_dot(y, names=names))
        assert nodes["n0"].startswith("loss\nSumBackward")
        assert nodes["n2"] == "a\n(3,) float32\nrequires_grad=True"
        assert nodes["n3"] == "b\n(3,) float32\nrequires_grad=True"
    with pytest.raises(TypeError, match="names"):
        viz.to_dot(y, names={1.5: "x"})


def test_quotes_in_names_are_escaped():
    a = md.randn(2, requires_grad=True)
    dot = viz.to_dot(a.sum(), names={'say "hi"\\': a})
    assert r"say \"hi\"\\" in dot


def test_inputs_without_grad_are_not_drawn_and_repeated_inputs_are():
    x = md.randn(4, requires_grad=True)
    c = md.randn(4)  # a constant: its edge is None
    y = (x * x + c).sum()
    dot = viz.to_dot(y)
    assert len(_nodes(dot)) == 4  # Sum, Add, Mul, x
    assert _edges(dot).count(("n3", "n2")) == 2  # x * x: two arrows from x into Mul


def test_a_leaf_alone_and_a_non_tensor():
    a = md.ones(2, 2)
    dot = viz.to_dot(a)
    assert _nodes(dot) == {"n0": "(2, 2) float32\nrequires_grad=False"} and not _edges(dot)
    with pytest.raises(TypeError, match="Tensor"):
        viz.to_dot([1, 2])


def test_show_saved_before_and_after_backward():
    x = md.randn(3, requires_grad=True)
    y = x.exp().sum()
    before = viz.to_dot(y, show_saved=True)
    assert "saved" in before or "ctx." in before
    y.backward()
    after = viz.to_dot(y, show_saved=True)
    # backward frees what the nodes saved, not the edges: the structure is still drawn
    assert after.count("freed by backward") == 2
    assert _edges(after) == _edges(before)
    assert viz.to_dot(y) == viz.to_dot(y, show_saved=False)


def test_deep_chain_does_not_recurse():
    x = md.randn(2, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    dot = viz.to_dot(y.sum())
    assert len(_nodes(dot)) == 10_002
    assert len(_edges(dot)) == 10_001


def test_render_dot_only(tmp_path):
    x = md.randn(2, requires_grad=True)
    y = (x * 2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = viz.render(y, tmp_path / "g.dot")
    assert written == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == viz.to_dot(y)
    assert viz.render(y, tmp_path / "plain", format="dot") == str(tmp_path / "plain.dot")
    with pytest.raises(ValueError, match="format"):
        viz.render(y, tmp_path / "g.jpeg2000")


def test_render_without_graphviz_writes_dot_and_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    x = md.randn(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.warns(RuntimeWarning, match="Graphviz is not installed.*apt-get install graphviz"):
        written = viz.render(y, tmp_path / "sub" / "graph.svg")
    assert written == str(tmp_path / "sub" / "graph.dot")
    assert (tmp_path / "sub" / "graph.dot").read_text() == viz.to_dot(y)
    assert not (tmp_path / "sub" / "graph.svg").exists()


def test_render_when_graphviz_fails_warns_and_keeps_the_dot(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(viz.shutil, "which", lambda name: str(fake))
    y = (md.randn(2, requires_grad=True) * 2).sum()
    with pytest.warns(RuntimeWarning, match="exit code 3.*syntax error"):
        written = viz.render(y, tmp_path / "g", format="svg")
    assert written == str(tmp_path / "g.dot") and not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_with_graphviz_writes_svg(tmp_path):
    x = md.randn(2, 3, requires_grad=True)
    y = (x.relu() * x).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = viz.render(y, tmp_path / "graph.svg", names={"x": x})
    assert written == str(tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "ReluBackward" in svg and "MulBackward" in svg
    assert (tmp_path / "graph.dot").exists()
    png = viz.render(y, tmp_path / "graph.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_chapter_setup_reads_the_environment_creates_out_and_seeds(tmp_path, monkeypatch):
    out = tmp_path / "nested" / "out"
    monkeypatch.setenv("MINIDL_TUTORIAL_OUT", str(out))
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    md.randn(3)  # move the generator on, so that only the seed can make the two draws equal
    folders = viz.chapter_setup(seed=5)
    assert folders == (str(out), str(tmp_path / "data")) and folders.out == str(out)
    assert out.is_dir()
    first = md.randn(4).numpy()
    md.manual_seed(5)
    assert (md.randn(4).numpy() == first).all()


def test_chapter_setup_defaults_and_script_backend(tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINIDL_TUTORIAL_OUT", raising=False)
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    assert viz.chapter_setup() == ("tutorial_out", "data")
    assert (tmp_path / "tutorial_out").is_dir() and not (tmp_path / "data").exists()
    assert matplotlib.get_backend().lower() == "agg"  # not under ipykernel: draw into files
