"""minidl.optim: every optimizer against updates computed by hand in plain float arithmetic, param
groups, zero_grad, closures, state_dict round trips, every learning-rate schedule against its
closed form, and each bad input's clear error. Optionally, the same against PyTorch."""

import math
import pathlib

import numpy as np
import pytest

import minidl
from minidl import optim
from minidl.optim import lr_scheduler as sched

# Hand-set gradients for a 2-parameter problem, one row per step. They change sign and size, so
# momentum, AMSGrad's running maximum and the centered average all matter.
GRADS = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1], [1.0, -0.5], [0.05, 0.8]]
X0 = [1.0, -2.0]
STEPS = len(GRADS)


def params(values=X0, dtype=minidl.float64):
    return minidl.tensor(values, dtype=dtype, requires_grad=True)


def run(opt_class, steps=STEPS, dtype=minidl.float64, **kwargs):
    """Apply GRADS[:steps] with the optimizer; return the final values as a list."""
    p = params(dtype=dtype)
    opt = opt_class([p], **kwargs)
    for g in GRADS[:steps]:
        p.grad = minidl.tensor(g, dtype=dtype)
        opt.step()
    return p.detach().tolist()


# -- the updates, by hand: one coordinate at a time, in plain Python floats ------------------------


def sgd_by_hand(x, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    buf = None
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * x
        if momentum:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        x = x - lr * g
    return x


def adam_by_hand(
    x,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas
    m = v = v_max = 0.0
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = max(v_max, v)
        v_hat = v_max if amsgrad else v
        x = x - lr / (1 - b1**t) * m / (math.sqrt(v_hat) / math.sqrt(1 - b2**t) + eps)
    return x


def rmsprop_by_hand(
    x, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
):
    v = a = buf = 0.0
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * x
        v = alpha * v + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g
        d = (math.sqrt(v - a * a) if centered else math.sqrt(v)) + eps
        if momentum > 0:
            buf = momentum * buf + g / d
            x = x - lr * buf
        else:
            x = x - lr * g / d
    return x


def by_hand(fn, steps=STEPS, **kwargs):
    return [fn(X0[i], [row[i] for row in GRADS[:steps]], **kwargs) for i in range(len(X0))]


# -- a few steps written out as literal numbers, so the references above are checked too ---------


def test_sgd_momentum_two_steps_written_out():
    # x=1, g=1 twice, lr 0.1, momentum 0.9: b1 = 1, x = 0.9; b2 = 0.9*1 + 1 = 1.9, x = 0.9 - 0.19
    p = params([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for expected in (0.9, 0.71):
        p.grad = minidl.tensor([1.0], dtype=minidl.float64)
        opt.step()
        assert p.item() == pytest.approx(expected, abs=1e-15)
    assert sgd_by_hand(1.0, [1.0, 1.0], lr=0.1, momentum=0.9) == pytest.approx(0.71, abs=1e-15)


def test_python_floats_become_float64_parameters_without_rounding_through_float32():
    # the hand computations below compare to 1e-12, which a detour through float32 would break
    assert params([0.1]).tolist() == [0.1]


def test_adam_first_step_is_lr_times_the_sign():
    # step 1: m̂ = g, v̂ = g², so the step is lr * g / (|g| + eps), whatever the size of g
    p = params([1.0, 1.0, 1.0])
    opt = optim.Adam([p], lr=0.1)
    p.grad = minidl.tensor([0.5, -3.0, 1e-3], dtype=minidl.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 1.1, 0.9], atol=1e-6)


def test_rmsprop_first_step_written_out():
    # v1 = (1 - 0.99) * 4 = 0.04, step = 0.01 * 2 / (0.2 + 1e-8)
    p = params([1.0])
    opt = optim.RMSprop([p], lr=0.01)
    p.grad = minidl.tensor([2.0], dtype=minidl.float64)
    opt.step()
    assert p.item() == pytest.approx(1.0 - 0.01 * 2 / (0.2 + 1e-8), abs=1e-15)


# -- each optimizer and option against the hand computation, over five steps ----------------------

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.5),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.8, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True),
    dict(lr=0.1, maximize=True),
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_hand_computation(kwargs):
    np.testing.assert_allclose(run(optim.SGD, **kwargs), by_hand(sgd_by_hand, **kwargs), rtol=0, atol=1e-12)


ADAM_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, betas=(0.9, 0.5), amsgrad=True),  # a small beta2 lets v fall, so its maximum matters
    dict(lr=0.1, betas=(0.9, 0.5), maximize=True, amsgrad=True, weight_decay=0.05),
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_hand_computation(kwargs):
    np.testing.assert_allclose(run(optim.Adam, **kwargs), by_hand(adam_by_hand, **kwargs), rtol=0, atol=1e-12)


