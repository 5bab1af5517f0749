"""The recurrent layers' op: one Function runs one layer, in one direction, over a whole sequence.

    recurrence(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False) -> packed
        x: (L, N, I)   h0, c0: (N, H) (c0 only for "lstm", else None)
        w_ih: (G*H, I)   w_hh: (G*H, H)   b_ih, b_hh: (G*H,) or None
        G = 1 ("rnn_tanh", "rnn_relu"), 4 ("lstm": gates i, f, g, o), 3 ("gru": gates r, z, n)
        packed: (L, N, H), the hidden state at each position; "lstm" adds row L, the last c.

Why one Function and not a graph of small ops: at the sizes recurrent nets are trained at, the
time goes to Python calls, not arithmetic. So the work is arranged as backprop through time is
taught: the input projection x W_ih^T of every time step in ONE matmul before the loop; then a
loop in which each step does one matmul h W_hh^T and the gate arithmetic on arrays; backward runs
the loop in reverse, carrying dh (and dc) back one step at a time, and leaves the parameter
gradients to three large matmuls after the loop (dW_ih = dA^T X, dW_hh = dA^T H_prev, dx = dA W_ih),
where dA stacks the gradient of every step's pre-activations.

``reverse`` runs the sequence from the last position to the first (the backward direction of a
bidirectional layer); the output stays in position order. A cell (nn.LSTMCell, ...) is the same op
with L = 1. The backward is written on arrays, so it has no second derivative: asking for one
(create_graph=True) is an error, not a silent zero.
"""

from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import kernels
from ..backend.device import xp_of

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _mm(a: Any, b: Any, trans_a: bool = False, trans_b: bool = False) -> Any:
    """a @ b of 2-d arrays (either transposed by its flag) through the native matmul kernel."""
    return kernels.matmul(a[None], b[None], trans_a, trans_b)[0]


def _gate_scale(xp: Any, gates: str, hidden: int, like: Any) -> Any:
    """-1 over the columns of the sigmoid gates ("s"), -2 over the tanh ones ("t"): see _activate."""
    return xp.concatenate([xp.full(hidden, -1.0 if k == "s" else -2.0, dtype=like.dtype) for k in gates])


def _activate(xp: Any, a: Any, scale: Any) -> Any:
    """Every gate of a step at once, in place: sigmoid(a) = 1 / (1 + e^-a) where scale is -1, and
    tanh(a) = 2 sigmoid(2a) - 1 where it is -2 (exp is much cheaper than tanh in NumPy). The
    exponent is clamped below exp's overflow, where sigmoid is already 0 to the dtype's precision."""
    a *= scale
    xp.minimum(a, 80.0 if a.dtype.itemsize == 4 else 700.0, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)
    return a


def _deriv(acts: Any, sig: Any) -> Any:
    """d act / d pre-activation from the activations: sigmoid' = s (1 - s), tanh' = 1 - t^2;
    ``sig`` (bool, over the last dim) marks the sigmoid columns, the others are tanh."""
    out = sig - acts
    out *= acts
    out += ~sig
    return out


