"""The backward pass: walk the graph from the outputs to the leaves, applying the chain rule.

1. Find every node reachable from the outputs, and count for each how many edges point at it
   (how many gradient contributions it must wait for). The walk uses an explicit stack, not
   recursion, so a chain of 100,000 ops is no problem.
2. Start from the outputs with their gradients (ones for a scalar loss). A node runs its
   ``backward`` only once all its contributions have arrived and been summed: that is what makes
   the order topological without sorting.
3. Each gradient an op returns is reduced to its input's shape (undoing broadcasting) and cast
   to its input's dtype here, centrally, before it is passed on.
4. Leaves (tensors with no grad_fn) receive the summed gradient in ``.grad``.
5. Unless ``retain_graph=True``, each node frees what it saved as soon as it has run, so memory
   does not grow over a training loop, and a second backward through it is a clear error.
"""

from collections.abc import Sequence

import numpy

from ..backend.device import on_device_of, xp_of
from . import grad_mode
from .broadcast import sum_to
from .convert import cast, clone
from .function import Context
from .tensor import Tensor


def backward(
    outputs: Sequence[Tensor],
    gradients: Sequence[Tensor | None],
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate gradients into the ``.grad`` of the leaves (or of ``inputs`` only, if given)."""
    if retain_graph is None:
        retain_graph = create_graph
    targets = None if inputs is None else _as_list(inputs, "inputs")
    grads = _run(outputs, gradients, retain_graph, create_graph, targets)
    for leaf, g in grads.items():
        _accumulate(leaf, g, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs), returned as a tuple instead of stored in ``.grad``.

    ``grad_outputs`` are the gradients of some scalar with respect to ``outputs`` (ones for scalar
    outputs). With ``create_graph=True`` the results are differentiable again.
    """
    outputs = _as_list(outputs, "outputs")
    inputs = _as_list(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_list(grad_outputs, "grad_outputs", allow_none=True)
    if retain_graph is None:
        retain_graph = create_graph
    found = _run(outputs, grad_outputs, retain_graph, create_graph, inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(t)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


# ---------------------------------------------------------------------------------------------


def _as_list(x, what, allow_none=False):
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    for item in items:
        if not isinstance(item, Tensor) and not (allow_none and item is None):
            raise TypeError(f"backward: {what} must be tensors, got {type(item).__name__}")
    return items


def _initial_gradient(out, gradient):
    if not out.requires_grad:
        raise RuntimeError(
            f"backward: the tensor of shape {out.shape} does not require grad and has no grad_fn; "
            "it was not computed from any tensor with requires_grad=True (or was computed under no_grad)"
        )
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can be created implicitly only for a scalar output, but the output "
                f"has shape {out.shape}; call .sum() first or pass gradient= of shape {out.shape}"
            )
        with on_device_of(out.data):  # CuPy allocates on the current GPU
            return Tensor._make(xp_of(out.data).ones_like(out.data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient, dtype=out.dtype, device=out.device)
    if gradient.shape != out.shape:
        raise RuntimeError(
            f"backward: gradient has shape {gradient.shape} but the output has shape {out.shape}"
        )
    return gradient


def _key(t):
    """The graph vertex of a tensor: its producing node, or the tensor itself for a leaf."""
    return t.grad_fn if t.grad_fn is not None else t


def _count_dependencies(roots):
    """For each vertex reachable from ``roots``: how many edges point at it."""
    deps: dict[Context | Tensor, int] = {}
    seen = set()
    stack = [r for r in roots if isinstance(r, Context)]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in node.edges:
            if edge is None:
                continue
            deps[edge] = deps.get(edge, 0) + 1
            if isinstance(edge, Context) and edge not in seen:
                stack.append(edge)
    return deps


def _run(outputs, gradients, retain_graph, create_graph, targets):
    """Propagate; return {leaf: gradient}, or {target tensor: gradient} when targets are given."""
    pending: dict[Context | Tensor, Tensor] = {}
    roots = []
    for out, g in zip(outputs, gradients):
        key = _key(out)
        g = _initial_gradient(out, g)
        pending[key] = pending[key] + g if key in pending else g
        roots.append(key)

    captured_nodes = {}
    if targets is not None:
        for t in targets:
            if not t.requires_grad:
                raise RuntimeError(f"grad: an input of shape {t.shape} does not require grad")
            captured_nodes[_key(t)] = t

    deps = _count_dependencies(roots)
    ready = [r for r in dict.fromkeys(roots) if deps.get(r, 0) == 0]
    leaves = {}
    found = {}

    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            vertex = ready.pop()
            g = pending.pop(vertex, None)
            if vertex in captured_nodes and g is not None:
                found[captured_nodes[vertex]] = g
            if isinstance(vertex, Tensor):  # a leaf: its gradient is complete
                if g is not None and vertex.requires_grad:
                    leaves[vertex] = g
                continue
            node = vertex
            if node.released:
                raise RuntimeError(
                    f"backward through {node!r} a second time: its saved values were freed by the first "
                    "backward(). Pass retain_graph=True to the first call if you need to go back twice"
                )
            input_grads = _call_backward(node, g) if g is not None else (None,) * len(node.edges)
            if node.retained_output is not None and g is not None:
                out = node.retained_output()
                if out is not None:
                    _accumulate(out, g, create_graph)
            if not retain_graph:
                node.release()
            for edge, meta, ig in zip(node.edges, node.input_meta, input_grads):
                if edge is None:
                    continue
                if ig is not None:
                    ig = _conform(node, ig, meta)
                    pending[edge] = pending[edge] + ig if edge in pending else ig
                deps[edge] -= 1
                if deps[edge] == 0:
                    ready.append(edge)

    return found if targets is not None else leaves


def _call_backward(node, g):
    with on_device_of(g.data):  # the node's GPU current, as in Function.apply
        result = node.function.backward(node, g)
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != len(node.edges):
        raise RuntimeError(
            f"{node.function.__name__}.backward returned {len(result)} gradient(s), "
            f"but forward took {len(node.edges)} argument(s)"
        )
    return tuple(r if r is None or isinstance(r, Tensor) else Tensor._make(r) for r in result)


def _conform(node, g, meta):
    """Reduce a broadcast gradient to the input's shape and cast it to the input's dtype."""
    shape, dtype = meta
    if g.shape != shape:
        try:
            g = sum_to(g, shape)
        except ValueError:
            raise RuntimeError(
                f"{node.function.__name__}.backward returned a gradient of shape {g.shape} "
                f"for an input of shape {shape}"
            ) from None
    if g.dtype != dtype:
        g = cast(g, dtype)
    return g


def _accumulate(t, g, create_graph):
    """``t.grad += g``; the first gradient is copied so that no two ``.grad`` share memory."""
    with on_device_of(t.data):
        _accumulate_here(t, g, create_graph)


def _accumulate_here(t, g, create_graph):
    if create_graph:
        # a clone, so that two leaves never hold one gradient tensor (Add passes its grad to both)
        t.grad = clone(g) if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = Tensor._make(numpy.array(g.data) if isinstance(g.data, numpy.ndarray) else g.data.copy())
    else:
        t.grad.data += g.data
        t.grad._version += 1  # a graph that saved this .grad must see that it changed