def test_amsgrad_changes_the_result_on_these_gradients():
    # otherwise the amsgrad cases above would not test the running maximum at all
    amsgrad = run(optim.Adam, lr=0.1, betas=(0.9, 0.5), amsgrad=True)
    assert not np.allclose(amsgrad, run(optim.Adam, lr=0.1, betas=(0.9, 0.5)))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.1, weight_decay=0.5),
        dict(lr=0.1, betas=(0.9, 0.5), weight_decay=0.5, amsgrad=True, maximize=True),
    ],
    ids=str,
)
def test_adamw_matches_hand_computation(kwargs):
    expected = by_hand(adam_by_hand, decoupled=True, **{"weight_decay": 1e-2, **kwargs})
    np.testing.assert_allclose(run(optim.AdamW, **kwargs), expected, rtol=0, atol=1e-12)


def test_adamw_decay_is_not_adams_decay():
    assert not np.allclose(
        run(optim.AdamW, lr=0.1, weight_decay=0.5), run(optim.Adam, lr=0.1, weight_decay=0.5)
    )
    assert optim.AdamW([params()]).defaults["weight_decay"] == 1e-2


RMSPROP_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-4),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    dict(lr=0.01, maximize=True),
]


@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_matches_hand_computation(kwargs):
    np.testing.assert_allclose(
        run(optim.RMSprop, **kwargs), by_hand(rmsprop_by_hand, **kwargs), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: optim.Adam(p, lr=0.1),
        lambda p: optim.AdamW(p, lr=0.1),
        lambda p: optim.RMSprop(p, lr=0.01),
    ],
)
def test_float32_parameters_and_state_stay_float32(make):
    p = params(dtype=minidl.float32)
    opt = make([p])
    for g in GRADS:
        p.grad = minidl.tensor(g, dtype=minidl.float32)
        opt.step()
    assert p.dtype == minidl.float32
    assert all(v.dtype == minidl.float32 for v in opt.state[p].values() if isinstance(v, minidl.Tensor))


