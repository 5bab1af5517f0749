"""What a training run leaves in its ``--out`` folder.

    checkpoint.npz   minidl.save of {'model': state dict, 'optimizer': state dict,
                     'config': the TrainConfig as a dict, 'epoch': epochs done}, and for a
                     language model 'vocabulary': its characters in id order (a string)
                     (no pickle: ``minidl.load``, ``minidl eval`` or ``minidl generate`` reads it back)
    metrics.json     the config, and per epoch the train loss, test accuracy (a language model:
                     the validation loss) and seconds
    curves.png       train loss and test accuracy (validation loss) against the epoch

Each file is written to a temporary name and renamed into place (``minidl.save`` does the same),
so stopping a run half-way never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any

from .. import io
from ..nn import Module
from ..optim import Optimizer
from .config import TrainConfig

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"
CURVES = "curves.png"


def write_checkpoint(
    out: str,
    model: Module,
    optimizer: Optimizer,
    config: TrainConfig,
    epoch: int,
    vocabulary: str | None = None,
) -> str:
    path = os.path.join(out, CHECKPOINT)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "config": config.to_dict(),
        "epoch": epoch,
    }
    if vocabulary is not None:
        checkpoint["vocabulary"] = vocabulary
    io.save(checkpoint, path)
    return path


def _replace_atomically(path: str, write: Callable[[IO[bytes]], object]) -> None:
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def write_metrics(
    out: str, config: TrainConfig, history: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> str:
    """metrics.json: ``{'config': {...}, 'epochs': [{epoch, train_loss, test_accuracy, seconds}],
    'final_test_accuracy': ..., **extra}``; a language model's epochs have ``val_loss`` (and
    ``step``) instead of ``test_accuracy``, and ``final_val_loss`` stands for the accuracy."""
    path = os.path.join(out, METRICS)
    final = "val_loss" if config.is_language_model else "test_accuracy"
    metrics = {
        "config": config.to_dict(),
        "epochs": history,
        f"final_{final}": history[-1][final] if history else None,
        "total_seconds": sum(r["seconds"] for r in history),
    }
    metrics.update(extra or {})
    text = json.dumps(metrics, indent=2) + "\n"
    _replace_atomically(path, lambda f: f.write(text.encode("utf-8")))
    return path


def write_curves(out: str, history: list[dict[str, Any]], title: str = "") -> str | None:
    """curves.png, or None when matplotlib is not installed (it is optional)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    # A Figure drawn on an Agg canvas directly, not through pyplot: no window, no global backend
    # switch, nothing left open in the caller's matplotlib state.
    epochs = [r["epoch"] for r in history]
    figure = Figure(figsize=(9, 3.5))
    FigureCanvasAgg(figure)
    if history and "val_loss" in history[0]:  # a language model: both losses on one pair of axes
        axes = figure.subplots(1, 1)
        axes.plot(epochs, [r["train_loss"] for r in history], color="tab:blue", label="train")
        axes.plot(epochs, [r["val_loss"] for r in history], color="tab:orange", label="validation")
        axes.set(xlabel="epoch", ylabel="loss (nats per character)", title="next-character loss")
        axes.legend()
        axes.grid(alpha=0.3)
    else:
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        loss_axes.plot(epochs, [r["train_loss"] for r in history], color="tab:blue")
        loss_axes.set(
            xlabel="epoch", ylabel="train loss (cross-entropy)", yscale="log", title="training loss"
        )
        accuracy_axes.plot(epochs, [100 * r["test_accuracy"] for r in history], color="tab:orange")
        accuracy_axes.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
        for axes in (loss_axes, accuracy_axes):
            axes.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = os.path.join(out, CURVES)
    _replace_atomically(path, lambda f: figure.savefig(f, format="png", dpi=100))
    return path
