"""The built-in models of ``minidl train``: an MLP and a CNN for each dataset, and two character
language models for a text (``build_language_model``): the small GPT of gpt.py and the LSTM of
charlstm.py.

The MNIST-1D pair is the one of the MNIST-1D paper (Greydanus, 2020), whose table they reproduce:
the MLP scores about 68 % and the CNN about 94 % on the same 40-sample signals, because the
convolutions share weights along the signal and so see a shifted digit as the same digit.

    MNIST-1D (1, 40)   mlp  Flatten, 40-100-100-10 with ReLU
                       cnn  three stride-2 Conv1d layers of 25 channels with ReLU, Linear 125-10
    digits (1, 8, 8)   mlp  Flatten, 64-100-100-10 with ReLU
                       cnn  two Conv2d + MaxPool2d stages (16, 32 channels), Linear 128-10

Each is a plain ``nn.Sequential``: printing the model shows every layer, and the state dict's
keys ("0.weight", "2.bias", ...) are its positions. Weights start from the layers' default
(PyTorch's) initialisation, drawn from ``minidl.manual_seed``'s generator.
"""

from __future__ import annotations

from typing import Any

from .. import nn, no_grad, zeros
from .charlstm import CharLSTM
from .config import TrainConfig
from .gpt import GPT
from .text import Vocabulary


def _mlp(inputs: int) -> nn.Sequential:
    """Flatten, then inputs-100-100-10 with ReLU: the MLP of both datasets."""
    return nn.Sequential(
        nn.Flatten(), nn.Linear(inputs, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
    )


def _with_classifier(features: nn.Sequential, input_shape: tuple[int, ...]) -> nn.Sequential:
    """``features``, Flatten, and a Linear to 10 classes sized by running ``features`` once on
    zeros of ``input_shape``: computed, not typed, so the numbers cannot drift apart from the
    layers (and no output-size formula is written again here)."""
    with no_grad():
        width = features(zeros(1, *input_shape)).numel()
    return nn.Sequential(*features, nn.Flatten(), nn.Linear(width, 10))


def mnist1d_mlp() -> nn.Sequential:
    return _mlp(40)


def mnist1d_cnn() -> nn.Sequential:
    # The signal shrinks 40 -> 19 -> 10 -> 5 through the three strided convolutions, so the
    # classifier sees 25 channels x 5 positions = 125 features.
    return _with_classifier(
        nn.Sequential(
            nn.Conv1d(1, 25, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
        ),
        (1, 40),
    )


def digits_mlp() -> nn.Sequential:
    return _mlp(64)


def digits_cnn() -> nn.Sequential:
    # 8 x 8 -> pool -> 4 x 4 -> pool -> 2 x 2; padding 1 keeps each 3 x 3 convolution's size, so
    # the classifier sees 32 channels x 2 x 2 = 128 features.
    return _with_classifier(
        nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ),
        (1, 8, 8),
    )


BUILDERS = {
    ("mnist1d", "mlp"): mnist1d_mlp,
    ("mnist1d", "cnn"): mnist1d_cnn,
    ("digits", "mlp"): digits_mlp,
    ("digits", "cnn"): digits_cnn,
}


def build_model(dataset: str, name: str) -> nn.Sequential:
    """A freshly initialised model ``name`` ('mlp' or 'cnn') for ``dataset`` ('mnist1d' or 'digits')."""
    try:
        builder = BUILDERS[(dataset, name)]
    except (KeyError, TypeError):
        known = ", ".join(f"{d}/{m}" for d, m in BUILDERS)
        raise ValueError(f"build_model: no model {name!r} for dataset {dataset!r}; known: {known}") from None
    return builder()


def build_language_model(config: TrainConfig, vocabulary: int) -> GPT | CharLSTM:
    """A freshly initialised ``config.model`` ('gpt' or 'lstm') of the config's size, for a
    vocabulary of ``vocabulary`` characters."""
    if config.model == "gpt":
        return GPT(
            vocabulary,
            context=config.context,
            layers=config.layers,
            width=config.width,
            heads=config.heads,
            dropout=config.dropout,
            tied=config.tied,
        )
    if config.model == "lstm":
        return CharLSTM(vocabulary, layers=config.layers, width=config.width, dropout=config.dropout)
    raise ValueError(
        f"build_language_model: {config.model!r} is not a language model; expected 'gpt' or 'lstm'"
    )


def rebuild_language_model(
    checkpoint: dict[str, Any], path: str = "the checkpoint"
) -> tuple[GPT | CharLSTM, TrainConfig, Vocabulary]:
    """The trained language model of a checkpoint ``minidl train`` wrote (as scoring.load_checkpoint
    returns it), with its config and vocabulary; ValueError, naming ``path``, for a classifier's."""
    config = TrainConfig.from_dict(checkpoint["config"])
    if not config.is_language_model:
        raise ValueError(
            f"{path} is a checkpoint of the classifier {config.dataset} {config.model}, "
            f"not of a language model (train one with `minidl train --model gpt` or `--model lstm`)"
        )
    chars = checkpoint.get("vocabulary")
    if not isinstance(chars, str) or not chars:
        raise ValueError(
            f"{path}: a {config.model} checkpoint without its vocabulary (a string of characters)"
        )
    model = build_language_model(config, len(chars))
    model.load_state_dict(checkpoint["model"])
    return model, config, Vocabulary(chars)