def test_each_optimizer_fits_a_line_with_autograd():
    # y = 2x - 1 from 8 points, gradients from loss.backward(): the loss must fall a lot
    x = minidl.linspace(-1, 1, 8, dtype=minidl.float64)
    y = 2 * x - 1
    for make in (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1),
        lambda ps: optim.RMSprop(ps, lr=0.02),
    ):
        w, b = params([0.0]), params([0.0])
        opt = make([w, b])
        losses = []
        for _ in range(100):
            opt.zero_grad()
            loss = ((w * x + b - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 1e-2 * losses[0], (type(opt).__name__, losses[0], losses[-1])


# -- parameter groups, skipping, zero_grad, closures ------------------------------------------------


def test_param_groups_use_their_own_hyperparameters():
    a, b = params([1.0]), params([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    for _ in range(3):
        a.grad = minidl.tensor([1.0], dtype=minidl.float64)
        b.grad = minidl.tensor([1.0], dtype=minidl.float64)
        opt.step()
    assert a.item() == pytest.approx(sgd_by_hand(1.0, [1.0] * 3, lr=0.1), abs=1e-15)
    assert b.item() == pytest.approx(sgd_by_hand(1.0, [1.0] * 3, lr=0.01, momentum=0.5), abs=1e-15)


def test_add_param_group_fills_defaults_and_leaves_the_callers_dict_alone():
    a, b = params([1.0]), params([2.0])
    opt = optim.Adam([a], lr=0.1)
    group = {"params": b, "betas": [0.5, 0.6]}
    opt.add_param_group(group)
    assert group == {"params": b, "betas": [0.5, 0.6]}
    new = opt.param_groups[1]
    assert new["params"][0] is b and new["lr"] == 0.1 and new["betas"] == (0.5, 0.6) and new["eps"] == 1e-8


def test_parameters_without_gradient_are_skipped():
    a, b = params([1.0]), params([2.0])
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = minidl.tensor([1.0], dtype=minidl.float64)
    opt.step()
    assert b.item() == 2.0 and b not in opt.state and opt.state[a]["step"] == 1
    assert list(opt.state_dict()["state"]) == [0]


def test_a_parameter_that_does_not_require_grad_is_accepted_as_in_pytorch():
    frozen = minidl.tensor([1.0, 2.0], dtype=minidl.float64)
    opt = optim.SGD([frozen], lr=0.1)
    opt.step()  # no gradient: nothing happens
    assert frozen.tolist() == [1.0, 2.0]


def test_zero_grad_sets_none_by_default_and_zeros_in_place_on_request():
    a = params()
    opt = optim.SGD([a], lr=0.1)
    a.grad = minidl.tensor([1.0, 2.0], dtype=minidl.float64)
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None
    opt.zero_grad()  # a gradient that is already None stays None
    assert a.grad is None


def test_zero_grad_detaches_a_gradient_that_has_a_graph():
    w = params([3.0])
    (g,) = minidl.grad((w * w).sum(), [w], create_graph=True)
    w.grad = g
    assert w.grad.grad_fn is not None
    optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad.grad_fn is None and w.grad.tolist() == [0.0]


def test_step_with_closure_returns_the_loss_and_uses_its_gradient():
    w = params([3.0])
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minidl.no_grad():  # the closure records anyway
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert w.item() == pytest.approx(3.0 - 0.1 * 6.0)
    assert opt.step() is None


def test_the_update_is_not_recorded():
    w = params([1.0])
    opt = optim.Adam([w], lr=0.1)
    (w * 2).sum().backward()
    opt.step()
    assert w.grad_fn is None and w.requires_grad and w.is_leaf


def test_a_gradient_of_the_wrong_shape_is_refused():
    w = params([1.0, 2.0])
    w.grad = minidl.tensor([1.0, 2.0, 3.0], dtype=minidl.float64)
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        optim.SGD([w], lr=0.1).step()


# -- state_dict ------------------------------------------------------------------------------------

RESUMABLE = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(
        [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], lr=0.1, betas=(0.9, 0.5), amsgrad=True
    ),
    lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.3),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
]


def _train(opt, ps, rows):
    for row in rows:
        for p, g in zip(ps, row):
            p.grad = minidl.tensor([g], dtype=minidl.float64)
        opt.step()


@pytest.mark.parametrize("make", RESUMABLE, ids=["SGD", "Adam", "AdamW", "RMSprop"])
@pytest.mark.parametrize("through_file", [False, True], ids=["in-memory", "saved"])
def test_state_dict_round_trip_continues_identically(make, through_file, tmp_path):
    straight = [params([1.0]), params([-2.0])]
    _train(make(straight), straight, GRADS)

    first = [params([1.0]), params([-2.0])]
    opt = make(first)
    _train(opt, first, GRADS[:3])
    state = opt.state_dict()
    if through_file:
        minidl.save(state, tmp_path / "opt.ckpt")
        state = minidl.load(tmp_path / "opt.ckpt")
    resumed = [params(p.tolist()) for p in first]
    opt2 = make(resumed)
    opt2.load_state_dict(state)
    _train(opt2, resumed, GRADS[3:])
    assert [p.tolist() for p in resumed] == [p.tolist() for p in straight]


def test_state_dict_layout_is_pytorchs():
    a, b, c = params([1.0]), params([2.0]), params([3.0])
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    a.grad = minidl.tensor([1.0], dtype=minidl.float64)
    c.grad = minidl.tensor([1.0], dtype=minidl.float64)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert list(sd["state"]) == [0, 2] and set(sd["state"][0]) == {"momentum_buffer"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1] == {
        "lr": 0.5,
        "momentum": 0.9,
        "dampening": 0,
        "weight_decay": 0,
        "nesterov": False,
        "maximize": False,
        "params": [2],
    }


def test_state_dict_is_a_detached_snapshot():
    a = params([1.0])
    opt = optim.Adam([a], lr=0.1)
    a.grad = minidl.tensor([1.0], dtype=minidl.float64)
    opt.step()
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"]
    assert saved.grad_fn is None and not saved.requires_grad and saved is not opt.state[a]["exp_avg"]
    opt.step()
    assert saved.tolist() == pytest.approx([0.1]) and sd["state"][0]["step"] == 1


def test_load_state_dict_copies_and_casts_to_the_parameters_dtype():
    a32 = params([1.0], dtype=minidl.float32)
    opt = optim.SGD([a32], lr=0.1, momentum=0.9)
    a32.grad = minidl.tensor([1.0], dtype=minidl.float32)
    opt.step()
    sd = opt.state_dict()
    a64 = params([1.0])
    opt64 = optim.SGD([a64], lr=0.1, momentum=0.9)
    opt64.load_state_dict(sd)
    buf = opt64.state[a64]["momentum_buffer"]
    assert buf.dtype == minidl.float64 and buf is not sd["state"][0]["momentum_buffer"]


def test_load_state_dict_restores_hyperparameters_but_keeps_the_parameters():
    a = params([1.0])
    sd = optim.SGD([a], lr=0.5, momentum=0.3).state_dict()
    b = params([1.0])
    opt = optim.SGD([b], lr=0.1)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0.3
    assert opt.param_groups[0]["params"][0] is b


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda sd: sd["param_groups"].append({"params": [9], "lr": 0.1}),
            "2 parameter group(s), this optimizer has 1",
        ),
        (
            lambda sd: sd["param_groups"][0]["params"].append(5),
            "has 2 parameter(s) here but 3 in the state dict",
        ),
        (lambda sd: sd["state"].update({7: {}}), "state for parameter 7"),
        (
            lambda sd: sd["state"][0].update(momentum_buffer=minidl.zeros(3, dtype=minidl.float64)),
            "shape (3,)",
        ),
        (lambda sd: sd.pop("param_groups"), "expected a dict with 'state'"),
        (lambda sd: sd["param_groups"][0].update(lr=-1.0), "lr must be >= 0.0"),
    ],
)
def test_load_state_dict_errors_leave_the_optimizer_unchanged(change, message):
    a, b = params([1.0, 2.0]), params([3.0, 4.0])
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad = minidl.tensor([1.0, 1.0], dtype=minidl.float64)
    opt.step()
    sd = opt.state_dict()
    change(sd)
    before = opt.state_dict()
    with pytest.raises(ValueError) as info:
        opt.load_state_dict(sd)
    assert message in str(info.value)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"][0]["momentum_buffer"].tolist() == before["state"][0]["momentum_buffer"].tolist()


