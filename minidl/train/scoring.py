"""How a trained model is scored: test accuracy, from a live model or from a checkpoint (a
language model's checkpoint: its validation loss, lm_loop.validation_loss).

``accuracy`` runs the model in eval mode under ``no_grad`` (no graph is recorded, so nothing is
kept for a backward pass that will never come) over fixed batches in a fixed order. Training ends
with exactly this call and ``minidl eval`` repeats it on the reloaded weights, so the two print
the same number to the last digit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import io
from ..autograd import no_grad
from ..data import DataLoader, Dataset
from ..nn import Module
from .config import TrainConfig
from .datasets import load_splits
from .lm_loop import validation_loss
from .models import build_model, rebuild_language_model
from .text import CharCorpus

EVAL_BATCH_SIZE = 1000


def accuracy(
    model: Module, dataset: Dataset, device: str = "cpu", batch_size: int = EVAL_BATCH_SIZE
) -> float:
    """The fraction of ``dataset``'s samples whose label is the model's highest-scoring class.

    Leaves the model in eval mode; the training loop switches it back to train mode itself.
    """
    model.eval()
    correct = 0
    with no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            prediction = model(x.to(device)).argmax(dim=1)
            correct += int((prediction == y.to(device)).sum().item())
    return correct / len(dataset)


def load_checkpoint(path: str) -> dict[str, Any]:
    """The dict ``minidl train`` saved, checked for the parts ``evaluate_checkpoint`` needs."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    checkpoint = io.load(path, map_location="cpu")
    if not isinstance(checkpoint, dict) or not {"model", "config"} <= set(checkpoint):
        raise ValueError(
            f"{path} is a minidl file but not a training checkpoint "
            f"(expected the keys 'model' and 'config' that `minidl train` writes)"
        )
    return checkpoint


def evaluate_checkpoint(
    path: str, data_root: str | None = None, device: str = "cpu", log: Callable[[str], object] | None = print
) -> float:
    """Rebuild the model a checkpoint was trained as, load its weights and return its test accuracy.

    data_root: where the dataset lives (default: the one the run used). device: where to run.
    log: called with the line that reports the result (None: print nothing).
    """
    checkpoint = load_checkpoint(path)
    config = TrainConfig.from_dict(checkpoint["config"])
    if config.is_language_model:
        return evaluate_language_model(path, checkpoint, device, log)
    model = build_model(config.dataset, config.model)
    model.load_state_dict(checkpoint["model"])
    model.to(device)
    _, test_set = load_splits(config.dataset, config.data_root if data_root is None else data_root)
    result = accuracy(model, test_set, device)
    epoch = checkpoint.get("epoch", "?")
    if log is not None:
        log(
            f"{path}: {config.dataset} {config.model} after {epoch} epochs: "
            f"test accuracy {100 * result:.2f}% ({len(test_set)} samples)"
        )
    return result


def evaluate_language_model(
    path: str, checkpoint: dict[str, Any], device: str = "cpu", log: Callable[[str], object] | None = print
) -> float:
    """evaluate_checkpoint for a 'gpt' or 'lstm' checkpoint: its validation loss (nats/char) on
    the text it was trained on, the same windows as training measured."""
    model, config, vocabulary = rebuild_language_model(checkpoint, path)
    corpus = CharCorpus.load(config.text, config.context)
    if corpus.vocabulary != vocabulary:
        raise ValueError(
            f"{path}: the text {corpus.name} no longer has the characters the model was trained on "
            f"({len(corpus.vocabulary)} distinct now, {len(vocabulary)} then)"
        )
    windows = corpus.validation_set(config.seed)
    result = validation_loss(model.to(device), windows, device)
    if log is not None:
        log(
            f"{path}: {config.model} on {corpus.name} after {checkpoint.get('epoch', '?')} epochs: "
            f"validation loss {result:.4f} nats/char ({windows[1].size} held-out characters scored)"
        )
    return result
