"""Drawing the autograd graph: ``to_dot(t)`` gives Graphviz DOT text, ``render(t, path)`` a file.

The graph is the one the engine walks in ``loss.backward()`` (``minidl/autograd/engine.py``):

- an **op node** for every ``Context`` (``t.grad_fn``), labelled with its name (``MulBackward``)
  and the shape and dtype of the tensor it produced;
- a **leaf node** (a box) for every leaf tensor that requires grad: the tensors whose ``.grad``
  ``backward()`` fills in;
- an **arrow** from each input to the op that consumed it, following ``ctx.edges`` (the forward
  direction: backward walks the arrows the other way). Inputs that do not require grad have no
  edge (``None``) and are not drawn.

The output tensor's node is highlighted. The text is deterministic: nodes are numbered in the
order a depth-first walk from the output first meets them, so two runs give the same DOT.

The walk uses an explicit stack, like the engine's, so a graph 10,000 ops deep is fine. A graph
can be drawn before ``backward()`` or after it: backward frees what the nodes *saved*, not the
edges between them (``show_saved=True`` marks the freed ones).

Rendering to SVG/PNG needs Graphviz's ``dot`` program (``apt-get install graphviz``); without it
``render`` still writes the ``.dot`` file, and says so.

``chapter_setup()`` is where the pictures of a tutorial chapter go: the first line of every
chapter in ``tutorials/``, so that each runs the same way as a script and as a notebook.
"""

import os
import shutil
import subprocess
import sys
import warnings
from typing import Any, NamedTuple

from .autograd.function import Context
from .autograd.tensor import Tensor
from .random import manual_seed

__all__ = ["to_dot", "render", "chapter_setup", "ChapterFolders"]

_OP_STYLE = 'shape=ellipse, style=filled, fillcolor="#f2f2f2"'
_LEAF_STYLE = 'shape=box, style=filled, fillcolor="#cfe2f3"'
_OUTPUT_FILL = 'fillcolor="#b6d7a8", penwidth=2'  # replaces the fill colour of the output's node
_RENDER_FORMATS = ("svg", "png", "pdf")