def test_load_state_dict_refuses_a_non_dict():
    with pytest.raises(ValueError, match="expected a dict"):
        optim.Adam([params()]).load_state_dict([1, 2])


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, exc, message",
    [
        (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: optim.SGD(params(), lr=0.1), TypeError, "single Tensor"),
        (lambda: optim.SGD({params()}, lr=0.1), TypeError, "set"),
        (lambda: optim.SGD({"params": [params()]}, lr=0.1), TypeError, "a list holding the dict"),
        (lambda: optim.SGD(5, lr=0.1), TypeError, "iterable"),
        (
            lambda: optim.SGD([params(), 3.0], lr=0.1),
            TypeError,
            "parameter 1 in parameter group 0 is a float",
        ),
        (lambda: optim.SGD([params() * 2], lr=0.1), ValueError, "non-leaf"),
        (lambda: optim.SGD([{"params": []}], lr=0.1), ValueError, "no parameters"),
        (lambda: optim.SGD([{"lr": 0.1}]), ValueError, "'params'"),
        (lambda: optim.SGD([{"params": [params()]}, params()]), TypeError, "do not mix"),
        (lambda: optim.SGD([params(), -1.0]), TypeError, "can only optimize tensors"),
        (lambda: optim.SGD([params()], lr=-0.1), ValueError, "SGD: lr must be >= 0.0, got -0.1"),
        (lambda: optim.SGD([params()], lr="fast"), TypeError, "lr must be a number"),
        (lambda: optim.SGD([params()], lr=float("nan")), ValueError, "lr must be >= 0.0"),
        (lambda: optim.SGD([params()], momentum=-0.5), ValueError, "momentum must be >= 0.0"),
        (lambda: optim.SGD([params()], weight_decay=-1), ValueError, "weight_decay must be >= 0.0"),
        (lambda: optim.SGD([params()], nesterov=True), ValueError, "nesterov momentum needs momentum > 0"),
        (
            lambda: optim.SGD([params()], momentum=0.9, dampening=0.1, nesterov=True),
            ValueError,
            "dampening = 0",
        ),
        (
            lambda: optim.SGD([{"params": [params()], "lr": -1}], lr=0.1),
            ValueError,
            "lr must be >= 0.0, got -1 in parameter group 0",
        ),
        (lambda: optim.Adam([params()], lr=-1e-3), ValueError, "Adam: lr must be >= 0.0"),
        (lambda: optim.Adam([params()], betas=(1.0, 0.999)), ValueError, "betas[0] must be < 1.0, got 1.0"),
        (lambda: optim.Adam([params()], betas=(0.9, -0.1)), ValueError, "betas[1] must be >= 0.0, got -0.1"),
        (lambda: optim.Adam([params()], betas=0.9), TypeError, "betas must be a pair"),
        (lambda: optim.Adam([params()], eps=-1e-8), ValueError, "eps must be >= 0.0"),
        (lambda: optim.Adam([params()], weight_decay=-0.1), ValueError, "weight_decay must be >= 0.0"),
        (lambda: optim.AdamW([params()], betas=(0.9, 1.5)), ValueError, "AdamW: betas[1] must be < 1.0"),
        (lambda: optim.RMSprop([params()], lr=-1), ValueError, "RMSprop: lr must be >= 0.0"),
        (lambda: optim.RMSprop([params()], alpha=-0.1), ValueError, "alpha must be >= 0.0"),
        (lambda: optim.RMSprop([params()], eps=-1.0), ValueError, "eps must be >= 0.0"),
        (lambda: optim.RMSprop([params()], momentum=-1.0), ValueError, "momentum must be >= 0.0"),
    ],
)
def test_bad_construction_is_a_clear_error(make, exc, message):
    with pytest.raises(exc) as info:
        make()
    assert message in str(info.value)


