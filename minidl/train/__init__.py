"""Training end to end: what ``minidl train`` and ``minidl eval`` run.

models.py    the built-in models (an MLP and a CNN each for MNIST-1D and digits), build_model
datasets.py  the datasets by name: load_splits
config.py    TrainConfig: every setting of a run, checked; the defaults train the MNIST-1D CNN
loop.py      fit(): epochs of shuffled batches, cross-entropy, optimizer steps, a line per epoch
scoring.py   accuracy() of a model on a dataset, and evaluate_checkpoint()
outputs.py   what a run leaves in its folder: checkpoint.npz, metrics.json, curves.png
run.py       run(): seed, build, fit, write the outputs: the whole job
text.py      the character corpus (pydoc_data.topics, or --text FILE), vocabulary, random windows
gpt.py       the small GPT; charlstm.py: the character LSTM (--model gpt / lstm)
lm_loop.py   fit_language_model(): steps of next-character cross-entropy, the validation loss
generate.py  sampling text from a language model's checkpoint (``minidl generate``)
progress.py  the optional tqdm bar of both loops

from minidl.train import TrainConfig, run
result = run(TrainConfig(epochs=5, out="runs/try"))
result.history[-1]["test_accuracy"]
"""

from .config import DATASETS, LANGUAGE_MODELS, MODELS, OPTIMIZERS, TrainConfig
from .datasets import load_splits
from .generate import generate_from_checkpoint, sample
from .lm_loop import fit_language_model
from .loop import fit
from .models import build_language_model, build_model
from .run import RunResult, resolve_device, run
from .scoring import accuracy, evaluate_checkpoint

__all__ = [
    "DATASETS",
    "LANGUAGE_MODELS",
    "MODELS",
    "OPTIMIZERS",
    "RunResult",
    "TrainConfig",
    "accuracy",
    "build_language_model",
    "build_model",
    "evaluate_checkpoint",
    "fit",
    "fit_language_model",
    "generate_from_checkpoint",
    "load_splits",
    "resolve_device",
    "run",
    "sample",
]
