"""Training end to end: what ``minidl train`` and ``minidl eval`` run.

models.py    the built-in models (an MLP and a CNN each for MNIST-1D and digits), build_model
datasets.py  the datasets by name: load_splits
config.py    TrainConfig: every setting of a run, checked; the defaults train the MNIST-1D CNN
loop.py      fit(): epochs of shuffled batches, cross-entropy, optimizer steps, a line per epoch
scoring.py   accuracy() of a model on a dataset, and evaluate_checkpoint()
outputs.py   what a run leaves in its folder: checkpoint.npz, metrics.json, curves.png
run.py       run(): seed, build, fit, write the outputs: the whole job

from minidl.train import TrainConfig, run
result = run(TrainConfig(epochs=5, out="runs/try"))
result.history[-1]["test_accuracy"]
"""

from .config import DATASETS, MODELS, OPTIMIZERS, TrainConfig
from .datasets import load_splits
from .loop import fit
from .models import build_model
from .run import RunResult, resolve_device, run
from .scoring import accuracy, evaluate_checkpoint

__all__ = [
    "DATASETS",
    "MODELS",
    "OPTIMIZERS",
    "RunResult",
    "TrainConfig",
    "accuracy",
    "build_model",
    "evaluate_checkpoint",
    "fit",
    "load_splits",
    "resolve_device",
    "run",
]