def test_a_parameter_in_two_groups_or_twice_in_one_is_refused():
    a, b = params(), params()
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([a, b, a], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_optim_imports_no_numpy():
    # the layering rule: optimizers are plain Python over tensor operations
    for path in pathlib.Path(optim.__file__).parent.glob("*.py"):
        source = path.read_text()
        assert "import numpy" not in source and "from numpy" not in source, path.name


# -- learning-rate schedules -------------------------------------------------------------------------


def sgd_with_groups(lrs=(0.1,), **kwargs):
    return optim.SGD([{"params": [params([1.0])], "lr": lr} for lr in lrs], **kwargs)


def lrs_over(scheduler, steps):
    """The lr of every group at steps 0..steps-1 (step 0: right after construction)."""
    out = []
    for _ in range(steps):
        out.append(scheduler.get_last_lr())
        scheduler.optimizer.step()
        scheduler.step()
    return out


def check_sequence(scheduler, closed_form, steps=25):
    base = list(scheduler.base_lrs)
    got = lrs_over(scheduler, steps)
    expected = [[closed_form(b, t) for b in base] for t in range(steps)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_step_lr_is_gamma_to_the_floor():
    s = sched.StepLR(sgd_with_groups((0.1, 0.02)), step_size=3, gamma=0.5)
    check_sequence(s, lambda b, t: b * 0.5 ** (t // 3))


def test_multistep_lr_counts_the_milestones_passed():
    s = sched.MultiStepLR(sgd_with_groups((0.1,)), milestones=[7, 2, 12, 12], gamma=0.3)
    check_sequence(s, lambda b, t: b * 0.3 ** sum(m <= t for m in (2, 7, 12, 12)))


def test_exponential_lr():
    check_sequence(sched.ExponentialLR(sgd_with_groups((0.1, 1.0)), gamma=0.9), lambda b, t: b * 0.9**t)


def test_cosine_annealing_follows_the_cosine_down_and_back_up():
    s = sched.CosineAnnealingLR(sgd_with_groups((0.1, 0.5)), T_max=6, eta_min=0.01)
    check_sequence(s, lambda b, t: 0.01 + (b - 0.01) * (1 + math.cos(math.pi * t / 6)) / 2, steps=25)


def test_lambda_lr_with_one_function_per_group():
    opt = sgd_with_groups((0.1, 0.2))
    s = sched.LambdaLR(opt, [lambda t: 0.5**t, lambda t: 1 / (t + 1)])
    got = lrs_over(s, 10)
    assert got == [[pytest.approx(0.1 * 0.5**t), pytest.approx(0.2 / (t + 1))] for t in range(10)]


def one_cycle_by_hand(
    t, total, max_lr, pct=0.3, div=25.0, final_div=1e4, linear=False, three=False, base_m=0.85, max_m=0.95
):
    """(lr, momentum) at step t, from the phase boundaries of PyTorch's documentation."""

    def anneal(a, b, f):
        return a + (b - a) * f if linear else b + (a - b) * (1 + math.cos(math.pi * f)) / 2

    start = max_lr / div
    end = start / final_div
    up = pct * total - 1
    if three:
        down = 2 * pct * total - 2
        phases = [
            (0, up, start, max_lr, max_m, base_m),
            (up, down, max_lr, start, base_m, max_m),
            (down, total - 1, start, end, max_m, max_m),
        ]
    else:
        phases = [(0, up, start, max_lr, max_m, base_m), (up, total - 1, max_lr, end, base_m, max_m)]
    for i, (s0, s1, lr0, lr1, m0, m1) in enumerate(phases):
        if t <= s1 or i == len(phases) - 1:
            f = (t - s0) / (s1 - s0)
            return anneal(lr0, lr1, f), anneal(m0, m1, f)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(anneal_strategy="linear"),
        dict(three_phase=True),
        dict(pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    ],
    ids=str,
)
def test_one_cycle_lr_and_momentum(kwargs):
    opt = optim.SGD([params()], lr=0.1, momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=2.0, total_steps=20, **kwargs)
    hand = dict(
        pct=kwargs.get("pct_start", 0.3),
        div=kwargs.get("div_factor", 25.0),
        final_div=kwargs.get("final_div_factor", 1e4),
        linear=kwargs.get("anneal_strategy") == "linear",
        three=kwargs.get("three_phase", False),
    )
    for t in range(20):
        lr, momentum = one_cycle_by_hand(t, 20, 2.0, **hand)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-12)
        opt.step()
        s.step()
    # the last step, T - 1, is the end of the last phase: max_lr / div / final_div
    assert one_cycle_by_hand(19, 20, 2.0, **hand)[0] == pytest.approx(2.0 / hand["div"] / hand["final_div"])


def test_one_cycle_cycles_adams_beta1_and_keeps_beta2():
    opt = optim.Adam([params()], lr=0.1, betas=(0.9, 0.99))
    s = sched.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=5)
    assert s.total_steps == 10
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    for _ in range(3):
        s.step()
    beta1 = one_cycle_by_hand(3, 10, 1.0)[1]
    assert opt.param_groups[0]["betas"] == (pytest.approx(beta1), 0.99)


def test_one_cycle_refuses_to_step_past_total_steps_and_changes_nothing():
    opt = optim.SGD([params()], lr=0.1, momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    for _ in range(5):  # as in PyTorch, total_steps calls after construction are allowed
        s.step()
    before = (s.last_epoch, opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"])
    with pytest.raises(ValueError, match="tried to step 6 times, but total_steps is 5"):
        s.step()
    assert (s.last_epoch, opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]) == before


def test_one_cycle_per_group_max_lr():
    opt = sgd_with_groups((0.1, 0.1), momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=[1.0, 4.0], total_steps=10, cycle_momentum=False)
    assert s.get_last_lr() == [pytest.approx(1.0 / 25), pytest.approx(4.0 / 25)]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]


def test_scheduler_sets_initial_lr_and_get_last_lr():
    opt = sgd_with_groups((0.1, 0.3))
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3] == s.base_lrs
    assert s.last_epoch == 0 and s.get_last_lr() == [0.1, 0.3]
    s.step()
    assert s.last_epoch == 1 and s.get_last_lr() == [0.05, 0.15]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]


