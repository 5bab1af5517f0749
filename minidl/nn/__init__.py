"""Neural-network layers, written in plain Python over ``minidl.functional`` and ``Tensor``.

parameter.py      Parameter: a tensor a Module learns
module.py         Module: registration, parameters(), train/eval, to(), state_dict, repr
container.py      Sequential, ModuleList, ModuleDict, Identity
linear.py         Linear
conv.py           Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
pooling.py        MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, MaxUnpool1d, MaxUnpool2d
flatten.py        Flatten
upsampling.py     Upsample (functional.interpolate as a layer)
activation.py     ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax, Softmin, ELU, SELU,
                  CELU, SiLU, Mish, Hardswish, Hardsigmoid, Hardtanh, ReLU6, Softsign, LogSigmoid
dropout.py        Dropout
normalization.py  BatchNorm1d, BatchNorm2d, LayerNorm
embedding.py      Embedding
attention.py      MultiheadAttention (issue 14, attention)
transformer.py    TransformerEncoderLayer, TransformerEncoder (issue 14, attention)
rnn.py            RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell (issue 14, recurrent layers)
loss.py           MSELoss, L1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss
init.py           kaiming_/xavier_ uniform and normal, zeros_, ones_, normal_, uniform_, ...
utils.py          clip_grad_norm_, clip_grad_value_
functional.py     minidl.functional again, as ``minidl.nn.functional`` (PyTorch's path)
"""

from . import functional, init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softsign,
    Tanh,
)
from .attention import MultiheadAttention  # issue 14, attention
from .container import Identity, ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pooling import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, MaxUnpool1d, MaxUnpool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # issue 14, recurrent layers
from .transformer import TransformerEncoder, TransformerEncoderLayer  # issue 14, attention
from .upsampling import Upsample
