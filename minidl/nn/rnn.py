"""Recurrent layers: RNN, LSTM, GRU over a sequence, and RNNCell, LSTMCell, GRUCell for one step.

PyTorch's arguments, parameter names, shapes, gate order and initialisation, so that a PyTorch
``state_dict`` loads unchanged and gives the same outputs. With G gates (RNN 1, LSTM 4, GRU 3),
layer k (input size I for k = 0, D * H above, D = 2 when bidirectional):

    weight_ih_l{k}  (G*H, I)      weight_hh_l{k}  (G*H, H)      bias_ih_l{k}, bias_hh_l{k}  (G*H,)
    and the same with the suffix _reverse for the backward direction; a cell has weight_ih, ...

    RNN   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),  act = tanh or relu
    LSTM  [i, f, g, o] = gates of x W_ih^T + b_ih + h W_hh^T + b_hh;  i, f, o sigmoid, g tanh
          c' = f c + i g,  h' = o tanh(c')
    GRU   [r, z] = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z})
          n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),  h' = (1 - z) n + z h

Every parameter starts as U(-1/sqrt(H), 1/sqrt(H)). Each layer and direction is one op over the
whole sequence (functional/recurrent.py); dropout, when asked for, sits between layers in training.

    input (L, N, I) or (N, L, I) with batch_first, or unbatched (L, I)
    h0    (num_layers * D, N, H) or unbatched (num_layers * D, H); zeros when not given
    ->  output (L, N, D * H) (batch_first: (N, L, D * H)),  h_n like h0  (LSTM: (h_n, c_n))
"""

import math
import warnings
from typing import Any

from .. import factories
from .. import functional as F
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from ..functional.recurrent import GATES, recurrence
from . import init
from ._checks import expect_dtype, expect_float, expect_tensor
from .module import Module
from .parameter import Parameter


def _positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return value


def _check_state(layer: Module, name: str, state: Any, expected: tuple[int, ...], x: Tensor) -> None:
    """An initial state: a Tensor of the expected shape and of the input's dtype and device."""
    if not isinstance(state, Tensor):
        raise TypeError(f"{layer!r}: {name} must be a Tensor, got {type(state).__name__}")
    if tuple(state.shape) != expected:
        raise ValueError(
            f"{layer!r}: expected {name} of shape {expected} for input {tuple(x.shape)}, "
            f"got {tuple(state.shape)}"
        )
    if state.dtype != x.dtype:
        raise TypeError(f"{layer!r}: {name} is {state.dtype} but the input is {x.dtype}")