def test_chained_schedulers_multiply_their_factors():
    opt = sgd_with_groups((1.0,))
    a = sched.ExponentialLR(opt, gamma=0.9)
    b = sched.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(4):
        a.step()
        b.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.9**4 * 0.5**2)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: sched.StepLR(o, step_size=2, gamma=0.5),
        lambda o: sched.MultiStepLR(o, milestones=[1, 4]),
        lambda o: sched.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
        lambda o: sched.LambdaLR(o, lambda t: 1 / (1 + t)),
        lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=12),
    ],
    ids=["StepLR", "MultiStepLR", "CosineAnnealingLR", "LambdaLR", "OneCycleLR"],
)
def test_scheduler_state_dict_round_trip_continues_identically(make, tmp_path):
    straight_opt = optim.SGD([params()], lr=0.1, momentum=0.9)
    straight = make(straight_opt)
    expected = lrs_over(straight, 10)

    opt = optim.SGD([params()], lr=0.1, momentum=0.9)
    s = make(opt)
    got = lrs_over(s, 4)
    minidl.save({"optimizer": opt.state_dict(), "scheduler": s.state_dict()}, tmp_path / "ck")
    ck = minidl.load(tmp_path / "ck")
    opt2 = optim.SGD([params()], lr=0.1, momentum=0.9)
    s2 = make(opt2)
    opt2.load_state_dict(ck["optimizer"])
    s2.load_state_dict(ck["scheduler"])
    got += lrs_over(s2, 6)
    assert got == expected


