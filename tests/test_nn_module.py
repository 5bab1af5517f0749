"""minidl.nn mechanics: Parameter, Module registration and traversal, modes, dtype/device moves,
state_dict save/load, repr, the containers, and the gradient-clipping utilities."""

import collections
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn as nn


def _t(values, dtype=None):
    return minidl.tensor(values, dtype=dtype)


class Block(nn.Module):
    """A small module with every kind of member: a parameter, an absent parameter, a persistent and
    a non-persistent buffer, a child, and a plain attribute."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(_t([1.0, 2.0]))
        self.register_parameter("shift", None)
        self.register_buffer("count", _t([0.0, 0.0]))
        self.register_buffer("scratch", _t([5.0]), persistent=False)
        self.fc = nn.Linear(2, 3)
        self.name = "block"

    def forward(self, x):
        return self.fc(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(3, 1)

    def forward(self, x):
        return self.head(self.block(x).relu())


# ---------------------------------------------------------------------------------------------
# Parameter


def test_parameter_wraps_without_copy_and_requires_grad():
    t = _t([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.data is t.data and p.requires_grad and p.is_leaf and p.grad is None
    assert isinstance(p, minidl.Tensor)
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_repr_and_ops_return_plain_tensors():
    p = nn.Parameter(_t([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    y = p * 2
    assert type(y) is minidl.Tensor and y.grad_fn is not None
    assert type(p.detach()) is minidl.Tensor


def test_parameter_of_integers_is_refused():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(_t([1, 2]))


# ---------------------------------------------------------------------------------------------
# Registration and traversal


def test_attributes_register_by_type():
    b = Block()
    assert list(b._parameters) == ["scale", "shift"] and b.shift is None
    assert list(b._buffers) == ["count", "scratch"]
    assert list(b._modules) == ["fc"]
    assert b.name == "block" and "name" not in b._parameters
    assert [n for n, _ in b.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    assert [n for n, _ in b.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in b.named_buffers()] == ["count", "scratch"]
    assert list(b.parameters())[0] is b.scale
    assert list(b.buffers())[0] is b.count


def test_named_modules_children_and_nesting():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert list(net.modules())[0] is net
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale",
        "block.fc.weight",
        "block.fc.bias",
        "head.weight",
        "head.bias",
    ]
    assert net.num_parameters() == 2 + 6 + 3 + 3 + 1


def test_shared_parameters_and_modules_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    # state_dict lists a shared parameter under each of its names, as PyTorch does
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_reassigning_moves_between_registries_and_delattr():
    b = Block()
    b.fc = nn.Parameter(_t([3.0]))  # a child replaced by a parameter
    assert "fc" not in b._modules and b._parameters["fc"] is b.fc
    b.fc = None  # a registered parameter may be set to None ...
    assert b._parameters["fc"] is None
    del b.scale
    assert "scale" not in b._parameters
    with pytest.raises(AttributeError):
        b.scale


def test_assigning_a_plain_tensor_to_a_parameter_is_an_error():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = minidl.zeros(2, 2)


def test_buffer_assignment_keeps_it_a_buffer():
    b = Block()
    new = _t([7.0, 8.0])
    b.count = new
    assert b._buffers["count"] is new and "count" not in b.__dict__
    with pytest.raises(TypeError, match="buffer 'count'"):
        b.count = 3


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(_t([1.0]))
            super().__init__()

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_register_checks_names_and_types():
    m = nn.Module()
    with pytest.raises(KeyError):
        m.register_buffer("a.b", _t([1.0]))
    with pytest.raises(TypeError):
        m.register_parameter("w", _t([1.0]))  # a Tensor, not a Parameter
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("training", _t([1.0]))
    m.add_module("child", nn.ReLU())
    assert m.child is m._modules["child"]


def test_missing_attribute_error_names_the_class():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(1, 1).wieght


def test_call_runs_forward_and_base_forward_is_missing():
    net = Net()
    x = minidl.randn(4, 2)
    assert net(x).shape == (4, 1)
    with pytest.raises(NotImplementedError, match="Module \\[Module\\] is missing the required 'forward'"):
        nn.Module()(x)


def test_apply_visits_children_first_and_returns_self():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "Linear", "Net"]


# ---------------------------------------------------------------------------------------------
# Modes and gradients


def test_train_eval_propagate_to_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.training and not net.block.fc.training


def test_zero_grad_to_none_and_to_zeros():
    net = Net()
    net(minidl.randn(3, 2)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g for p, g in zip(net.parameters(), grads))
    assert all(float(abs(p.grad).sum()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_switches_every_parameter():
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert net.num_parameters(trainable_only=True) == 0


# ---------------------------------------------------------------------------------------------
# to(), float(), double(): in place, keeping the Parameter objects


def test_to_float64_keeps_parameter_identity_and_grads():
    bn = nn.BatchNorm1d(2)
    net = nn.Sequential(nn.Linear(2, 2), bn)
    params = list(net.parameters())
    net(minidl.randn(4, 2)).sum().backward()
    weight_before = params[0].detach().numpy().copy()
    assert net.to(minidl.float64) is net
    assert list(net.parameters()) == params  # the same objects: an optimizer holding them still works
    assert all(p.dtype == minidl.float64 and p.grad.dtype == minidl.float64 for p in params)
    assert bn.running_mean.dtype == minidl.float64 and bn.running_var.dtype == minidl.float64
    assert bn.num_batches_tracked.dtype == minidl.int64  # integer buffers keep their dtype
    np.testing.assert_allclose(params[0].detach().numpy(), weight_before, rtol=1e-7)
    assert all(p.requires_grad and p.is_leaf for p in params)
    net.float()
    assert all(p.dtype == minidl.float32 for p in params)
    net.double()
    assert all(p.dtype == minidl.float64 for p in params)
    assert net.cpu() is net and params[0].device == "cpu"


def test_to_refuses_integer_dtypes():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Linear(2, 2).to(minidl.int64)


@pytest.mark.skipif(minidl.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(Exception, match="(?i)cupy|gpu|cuda"):
        nn.Linear(2, 2).cuda()


@pytest.mark.gpu
def test_cuda_round_trip_keeps_parameters_and_matches_cpu():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32, 3),
        nn.Dropout(0.0),
    )
    params = list(net.parameters())
    x = minidl.randn(2, 1, 4, 4)
    expected = net(x).detach().numpy()
    net.cuda()
    assert list(net.parameters()) == params and all(p.device.type == "cuda" for p in params)
    assert all(b.device.type == "cuda" for b in net.buffers())
    y = net(x.to("cuda"))
    y.sum().backward()
    assert all(p.grad.device.type == "cuda" for p in params)
    np.testing.assert_allclose(y.detach().cpu().numpy(), expected, rtol=1e-4, atol=1e-5)
    net.cpu()
    assert all(p.device == "cpu" and p.grad.device == "cpu" for p in params)


# ---------------------------------------------------------------------------------------------
# state_dict and load_state_dict


def test_state_dict_keys_values_and_detachment():
    b = Block()
    sd = b.state_dict()
    assert isinstance(sd, collections.OrderedDict)
    assert list(sd) == ["scale", "count", "fc.weight", "fc.bias"]  # no None entries, no scratch
    assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())
    assert sd["scale"].data is b.scale.data  # shares memory, like PyTorch's
    assert b.state_dict(keep_vars=True)["scale"] is b.scale
    assert list(b.state_dict(prefix="m.")) == ["m.scale", "m.count", "m.fc.weight", "m.fc.bias"]


def test_state_dict_round_trip_reproduces_outputs():
    a, b = Net(), Net()
    x = minidl.randn(5, 2)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    snapshot = {k: v.clone() for k, v in a.state_dict().items()}
    result = b.load_state_dict(snapshot)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # values are copied in: the loaded module does not share memory with the dict
    assert b.block.scale.data is not snapshot["block.scale"].data
    params_before = list(b.parameters())
    b.load_state_dict(a.state_dict())
    assert list(b.parameters()) == params_before


def test_load_state_dict_casts_to_the_module_dtype_and_takes_arrays():
    lin = nn.Linear(2, 1)
    lin.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": _t([0.5], dtype=minidl.float64)})
    assert lin.weight.dtype == minidl.float32 and lin.bias.dtype == minidl.float32
    assert lin.weight.tolist() == [[1.0, 2.0]] and lin.bias.tolist() == [0.5]


def test_load_state_dict_strict_errors_name_every_problem():
    lin = nn.Linear(2, 3)
    bad = {"weight": minidl.zeros(2, 2), "extra": minidl.zeros(1)}
    with pytest.raises(RuntimeError) as err:
        lin.load_state_dict(bad)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Linear" in msg
    assert 'Missing key(s) in state_dict: "bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra".' in msg
    assert (
        "size mismatch for weight: copying a param with shape (2, 2) from checkpoint, "
        "the shape in current model is (3, 2)" in msg
    )


def test_failed_load_changes_nothing():
    lin = nn.Linear(2, 3)
    before = lin.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        lin.load_state_dict({"weight": minidl.ones(3, 2), "bias": minidl.ones(4)})
    np.testing.assert_array_equal(lin.weight.detach().numpy(), before)


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    lin = nn.Linear(2, 3)
    missing, unexpected = lin.load_state_dict(
        {"weight": minidl.ones(3, 2), "other": minidl.ones(1)}, strict=False
    )
    assert missing == ["bias"] and unexpected == ["other"]
    assert lin.weight.tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(RuntimeError, match="size mismatch for weight"):  # shapes are checked anyway
        lin.load_state_dict({"weight": minidl.ones(1, 2)}, strict=False)


def test_buffers_round_trip_and_non_persistent_are_not_expected():
    bn = nn.BatchNorm1d(2)
    bn(minidl.tensor([[1.0, 2.0], [3.0, 6.0]]))
    other = nn.BatchNorm1d(2)
    other.load_state_dict(bn.state_dict())
    assert other.running_mean.tolist() == pytest.approx(bn.running_mean.tolist())
    assert int(other.num_batches_tracked.item()) == 1
    b = Block()
    sd = b.state_dict()
    assert "scratch" not in sd
    b.load_state_dict(sd)  # strict, and 'scratch' is not reported missing


# ---------------------------------------------------------------------------------------------
# repr


def test_repr_nests_and_indents_like_pytorch():
    net = nn.Sequential(
        nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.25)), nn.Conv2d(1, 2, 3, bias=False)
    )
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.25, inplace=False)\n"
        "  )\n"
        "  (2): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), bias=False)\n"
        ")"
    )
    assert repr(Net()).startswith("Net(\n  (block): Block(\n    (fc): Linear(")


def test_repr_with_extra_repr_and_children():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Identity()

        def extra_repr(self):
            return "factor=2"

    assert repr(Scaled()) == "Scaled(\n  factor=2\n  (inner): Identity()\n)"


# ---------------------------------------------------------------------------------------------
# Containers


def test_sequential_chains_indexes_and_slices():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    assert list(seq) == [seq[0], seq[1], seq[2]]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    x = minidl.randn(3, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), seq[2](seq[1](seq[0](x))).detach().numpy())
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Sigmoid"]
    assert list(seq._modules) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(collections.OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]


def test_module_list_registers_and_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 1))
    layers.insert(0, nn.ReLU())
    assert len(layers) == 4 and isinstance(layers[0], nn.ReLU) and layers[-1].out_features == 1
    assert len(list(layers.parameters())) == 6
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    assert len(layers[1:3]) == 2
    layers += [nn.Tanh()]
    del layers[0]
    assert len(layers) == 4 and isinstance(layers[-1], nn.Tanh)
    with pytest.raises(NotImplementedError):
        layers(minidl.randn(1, 2))


def test_module_dict_registers_in_insertion_order():
    heads = nn.ModuleDict({"b": nn.Linear(2, 1), "a": nn.Linear(2, 3)})
    heads["c"] = nn.Identity()
    assert list(heads) == ["b", "a", "c"] and list(heads.keys()) == ["b", "a", "c"]
    assert "a" in heads and len(heads) == 3
    assert [n for n, _ in heads.named_parameters()] == ["b.weight", "b.bias", "a.weight", "a.bias"]
    assert heads.pop("c") is not None and len(heads) == 2


def test_identity_returns_its_input():
    x = minidl.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x


# ---------------------------------------------------------------------------------------------
# clip_grad_norm_ / clip_grad_value_


def _params_with_grads():
    a, b = nn.Parameter(_t([1.0, 1.0])), nn.Parameter(_t([1.0]))
    a.grad, b.grad = _t([3.0, 4.0]), _t([12.0])
    return a, b


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_total():
    a, b = _params_with_grads()
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    # ||(3, 4, 12)||_2 = sqrt(9 + 16 + 144) = 13
    assert float(total) == pytest.approx(13.0)
    scale = 1.0 / (13.0 + 1e-6)
    assert a.grad.tolist() == pytest.approx([3 * scale, 4 * scale])
    assert b.grad.tolist() == pytest.approx([12 * scale])


def test_clip_grad_norm_leaves_small_gradients_and_other_norms():
    a, b = _params_with_grads()
    assert float(nn.utils.clip_grad_norm_((a, b), max_norm=20.0)) == pytest.approx(13.0)
    assert a.grad.tolist() == [3.0, 4.0]
    assert float(nn.utils.clip_grad_norm_([a, b], 100.0, norm_type=1)) == pytest.approx(19.0)
    total = nn.utils.clip_grad_norm_([a, b], 6.0, norm_type=math.inf)
    assert float(total) == 12.0 and b.grad.tolist() == pytest.approx([6.0], rel=1e-6)


def test_clip_grad_norm_skips_parameters_without_grad_and_checks_finite():
    a, b = _params_with_grads()
    c = nn.Parameter(_t([1.0]))
    assert float(nn.utils.clip_grad_norm_([a, c], 100.0)) == pytest.approx(5.0)
    assert float(nn.utils.clip_grad_norm_([c], 1.0)) == 0.0
    b.grad = _t([math.inf])
    with pytest.raises(RuntimeError, match="inf"):
        nn.utils.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_elementwise():
    a, b = _params_with_grads()
    nn.utils.clip_grad_value_([a, b], 3.5)
    assert a.grad.tolist() == [3.0, 3.5] and b.grad.tolist() == [3.5]


def test_nn_functional_is_minidl_functional():
    import minidl.nn.functional as F

    assert F.relu is minidl.functional.relu and F.dropout is minidl.functional.dropout
    assert F.cross_entropy is minidl.functional.cross_entropy and F.batch_norm is minidl.functional.batch_norm


# A list edit, as (name, index or slice bounds); applied to a ModuleList and to a Python list alike.
_list_edits = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.just(0)),
        st.tuples(st.just("insert"), st.integers(-6, 6)),
        st.tuples(st.just("set"), st.integers(-6, 6)),
        st.tuples(st.just("del"), st.integers(-6, 6)),
        st.tuples(st.just("del_slice"), st.tuples(st.integers(-6, 6), st.integers(-6, 6))),
    ),
    max_size=12,
)


# Containers of Identity modules, no arrays: well under a millisecond an example.
@settings(max_examples=200)
@given(start=st.integers(0, 4), edits=_list_edits)
def test_module_list_behaves_like_a_list_and_keeps_names_0_to_n(start, edits):
    layers = nn.ModuleList([nn.Identity() for _ in range(start)])
    mirror = list(layers)
    for op, where in edits:
        if op == "append":
            module = nn.Identity()
            layers.append(module)
            mirror.append(module)
        elif op == "insert":
            module = nn.Identity()
            layers.insert(where, module)
            mirror.insert(where, module)
        elif op == "del_slice":
            del layers[slice(*where)]
            del mirror[slice(*where)]
        elif -len(mirror) <= where < len(mirror):
            if op == "set":
                module = nn.Identity()
                layers[where] = module
                mirror[where] = module
            else:
                del layers[where]
                del mirror[where]
        else:
            with pytest.raises(IndexError, match="out of range"):
                if op == "set":
                    layers[where] = nn.Identity()
                else:
                    del layers[where]
        assert len(layers) == len(mirror)
        assert all(a is b for a, b in zip(layers, mirror))
        assert [name for name, _ in layers.named_children()] == [str(i) for i in range(len(mirror))]
        assert all(layers[i] is m for i, m in enumerate(mirror))


@pytest.mark.parametrize(
    "register, kind, expected",
    [
        (lambda m, v: m.register_parameter("p", v), "parameter", "Parameter"),
        (lambda m, v: m.register_buffer("b", v), "buffer", "Tensor"),
        (lambda m, v: m.add_module("c", v), "module", "Module"),
    ],
)
def test_register_refuses_the_wrong_type_and_a_taken_name(register, kind, expected):
    m = nn.Module()
    with pytest.raises(
        TypeError, match=f"cannot register list as {kind} '.' \\(a {expected} or None expected\\)"
    ):
        register(m, [1.0])
    assert not list(m.named_parameters()) and not list(m.named_buffers()) and not list(m.named_children())
    m.__dict__.update(p=1, b=1, c=1)  # plain attributes of those names
    with pytest.raises(KeyError, match="already exists"):
        register(m, None)