def to_dot(
    tensor: Tensor,
    show_saved: bool = False,
    names: dict[Any, Any] | None = None,
    graph_name: str = "autograd",
) -> str:
    """The DOT text of the graph that produced ``tensor``.

    names:      labels for tensors, as ``{"w": w, "x": x}``, ``{w: "w"}`` or ``{id(w): "w"}``
    show_saved: also list what each op saved for backward (or that backward freed it)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    labels = _name_table(names)
    root = tensor.grad_fn if tensor.grad_fn is not None else tensor

    # Depth-first walk from the output, numbering vertices in the order they are first met.
    ids: dict[Context | Tensor, str] = {}
    order: list[Context | Tensor] = []
    stack = [root]
    while stack:
        vertex = stack.pop()
        if vertex in ids:
            continue
        ids[vertex] = f"n{len(order)}"
        order.append(vertex)
        if isinstance(vertex, Context):
            # reversed, so that input 0 is popped (and numbered) first
            stack.extend(e for e in reversed(vertex.edges) if e is not None and e not in ids)

    # An op's output shape is what its consumers recorded as their input (ctx.input_meta);
    # the output's own op takes it from the tensor.
    produced = {root: (tensor.shape, tensor.dtype)} if isinstance(root, Context) else {}
    for vertex in order:
        if isinstance(vertex, Context):
            for edge, meta in zip(vertex.edges, vertex.input_meta):
                if isinstance(edge, Context) and meta is not None:
                    produced.setdefault(edge, meta)

    lines = [
        f"digraph {_quote(graph_name)} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=11];',
        "  edge [arrowsize=0.7];",
    ]
    for vertex in order:
        if isinstance(vertex, Context):
            label = [vertex.name()]
            if vertex in produced:
                shape, dtype = produced[vertex]
                label.append(f"{_shape(shape)} {dtype}")
            if vertex is root and id(tensor) in labels:
                label.insert(0, labels[id(tensor)])
            if show_saved:
                label.extend(_saved_lines(vertex))
            style = _OP_STYLE
        else:
            label = [f"{_shape(vertex.shape)} {vertex.dtype}", f"requires_grad={vertex.requires_grad}"]
            if id(vertex) in labels:
                label.insert(0, labels[id(vertex)])
            style = _LEAF_STYLE
        if vertex is root:
            style = style.rsplit(", fillcolor=", 1)[0] + ", " + _OUTPUT_FILL
        lines.append(f"  {ids[vertex]} [label={_quote(chr(10).join(label))}, {style}];")
    for vertex in order:
        if isinstance(vertex, Context):
            for edge in vertex.edges:
                if edge is not None:
                    lines.append(f"  {ids[edge]} -> {ids[vertex]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(
    tensor: Tensor,
    path: str | os.PathLike[str],
    format: str | None = None,
    show_saved: bool = False,
    names: dict[Any, Any] | None = None,
    timeout: float = 60,
) -> str:
    """Write the graph of ``tensor`` to ``path`` and return the path of the file written.

    The ``.dot`` text is always written (``graph.svg`` -> ``graph.dot`` beside it). For ``.svg``,
    ``.png`` or ``.pdf`` (or ``format=``), Graphviz's ``dot`` program then draws the picture; when
    it is not installed, a warning says so and the ``.dot`` path is returned instead.
    """
    path = os.fspath(path)
    stem, suffix = os.path.splitext(path)
    fmt = (format or suffix.lstrip(".") or "dot").lower()
    if fmt == "gv":
        fmt = "dot"
    if fmt != "dot" and fmt not in _RENDER_FORMATS:
        raise ValueError(
            f"render: unknown format {fmt!r}; expected 'dot', " + ", ".join(map(repr, _RENDER_FORMATS))
        )
    if not suffix or (fmt != "dot" and suffix.lower() in (".dot", ".gv")):
        path = stem + "." + fmt  # render(t, "graph", format="svg") -> graph.svg beside graph.dot
    dot_path = path if fmt == "dot" else stem + ".dot"

    text = to_dot(tensor, show_saved=show_saved, names=names)
    parent = os.path.dirname(os.path.abspath(dot_path))
    os.makedirs(parent, exist_ok=True)
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(text)
    if fmt == "dot":
        return dot_path

    program = shutil.which("dot")
    if program is None:
        warnings.warn(
            f"render: Graphviz is not installed (no `dot` program on PATH), so {path} was not "
            f"drawn; wrote the graph as DOT text to {dot_path} instead. Install Graphviz "
            f"(`apt-get install graphviz`, `brew install graphviz`) to get the picture, or "
            f"paste the .dot file into any Graphviz viewer.",
            RuntimeWarning,
            stacklevel=2,
        )
        return dot_path
    try:
        done = subprocess.run(
            [program, f"-T{fmt}", dot_path, "-o", path], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        warnings.warn(
            f"render: `dot` took longer than {timeout} s to draw {path}; the DOT text is in {dot_path}",
            RuntimeWarning,
            stacklevel=2,
        )
        return dot_path
    if done.returncode != 0:
        warnings.warn(
            f"render: `dot -T{fmt}` failed (exit code {done.returncode}): {done.stderr.strip()}; "
            f"the DOT text is in {dot_path}",
            RuntimeWarning,
            stacklevel=2,
        )
        return dot_path
    return path


class ChapterFolders(NamedTuple):
    out: str  # where the chapter writes its figures and tables
    data: str  # where datasets are cached (MNIST-1D is generated there on first use)


def chapter_setup(seed: int = 0) -> ChapterFolders:
    """What every tutorial chapter does first: ``OUT, DATA = md.viz.chapter_setup()``.

    - ``out``: ``$MINIDL_TUTORIAL_OUT``, else ``tutorial_out`` (created);
    - ``data``: ``$MINIDL_DATA``, else ``data``;
    - matplotlib draws into files (its Agg backend) when the chapter runs as a script, so no window
      opens and nothing blocks; in a notebook (under ipykernel) its inline backend is kept, so the
      figures show there too;
    - minidl's generator is seeded with ``seed``, so reruns print the same numbers.
    """
    if "ipykernel" not in sys.modules:
        try:
            import matplotlib
        except ImportError:  # a chapter that draws nothing does not need it
            pass
        else:
            matplotlib.use("Agg")  # also switches pyplot if the chapter imported it first
    out = os.environ.get("MINIDL_TUTORIAL_OUT", "tutorial_out")
    os.makedirs(out, exist_ok=True)
    manual_seed(seed)
    return ChapterFolders(out, os.environ.get("MINIDL_DATA", "data"))


# ---------------------------------------------------------------------------------------------


def _name_table(names: Any) -> dict[int, str]:
    """{id(tensor): name} from any of the three accepted forms."""
    table: dict[int, str] = {}
    if not names:
        return table
    if not isinstance(names, dict):
        raise TypeError(f"to_dot: names must be a dict, got {type(names).__name__}")
    for key, value in names.items():
        if isinstance(key, str) and isinstance(value, Tensor):
            table[id(value)] = key
        elif isinstance(key, Tensor):
            table[id(key)] = str(value)
        elif isinstance(key, int) and not isinstance(key, bool):
            table[key] = str(value)
        else:
            raise TypeError(
                "to_dot: names must map names to tensors ({'w': w}), tensors to names "
                f"({{w: 'w'}}) or ids to names ({{id(w): 'w'}}); got a {type(key).__name__} key"
            )
    return table


def _saved_lines(ctx: Context) -> list[str]:
    if ctx.released:
        return ["saved: freed by backward()"]
    lines = []
    saved = [t for t in ctx._saved if t is not None]
    if saved:
        lines.append("saved: " + ", ".join(f"{_shape(t.shape)} {t.dtype}" for t in saved))
    if isinstance(ctx._output, Tensor):
        lines.append(f"saved output: {_shape(ctx._output.shape)}")
    for key, value in ctx.__dict__.items():  # what forward stored as ctx.<name>
        if isinstance(value, Tensor) or hasattr(value, "shape") and hasattr(value, "dtype"):
            text = f"ctx.{key}: {_shape(value.shape)} {value.dtype}"
        else:
            text = f"ctx.{key} = {value!r}"
        lines.append(text if len(text) <= 32 else text[:29] + "...")
    return lines


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _quote(text: object) -> str:
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
