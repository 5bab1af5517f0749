"""``TrainConfig``: every setting of one training run, checked in one place.

The defaults are the recipe ``minidl train`` runs with no arguments: the MNIST-1D CNN with the
paper's optimizer settings (Adam, learning rate 1e-2, batches of 100), for fewer epochs than the
paper's 150 so that the run takes about a minute on two CPU cores; see DEFAULT_EPOCHS.

The character language models (``model='gpt'`` or ``'lstm'``, on ``dataset='text'``) have other
defaults (AdamW at 2e-3, batches of 32 windows, an epoch of a fixed number of steps) and settings
of their own (the text file, the context and the model's size). A setting left at UNSET takes the
model's default, in ``__post_init__``, so ``TrainConfig(model='gpt')`` is the GPT's recipe and
``TrainConfig()`` the CNN's; the config then holds the values it ran with, and is saved so.

The config is saved inside each checkpoint (as a plain dict), and ``minidl eval`` rebuilds the
model from it, so it holds names and numbers only, never objects.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from typing import Any

DATASETS = ("mnist1d", "digits", "text")
MODELS = ("mlp", "cnn", "gpt", "lstm")
LANGUAGE_MODELS = ("gpt", "lstm")
OPTIMIZERS = ("adam", "sgd", "adamw")
SCHEDULES = ("cosine", "constant")  # of the learning rate, for the language models (lm_loop.py)

# Measured (seeds 0-4, the paper's recipe run for its full 150 epochs, test accuracy after every
# epoch): the CNN first reaches 91 % at epoch 14-25, but at a constant learning rate of 1e-2 it
# keeps wobbling by a point or two, and the last dip below 91 % came as late as epoch 67 (one
# seed fell to 89.8 % at epoch 56). From epoch 68 on every epoch of every seed scored 91.0 % or
# more; at epoch 80, 91.6-94.3 % (93.4 % for seed 0), and 92.7 % or more at every later epoch.
# So 80 epochs (3200 steps, about half the paper's 6000) is the default: about 0.2 s an epoch on
# one free core, 15-35 s in all (benchmarks/RESULTS.md, "Training", has the numbers and the
# two-thread caveat).
DEFAULT_EPOCHS = 80

# The GPT's recipe is the PyTorch reference (4 layers, 4 heads, width 128, context 128,
# batches of 32, AdamW at a constant 2e-3). Measured with the PyTorch twin of this model on this
# data: validation loss 1.35 after 600 steps, 1.32 after 700, 1.28 after 800; with
# schedule='cosine' at the same peak minidl reached only 1.375 after 750 steps (the decay starts
# too early). `minidl train --model gpt` (these defaults, 750 steps) measured on two shared cores:
# 1.307 after 650 steps, 1.295 after 700 (627 s), 1.269 after 750 (657 s), at 0.6-1.3 s a step.
STEPS_PER_EPOCH = 50
GPT_EPOCHS = 15
LSTM_EPOCHS = 15

# UNSET: "the model's default". Typed Any so that the fields keep the types of their values.
UNSET: Any = None

CLASSIFIER_DEFAULTS: dict[str, Any] = dict(
    dataset="mnist1d", epochs=DEFAULT_EPOCHS, lr=1e-2, batch_size=100, optimizer="adam"
)
_LANGUAGE_MODEL_RECIPE: dict[str, Any] = dict(
    dataset="text",
    text=None,
    lr=2e-3,
    batch_size=32,
    optimizer="adamw",
    steps_per_epoch=STEPS_PER_EPOCH,
    schedule="constant",
    dropout=0.0,
)
LANGUAGE_MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt": dict(
        _LANGUAGE_MODEL_RECIPE, epochs=GPT_EPOCHS, context=128, layers=4, width=128, heads=4, tied=False
    ),
    "lstm": dict(_LANGUAGE_MODEL_RECIPE, epochs=LSTM_EPOCHS, context=64, layers=2, width=256),
}
# The settings only a language model has; a classifier leaves them UNSET.
LANGUAGE_MODEL_SETTINGS = (
    "text",
    "steps_per_epoch",
    "schedule",
    "context",
    "layers",
    "width",
    "heads",
    "dropout",
    "tied",
)

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def _positive_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1


@dataclasses.dataclass
class TrainConfig:
    """The settings of a run. ``device`` None means minidl's default device (MINIDL_DEVICE);
    ``out`` None means ``runs/<dataset>-<model>``; UNSET, the model's default.

    Language models only: ``text``, a UTF-8 file (UNSET: the default corpus, text.py);
    ``steps_per_epoch``; ``schedule`` of the learning rate; ``context`` (T), ``layers``, ``width``, and for the GPT ``heads``,
    ``dropout``, ``tied`` (the head shares the token embedding).
    """

    dataset: str = UNSET
    model: str = "cnn"
    epochs: int = UNSET
    lr: float = UNSET
    batch_size: int = UNSET
    optimizer: str = UNSET
    device: str | None = None
    seed: int = 0
    out: str | None = None
    data_root: str = "data"
    quiet: bool = False
    text: str | None = UNSET
    steps_per_epoch: int = UNSET
    schedule: str = UNSET
    context: int = UNSET
    layers: int = UNSET
    width: int = UNSET
    heads: int = UNSET
    dropout: float = UNSET
    tied: bool = UNSET

    def __post_init__(self) -> None:
        if self.model in MODELS:
            for name, value in self.defaults().items():
                if getattr(self, name) is UNSET:
                    setattr(self, name, value)
        self.check()

    def defaults(self) -> dict[str, Any]:
        """The defaults of this config's model."""
        return LANGUAGE_MODEL_DEFAULTS.get(self.model, CLASSIFIER_DEFAULTS)

    @property
    def is_language_model(self) -> bool:
        return self.model in LANGUAGE_MODELS

    def check(self) -> None:
        """Raise ValueError, naming the setting and the allowed values, for anything out of range."""
        if self.model not in MODELS:
            raise ValueError(f"TrainConfig: model must be one of {', '.join(MODELS)}; got {self.model!r}")
        for name, allowed in (("dataset", DATASETS), ("optimizer", OPTIMIZERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"TrainConfig: {name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}"
                )
        for name in ("epochs", "batch_size"):
            if not _positive_int(getattr(self, name)):
                raise ValueError(
                    f"TrainConfig: {name} must be a positive integer, got {getattr(self, name)!r}"
                )
        if (
            isinstance(self.lr, bool)
            or not isinstance(self.lr, numbers.Real)
            or not math.isfinite(self.lr)
            or self.lr <= 0
        ):
            raise ValueError(f"TrainConfig: lr must be a positive number, got {self.lr!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"TrainConfig: seed must be a non-negative integer, got {self.seed!r}")
        if self.device is not None and not (isinstance(self.device, str) and _DEVICE.match(self.device)):
            raise ValueError(f"TrainConfig: device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        self._check_model_settings()

    def _check_model_settings(self) -> None:
        """The dataset fits the model, and the language-model settings are set exactly when they apply."""
        if self.is_language_model != (self.dataset == "text"):
            expected = "text" if self.is_language_model else "mnist1d or digits"
            raise ValueError(
                f"TrainConfig: model {self.model!r} trains on dataset {expected}, got {self.dataset!r}"
            )
        applies = self.defaults()
        for name in LANGUAGE_MODEL_SETTINGS:
            if name not in applies and getattr(self, name) is not UNSET:
                users = [m for m in LANGUAGE_MODELS if name in LANGUAGE_MODEL_DEFAULTS[m]]
                raise ValueError(
                    f"TrainConfig: {name} applies to model {' or '.join(users)} only, "
                    f"not {self.model!r}; got {getattr(self, name)!r}"
                )
        if not self.is_language_model:
            return
        for name in (
            "steps_per_epoch",
            "context",
            "layers",
            "width",
            *(["heads"] if "heads" in applies else []),
        ):
            if not _positive_int(getattr(self, name)):
                raise ValueError(
                    f"TrainConfig: {name} must be a positive integer, got {getattr(self, name)!r}"
                )
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"TrainConfig: schedule must be one of {', '.join(SCHEDULES)}; got {self.schedule!r}"
            )
        if self.text is not None and not isinstance(self.text, str):
            raise ValueError(f"TrainConfig: text must be a file name, got {self.text!r}")
        dropout = self.dropout
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"TrainConfig: dropout must be a number in [0, 1), got {dropout!r}")
        if "heads" in applies:
            if self.width % self.heads != 0:
                raise ValueError(f"TrainConfig: width {self.width} must be divisible by heads {self.heads}")
            if not isinstance(self.tied, bool):
                raise ValueError(f"TrainConfig: tied must be True or False, got {self.tied!r}")

    @property
    def out_dir(self) -> str:
        return self.out if self.out is not None else f"runs/{self.dataset}-{self.model}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The config saved in a checkpoint; unknown keys are an error, missing ones take defaults."""
        if not isinstance(values, dict):
            raise ValueError(f"TrainConfig: expected a dict of settings, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown settings {', '.join(map(repr, unknown))}")
        return cls(**values)