def _reset_uniform(module: Module, hidden_size: int) -> None:
    """PyTorch's default for recurrent layers: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks, and
    the loop over layers. ``mode`` is "rnn_tanh", "rnn_relu", "lstm" or "gru"."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        _positive_int(name, "input_size", input_size)
        _positive_int(name, "hidden_size", hidden_size)
        _positive_int(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout is applied between recurrent layers, not after the last one, so "
                f"dropout={dropout} with num_layers=1 does nothing",
                UserWarning,
                stacklevel=3,
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        directions = 2 if bidirectional else 1
        rows = GATES[mode] * hidden_size
        self._names: list[list[str]] = []  # per layer and direction: w_ih, w_hh[, b_ih, b_hh]
        for k in range(num_layers):
            width = input_size if k == 0 else directions * hidden_size
            for suffix in ("", "_reverse")[:directions]:
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (rows, width),
                    "weight_hh": (rows, hidden_size),
                }
                if bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{k}{suffix}")
                    setattr(self, names[-1], Parameter(factories.empty(*shape, dtype=dtype, device=device)))
                self._names.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, n) for n in names] for names in self._names]

    def _hidden_shape(self, batch: int | None) -> tuple[int, ...]:
        layers = self.num_layers * (2 if self.bidirectional else 1)
        return (layers, self.hidden_size) if batch is None else (layers, batch, self.hidden_size)

    def _check_input(self, x: Any) -> tuple[Tensor, int | None]:
        """The input as (L, N, I) and its batch size (None when unbatched)."""
        expect_float(self, x)
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{self!r}: expected input (L, N, {self.input_size}), (N, L, {self.input_size}) "
                f"with batch_first, or unbatched (L, {self.input_size}); got {x.ndim}-d {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self!r}: input has {x.shape[-1]} features (shape {tuple(x.shape)}), "
                f"expected input_size={self.input_size}"
            )
        expect_dtype(self, x, self.weight_ih_l0)
        if x.ndim == 2:
            seq = x.unsqueeze(1)
            batch = None
        else:
            seq = x.transpose(0, 1) if self.batch_first else x
            batch = seq.shape[1]
        if seq.shape[0] == 0:
            raise ValueError(f"{self!r}: expected a sequence of length >= 1, got input {tuple(x.shape)}")
        return seq, batch

    def _initial(self, name: str, state: Any, x: Tensor, seq: Tensor, batch: int | None) -> Tensor:
        """An initial state as (num_layers * D, N, H): zeros when None."""
        expected = self._hidden_shape(batch)
        if state is None:
            return factories.zeros(*self._hidden_shape(seq.shape[1]), dtype=seq.dtype, device=seq.device)
        _check_state(self, name, state, expected, x)
        return state.unsqueeze(1) if batch is None else state

    def _run(self, seq: Tensor, h0: Tensor, c0: Tensor | None) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """All layers over seq (L, N, I): the last layer's output (L, N, D*H), and h_n, c_n per
        layer and direction."""
        length = seq.shape[0]
        directions = 2 if self.bidirectional else 1
        h_last: list[Tensor] = []
        c_last: list[Tensor] = []
        layer_in = seq
        for k in range(self.num_layers):
            outs = []
            for d in range(directions):
                index = k * directions + d
                params = [getattr(self, n) for n in self._names[index]]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                c = c0[index] if c0 is not None else None
                packed = recurrence(self.mode, layer_in, h0[index], c, w_ih, w_hh, b_ih, b_hh, d == 1)
                out = packed[:length] if c is not None else packed
                outs.append(out)
                h_last.append(out[0] if d == 1 else out[length - 1])  # the state after the last step
                if c is not None:
                    c_last.append(packed[length])
            layer_in = outs[0] if directions == 1 else F.cat(outs, dim=2)
            if self.dropout > 0 and self.training and k < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        return layer_in, h_last, c_last

    def _finish(self, out: Tensor, states: list[Tensor], batch: int | None) -> tuple[Tensor, Tensor]:
        """The output and one stacked state in the caller's layout."""
        state = F.stack(states, dim=0)
        if batch is None:
            return out.squeeze(1), state.squeeze(1)
        return (out.transpose(0, 1) if self.batch_first else out), state

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "rnn_relu":
            s += ", nonlinearity='relu'"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class _OneState(RNNBase):
    """RNN and GRU: one state tensor h."""

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        seq, batch = self._check_input(input)
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{self!r}: hx must be one Tensor (h0), got a {type(hx).__name__}")
        h0 = self._initial("hx", hx, input, seq, batch)
        out, h_last, _ = self._run(seq, h0, None)
        return self._finish(out, h_last, batch)