@pytest.mark.parametrize(
    "make, exc, message",
    [
        (lambda o: sched.StepLR("opt", step_size=1), TypeError, "expected an Optimizer"),
        (lambda o: sched.StepLR(o, step_size=0), ValueError, "step_size must be a positive int"),
        (lambda o: sched.StepLR(o, step_size=2.5), ValueError, "step_size must be a positive int"),
        (lambda o: sched.StepLR(o, step_size=2, gamma=-0.1), ValueError, "gamma must be a number > 0"),
        (lambda o: sched.MultiStepLR(o, milestones=[2, "x"]), ValueError, "milestones must be ints"),
        (lambda o: sched.ExponentialLR(o, gamma=0), ValueError, "gamma must be a number > 0"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be a positive int"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=5, eta_min=-1), ValueError, "eta_min"),
        (lambda o: sched.LambdaLR(o, [lambda t: 1, lambda t: 1]), ValueError, "expected 1 lr_lambdas"),
        (lambda o: sched.LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function"),
        (lambda o: sched.StepLR(o, step_size=1, last_epoch=3), KeyError, "no 'initial_lr'"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0), ValueError, "give either total_steps"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, epochs=2), ValueError, "give either total_steps"),
        (
            lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=0),
            ValueError,
            "total_steps must be a positive int",
        ),
        (
            lambda o: sched.OneCycleLR(o, max_lr=1.0, epochs=0, steps_per_epoch=3),
            ValueError,
            "epochs must be",
        ),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
        (
            lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy",
        ),
        (lambda o: sched.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10), ValueError, "max_lr has 2 values"),
        (
            lambda o: sched.OneCycleLR(o, max_lr=-1.0, total_steps=10),
            ValueError,
            "max_lr must be a number > 0",
        ),
    ],
)
def test_bad_scheduler_arguments_are_clear_errors(make, exc, message):
    opt = optim.SGD([params()], lr=0.1)
    with pytest.raises(exc) as info:
        make(opt)
    assert message in str(info.value)


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    class Plain(optim.Optimizer):
        def __init__(self, ps, lr=0.1):
            super().__init__(ps, dict(lr=lr))

        def _update(self, p, grad, group, state):
            p.sub_(grad, alpha=group["lr"])

    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimizer with momentum"):
        sched.OneCycleLR(Plain([params()]), max_lr=1.0, total_steps=10)
    sched.OneCycleLR(Plain([params()]), max_lr=1.0, total_steps=10, cycle_momentum=False)


