"""nn's in-place updates of gradients go through the tensor's in-place ops, so ``_version`` counts
them: a graph that saved a gradient refuses it once zero_grad or clipping has changed it."""

import pytest

import minidl
from minidl import nn


def _net_with_gradients():
    net = nn.Linear(3, 2)
    net(minidl.randn(4, 3)).sum().backward()
    return net


def test_zero_grad_to_zeros_is_seen_by_a_graph_that_saved_the_gradient():
    net = _net_with_gradients()
    w = minidl.randn(2, 3, requires_grad=True)
    saved = net.weight.grad
    y = (saved * w).sum()  # Mul saves the gradient: d y/d w = grad
    before = saved._version
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is saved and not saved.numpy().any()
    assert saved._version > before
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_clip_grad_value_counts_its_change():
    net = _net_with_gradients()
    grads = [p.grad for p in net.parameters()]
    before = [g._version for g in grads]
    nn.utils.clip_grad_value_(net.parameters(), 1e-3)
    assert all(g._version > v for g, v in zip(grads, before))
    assert all(abs(g.numpy()).max() <= 1e-3 for g in grads)


def test_clip_grad_norm_counts_its_change():
    net = _net_with_gradients()
    grads = [p.grad for p in net.parameters()]
    before = [g._version for g in grads]
    nn.utils.clip_grad_norm_(net.parameters(), max_norm=1e-3)
    assert all(g._version > v for g, v in zip(grads, before))