class RNN(_OneState):
    """RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False): h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    forward(input, hx=None) -> (output, h_n); shapes in the module docstring.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(
            f"rnn_{nonlinearity}",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity


class GRU(_OneState):
    """GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False): gates r, z, n (see the module docstring).

    forward(input, hx=None) -> (output, h_n)
    """

    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        super().__init__("gru", input_size, hidden_size, *args, **kwargs)


class LSTM(RNNBase):
    """LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False): gates i, f, g, o (see the module docstring).

    forward(input, hx=None) with hx = (h0, c0) or None -> (output, (h_n, c_n))
    """

    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        super().__init__("lstm", input_size, hidden_size, *args, **kwargs)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        seq, batch = self._check_input(input)
        if hx is None:
            h0 = self._initial("h0", None, input, seq, batch)
            c0 = self._initial("c0", None, input, seq, batch)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self!r}: hx must be a tuple (h0, c0) of two Tensors, got {_describe(hx)}")
            h0 = self._initial("h0", hx[0], input, seq, batch)
            c0 = self._initial("c0", hx[1], input, seq, batch)
        out, h_last, c_last = self._run(seq, h0, c0)
        output, h_n = self._finish(out, h_last, batch)
        _, c_n = self._finish(out, c_last, batch)
        return output, (h_n, c_n)


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------------------------------------
# Cells: one time step, the same op with a sequence of length 1.


class RNNCellBase(Module):
    """weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh (G*H,); input (N, I) or (I,)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        _positive_int(name, "input_size", input_size)
        _positive_int(name, "hidden_size", hidden_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bool(bias)
        rows = GATES[mode] * hidden_size
        self.weight_ih = Parameter(factories.empty(rows, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(factories.empty(rows, hidden_size, dtype=dtype, device=device))
        self.bias_ih: Parameter | None
        self.bias_hh: Parameter | None
        if bias:
            self.bias_ih = Parameter(factories.empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(factories.empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def _check_input(self, x: Any) -> Tensor:
        """The input as a sequence of one step, (1, N, I)."""
        expect_float(self, x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self!r}: expected input (N, {self.input_size}) or ({self.input_size},), "
                f"got {tuple(x.shape)}"
            )
        expect_dtype(self, x, self.weight_ih)
        return x.unsqueeze(0) if x.ndim == 2 else x.reshape(1, 1, -1)

    def _state(self, name: str, state: Any, x: Tensor, seq: Tensor) -> Tensor:
        """An initial state as (N, H): zeros when None."""
        if state is None:
            return factories.zeros(seq.shape[1], self.hidden_size, dtype=seq.dtype, device=seq.device)
        expect_tensor(self, state)
        expected = (x.shape[0], self.hidden_size) if x.ndim == 2 else (self.hidden_size,)
        _check_state(self, name, state, expected, x)
        return state.reshape(seq.shape[1], self.hidden_size)

    def _step(self, seq: Tensor, h: Tensor, c: Tensor | None) -> Tensor:
        return recurrence(self.mode, seq, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "rnn_relu":
            s += ", nonlinearity='relu'"
        return s


def _unbatch(x: Tensor, state: Tensor) -> Tensor:
    """state (N, H) back to (H,) for an unbatched input."""
    return state if x.ndim == 2 else state.reshape(-1)


class _OneStateCell(RNNCellBase):
    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        seq = self._check_input(input)
        h = self._state("hx", hx, input, seq)
        return _unbatch(input, self._step(seq, h, None)[0])


class RNNCell(_OneStateCell):
    """RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh'): forward(input, hx=None) -> h'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(f"rnn_{nonlinearity}", input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity


class GRUCell(_OneStateCell):
    """GRUCell(input_size, hidden_size, bias=True): forward(input, hx=None) -> h'."""

    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        super().__init__("gru", input_size, hidden_size, *args, **kwargs)


class LSTMCell(RNNCellBase):
    """LSTMCell(input_size, hidden_size, bias=True): forward(input, hx=None) with hx = (h, c)
    -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        super().__init__("lstm", input_size, hidden_size, *args, **kwargs)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        seq = self._check_input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self!r}: hx must be a tuple (h, c) of two Tensors, got {_describe(hx)}")
        h = self._state("h", None if hx is None else hx[0], input, seq)
        c = self._state("c", None if hx is None else hx[1], input, seq)
        packed = self._step(seq, h, c)  # (2, N, H): h', then c'
        return _unbatch(input, packed[0]), _unbatch(input, packed[1])