def test_a_custom_optimizer_needs_only_its_update():
    class SignSGD(optim.Optimizer):
        def __init__(self, ps, lr=0.1):
            super().__init__(ps, dict(lr=lr))

        def _update(self, p, grad, group, state):
            p.sub_(grad.sign(), alpha=group["lr"])

    p = params([1.0, 1.0])
    opt = SignSGD([p], lr=0.25)
    p.grad = minidl.tensor([3.0, -0.1], dtype=minidl.float64)
    opt.step()
    assert p.tolist() == [0.75, 1.25]
    with pytest.raises(ValueError, match="SignSGD: lr must be >= 0.0"):
        SignSGD([p], lr=-1)


# -- against PyTorch, when it is installed ---------------------------------------------------------

TORCH_CASES = (
    [("SGD", c) for c in SGD_CASES]
    + [("Adam", c) for c in ADAM_CASES]
    + [("AdamW", dict(lr=0.1, betas=(0.9, 0.5), weight_decay=0.3, amsgrad=True))]
    + [("RMSprop", c) for c in RMSPROP_CASES]
)


@pytest.mark.parametrize("name, kwargs", TORCH_CASES, ids=[f"{n}-{c}" for n, c in TORCH_CASES])
def test_against_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    tp = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **kwargs)
    for g in GRADS:
        tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
    np.testing.assert_allclose(run(getattr(optim, name), **kwargs), tp.detach().numpy(), rtol=0, atol=1e-12)


SCHEDULER_CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5), 25),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9]), 25),
    ("ExponentialLR", dict(gamma=0.9), 25),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01), 25),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=20), 20),
    ("OneCycleLR", dict(max_lr=[1.0, 3.0], total_steps=20, three_phase=True, anneal_strategy="linear"), 20),
]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize(
    "name, kwargs, steps", SCHEDULER_CASES, ids=[f"{n}-{c}" for n, c, _ in SCHEDULER_CASES]
)
def test_schedulers_against_torch(name, kwargs, steps, optimizer):
    torch = pytest.importorskip("torch")
    opt = getattr(optim, optimizer)([{"params": [params()]}, {"params": [params()], "lr": 0.05}], lr=0.1)
    topt = getattr(torch.optim, optimizer)(
        [
            {"params": [torch.zeros(1, requires_grad=True)]},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.05},
        ],
        lr=0.1,
    )
    s = getattr(sched, name)(opt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    key = "betas" if optimizer == "Adam" else "momentum"
    for _ in range(steps):
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        assert [g[key] for g in opt.param_groups] == [pytest.approx(g[key]) for g in topt.param_groups]
        topt.step()
        ts.step()
        s.step()