class Recurrence(Function):
    @staticmethod
    def forward(ctx, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        xp = xp_of(x.data)
        length, batch, _ = x.shape
        hidden = w_hh.shape[1]
        xs = x.data[::-1] if reverse else x.data  # step order: steps run s = 0, 1, ..., L - 1
        # The input projection of every step at once: proj[s] = x_s W_ih^T + b_ih (+ b_hh but GRU)
        proj = _mm(xs.reshape(length * batch, -1), w_ih.data, trans_b=True).reshape(length, batch, -1)
        if b_ih is not None:
            proj += b_ih.data
        if b_hh is not None and mode != "gru":
            proj += b_hh.data
        hs = xp.empty((length + 1, batch, hidden), dtype=proj.dtype)  # h_{s-1} at row s
        hs[0] = h0.data
        step = _FORWARD[mode]
        extra = step(xp, proj, hs, w_hh.data, c0, b_hh)
        out = hs[1:][::-1] if reverse else hs[1:]
        if mode == "lstm":
            out = xp.concatenate([out, extra[0][-1:]])  # row L: the last cell state
        else:
            out = out.copy()  # hs stays ours: an in-place change of the output cannot reach it
        ctx.mode, ctx.reverse = mode, reverse
        ctx.save_for_backward(x, w_ih, w_hh, hs, proj, *extra)
        return out

    @staticmethod
    def backward(ctx, g):
        if is_grad_enabled():
            raise RuntimeError(
                f"{ctx.mode} recurrence: second derivatives (create_graph=True) are not supported; "
                "its backward is written on arrays"
            )
        mode, reverse = ctx.mode, ctx.reverse
        x, w_ih, w_hh, hs, proj, *extra = ctx.saved_tensors
        xs = x.data[::-1] if reverse else x.data
        _, need_x, need_h0, need_c0, need_wih, need_whh, need_bih, need_bhh, _ = ctx.needs_input_grad
        length, batch, _ = xs.shape
        g = g.data
        gy = g[:length][::-1] if reverse else g[:length]  # step order
        g_last_c = g[length] if mode == "lstm" else None
        d_x_side, d_h_side, dh0, dc0 = _BACKWARD[mode](xp_of(g), gy, g_last_c, hs, proj, w_hh.data, extra)
        rows = length * batch
        dxa = d_x_side.reshape(rows, -1)
        dha = d_h_side.reshape(rows, -1)
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if need_x:
            dx = _mm(dxa, w_ih.data).reshape(xs.shape)  # dx = dA W_ih
            dx = dx[::-1] if reverse else dx
        if need_wih:
            dw_ih = _mm(dxa, xs.reshape(rows, -1), trans_a=True)  # dW_ih = sum_s dA_s^T x_s
        if need_whh:
            dw_hh = _mm(dha, hs[:-1].reshape(rows, -1), trans_a=True)  # dW_hh = sum_s dA_s^T h_{s-1}
        if need_bih:
            db_ih = dxa.sum(0)
        if need_bhh:
            db_hh = dha.sum(0)
        return (
            None,
            dx,
            dh0 if need_h0 else None,
            dc0 if need_c0 else None,
            dw_ih,
            dw_hh,
            db_ih,
            db_hh,
            None,
        )


# ---------------------------------------------------------------------------------------------
# The steps. Each forward fills hs[s + 1] = h_s and overwrites proj[s] with what backward needs
# (the gate activations), returning any other saved arrays; each backward returns the gradients
# of the pre-activations on the x side and on the h side (the same array but for GRU), dh0, dc0.


def _rnn_tanh_forward(xp, proj, hs, w_hh, c0, b_hh):
    for s in range(len(proj)):
        a = proj[s]
        a += _mm(hs[s], w_hh, trans_b=True)  # a = x W_ih^T + h W_hh^T + b
        xp.tanh(a, out=hs[s + 1])  # h_s = tanh(a)
    return ()


def _rnn_relu_forward(xp, proj, hs, w_hh, c0, b_hh):
    for s in range(len(proj)):
        a = proj[s]
        a += _mm(hs[s], w_hh, trans_b=True)
        xp.maximum(a, 0, out=hs[s + 1])  # h_s = max(a, 0)
    return ()


def _rnn_backward(deriv):
    def backward(xp, gy, g_last_c, hs, proj, w_hh, extra):
        local = deriv(hs[1:])  # act'(a_s) of every step at once, from h_s = act(a_s)
        da = xp.empty_like(local)
        carry = xp.zeros_like(hs[0])
        for s in range(len(da) - 1, -1, -1):
            xp.multiply(gy[s] + carry, local[s], out=da[s])  # da_s = (dy_s + dh_s) act'(a_s)
            carry = _mm(da[s], w_hh)  # dh_{s-1} = da_s W_hh
        return da, da, carry, None

    return backward


def _tanh_deriv(h):
    return 1 - h * h  # tanh' = 1 - tanh^2


def _relu_deriv(h):
    return (h > 0).astype(h.dtype)  # relu' = [a > 0] = [h > 0]


def _lstm_forward(xp, proj, hs, w_hh, c0, b_hh):
    length, _, four_h = proj.shape
    hidden = four_h // 4
    scale = _gate_scale(xp, "ssts", hidden, proj)
    cs = xp.empty_like(hs[1:])  # c_s
    tcs = xp.empty_like(hs[1:])  # tanh(c_s)
    c = c0.data
    for s in range(length):
        a = proj[s]
        a += _mm(hs[s], w_hh, trans_b=True)  # a = x W_ih^T + h W_hh^T + b, gates [i, f, g, o]
        _activate(xp, a, scale)  # i, f, o = sigmoid;  g = 2 sigmoid(2a) - 1 ...
        i, f, g, o = (
            a[:, :hidden],
            a[:, hidden : 2 * hidden],
            a[:, 2 * hidden : 3 * hidden],
            a[:, 3 * hidden :],
        )
        g *= 2
        g -= 1  # ... = tanh(a)
        xp.multiply(f, c, out=cs[s])
        cs[s] += i * g  # c_s = f c_{s-1} + i g
        c = cs[s]
        xp.tanh(c, out=tcs[s])
        xp.multiply(o, tcs[s], out=hs[s + 1])  # h_s = o tanh(c_s)
    return cs, tcs, c0.data, scale


def _lstm_backward(xp, gy, g_last_c, hs, acts, w_hh, extra):
    cs, tcs, c0, scale = extra
    length, batch, four_h = acts.shape
    hidden = four_h // 4
    sig = scale == -1  # the sigmoid columns
    o_all = acts[:, :, 3 * hidden :]
    o_tanh_deriv = o_all * (1 - tcs * tcs)  # dh_s/dc_s = o (1 - tanh^2 c_s)
    dact = xp.empty_like(acts)  # d loss / d gate activations, then pre-activations
    dh = xp.zeros_like(hs[0])
    dc = g_last_c.copy()
    for s in range(length - 1, -1, -1):
        act, d = acts[s], dact[s]
        i, f, g = act[:, :hidden], act[:, hidden : 2 * hidden], act[:, 2 * hidden : 3 * hidden]
        dh += gy[s]  # dh_s = dy_s + (what step s + 1 sent back)
        dc += dh * o_tanh_deriv[s]  # dc_s = dc_s (from step s + 1) + dh_s o tanh'(c_s)
        c_prev = cs[s - 1] if s else c0
        xp.multiply(dc, g, out=d[:, :hidden])  # di = dc g
        xp.multiply(dc, c_prev, out=d[:, hidden : 2 * hidden])  # df = dc c_{s-1}
        xp.multiply(dc, i, out=d[:, 2 * hidden : 3 * hidden])  # dg = dc i
        xp.multiply(dh, tcs[s], out=d[:, 3 * hidden :])  # do = dh tanh(c_s)
        d *= _deriv(act, sig)  # da = d(gate) gate', step by step while act is in cache
        dc *= f  # dc_{s-1} = dc_s f
        dh = _mm(d, w_hh)  # dh_{s-1} = da W_hh
    return dact, dact, dh, dc


def _gru_forward(xp, proj, hs, w_hh, c0, b_hh):
    length, _, three_h = proj.shape
    hidden = three_h // 3
    scale = _gate_scale(xp, "ss", hidden, proj)
    hn = xp.empty_like(hs[1:])  # W_hn h_{s-1} + b_hn, which r multiplies
    for s in range(length):
        a = proj[s]  # x W_ih^T + b_ih, gates [r, z, n]
        hp = _mm(hs[s], w_hh, trans_b=True)  # h W_hh^T + b_hh
        if b_hh is not None:
            hp += b_hh.data
        rz = a[:, : 2 * hidden]
        rz += hp[:, : 2 * hidden]
        _activate(xp, rz, scale)  # r, z = sigmoid(x W_i^T + b_i + h W_h^T + b_h)
        r, z, n = a[:, :hidden], a[:, hidden : 2 * hidden], a[:, 2 * hidden :]
        hn[s] = hp[:, 2 * hidden :]
        n += r * hn[s]
        xp.tanh(n, out=n)  # n = tanh(W_in x + b_in + r (W_hn h + b_hn))
        h = hs[s + 1]
        xp.subtract(hs[s], n, out=h)
        h *= z
        h += n  # h_s = (1 - z) n + z h_{s-1}
    return hn, scale


def _gru_backward(xp, gy, g_last_c, hs, acts, w_hh, extra):
    hn, scale = extra
    length, batch, three_h = acts.shape
    hidden = three_h // 3
    full_scale = xp.concatenate([scale, xp.full(hidden, -2.0, dtype=scale.dtype)])
    deriv = _deriv(acts, full_scale == -1)  # r, z: sigmoid';  n: tanh'
    z_all, n_all = acts[:, :, hidden : 2 * hidden], acts[:, :, 2 * hidden :]
    one_minus_z = 1 - z_all
    h_minus_n = hs[:-1] - n_all
    dxa = xp.empty_like(acts)  # d loss / d (x W_ih^T + b_ih), per gate
    dha = xp.empty_like(acts)  # d loss / d (h W_hh^T + b_hh), per gate
    dh = xp.zeros_like(hs[0])
    for s in range(length - 1, -1, -1):
        d, dh_side = dxa[s], dha[s]
        r, z = acts[s, :, :hidden], acts[s, :, hidden : 2 * hidden]
        dh += gy[s]
        xp.multiply(dh, h_minus_n[s], out=d[:, hidden : 2 * hidden])  # dz = dh (h_{s-1} - n)
        xp.multiply(dh, one_minus_z[s], out=d[:, 2 * hidden :])  # dn = dh (1 - z)
        d[:, 2 * hidden :] *= deriv[s, :, 2 * hidden :]  # da_n = dn tanh'
        xp.multiply(d[:, 2 * hidden :], hn[s], out=d[:, :hidden])  # dr = da_n (W_hn h + b_hn)
        d[:, : 2 * hidden] *= deriv[s, :, : 2 * hidden]  # da_r, da_z = dr r', dz z'
        dh_side[:, : 2 * hidden] = d[:, : 2 * hidden]
        xp.multiply(d[:, 2 * hidden :], r, out=dh_side[:, 2 * hidden :])  # d(W_hn h + b_hn) = da_n r
        dh *= z
        dh += _mm(dh_side, w_hh)  # dh_{s-1} = dh z + dha W_hh
    return dxa, dha, dh, None


_FORWARD = {
    "rnn_tanh": _rnn_tanh_forward,
    "rnn_relu": _rnn_relu_forward,
    "lstm": _lstm_forward,
    "gru": _gru_forward,
}
_BACKWARD = {
    "rnn_tanh": _rnn_backward(_tanh_deriv),
    "rnn_relu": _rnn_backward(_relu_deriv),
    "lstm": _lstm_backward,
    "gru": _gru_backward,
}


def recurrence(
    mode: str,
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    reverse: bool = False,
) -> Tensor:
    """One recurrent layer in one direction over a sequence; see the module docstring for shapes.
    The layers (nn/rnn.py) check the arguments; this trusts them."""
    return Recurrence.apply(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
