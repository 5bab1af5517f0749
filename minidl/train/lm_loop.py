"""``fit_language_model``: loop.py's five lines, for a model that predicts the next character.

    x, y = corpus.batch(rng, B)                 # (B, T) windows and the same shifted by one
    logits = model(x)                           # (B, T, V): a guess at every position at once
    loss = cross_entropy(logits (B*T, V), y (B*T,))
    optimizer.zero_grad(); loss.backward()
    clip_grad_norm_(parameters, 1.0)            # one unlucky batch cannot throw the weights away
    optimizer.step()

The learning rate follows ``schedule``: 'constant', or 'cosine': a linear warm-up over the first
WARMUP_STEPS steps (Adam's moments are still guesses then), then half a cosine down to a tenth
of the peak at the last step, so the run ends with small careful steps.

The text has no natural epoch (a window can start at any of its 400,000 characters), so an epoch
is a fixed number of steps; after each one the validation loss is measured on the corpus's fixed
held-out windows (eval mode, no_grad) and one line is printed:

    epoch  3/20  train loss 1.8123  val loss 1.8541 nats/char  (24.6 s)

A loss in nats per character is the mean of -ln p(the right character): ln V (4.6 for 103
characters) for a uniform guess, 0 for a certain one; e^loss is how many characters the model is
still choosing between.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy

from .. import tensor
from ..autograd import no_grad
from ..autograd.tensor import Tensor
from ..functional import cross_entropy
from ..nn import Module
from ..nn.utils import clip_grad_norm_
from ..optim import Optimizer
from ..optim.lr_scheduler import LambdaLR
from .progress import progress_bar
from .text import CharCorpus

MAX_GRAD_NORM = 1.0
EVAL_BATCH_SIZE = 64
SCHEDULES = ("cosine", "constant")
WARMUP_STEPS = 30
FINAL_LR_FRACTION = 0.1


def lr_factor(schedule: str, step: int, total: int) -> float:
    """The learning rate of step ``step`` (0-based) of ``total``, as a fraction of the peak."""
    if schedule == "constant":
        return 1.0
    warmup = min(1.0, (step + 1) / min(WARMUP_STEPS, max(1, total // 10)))
    # cos goes 1 -> -1 as the step goes 0 -> total: the factor from 1 down to FINAL_LR_FRACTION
    decay = FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (
        1 + math.cos(math.pi * min(step, total) / total)
    )
    return warmup * decay


def next_character_loss(model: Module, x: Tensor, y: Tensor) -> Tensor:
    """The mean cross-entropy of the model's logits for x (B, T) against the targets y (B, T)."""
    logits = model(x)
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def validation_loss(
    model: Module,
    windows: tuple[numpy.ndarray, numpy.ndarray],
    device: str = "cpu",
    batch_size: int = EVAL_BATCH_SIZE,
) -> float:
    """The mean loss (nats/char) over ``windows`` (inputs (N, T), targets (N, T)), in eval mode
    under no_grad. Leaves the model in eval mode."""
    model.eval()
    inputs, targets = windows
    total = 0.0
    with no_grad():
        for start in range(0, len(inputs), batch_size):
            x = tensor(inputs[start : start + batch_size], device=device)
            y = tensor(targets[start : start + batch_size], device=device)
            total += next_character_loss(model, x, y).item() * len(x)
    return total / len(inputs)


def train_steps(
    model: Module,
    corpus: CharCorpus,
    optimizer: Optimizer,
    steps: Any,
    batch_size: int,
    rng: Any,
    device: str,
    scheduler: LambdaLR | None = None,
) -> float:
    """``steps`` (an iterable, e.g. range(n) or a tqdm bar around one) optimizer steps on random
    training windows, each followed by a step of ``scheduler`` if any; returns their mean loss."""
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    total, count = 0.0, 0
    for _ in steps:
        x, y = corpus.batch(rng, batch_size)
        loss = next_character_loss(model, tensor(x, device=device), tensor(y, device=device))
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(parameters, MAX_GRAD_NORM)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        value = loss.item()
        total, count = total + value, count + 1
        if hasattr(steps, "set_postfix_str"):  # a tqdm bar
            steps.set_postfix_str(f"loss {value:.4f}", refresh=False)
    return total / count


def format_epoch(record: dict[str, Any], epochs: int) -> str:
    width = len(str(epochs))
    return (
        f"epoch {record['epoch']:{width}d}/{epochs}  train loss {record['train_loss']:.4f}  "
        f"val loss {record['val_loss']:.4f} nats/char  ({record['seconds']:.1f} s)"
    )


def fit_language_model(
    model: Module,
    optimizer: Optimizer,
    corpus: CharCorpus,
    epochs: int,
    steps_per_epoch: int,
    batch_size: int,
    device: str = "cpu",
    seed: int = 0,
    log: Callable[[str], object] | None = print,
    progress: bool | None = None,
    on_epoch: Callable[[dict[str, Any]], object] | None = None,
    schedule: str = "constant",
) -> list[dict[str, Any]]:
    """Train for ``epochs`` x ``steps_per_epoch`` steps; returns the history, one dict per epoch:
    ``{'epoch', 'step', 'train_loss', 'val_loss', 'lr', 'seconds'}`` (losses in nats per
    character, lr the learning rate the epoch ended with). schedule: 'constant' or 'cosine'.

    seed: the batches' generator (its own, so the windows drawn do not depend on any other random
    draw) and the choice of validation windows. log, progress, on_epoch: as loop.fit's.
    """
    if progress is None:
        progress = sys.stderr.isatty()
    rng = numpy.random.default_rng(seed)
    held_out = corpus.validation_set(seed)
    if schedule not in SCHEDULES:
        raise ValueError(
            f"fit_language_model: schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}"
        )
    total = epochs * steps_per_epoch
    scheduler = LambdaLR(optimizer, lambda step: lr_factor(schedule, step, total))
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        steps = progress_bar(
            range(steps_per_epoch),
            steps_per_epoch,
            f"epoch {epoch}/{epochs}",
            progress and log is not None,
            "step",
        )
        try:
            train_loss = train_steps(model, corpus, optimizer, steps, batch_size, rng, device, scheduler)
        finally:
            if hasattr(steps, "close"):  # a tqdm bar
                steps.close()
        record = {
            "epoch": epoch,
            "step": epoch * steps_per_epoch,
            "train_loss": train_loss,
            "val_loss": validation_loss(model, held_out, device),
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        if log is not None:
            log(format_epoch(record, epochs))
        if on_epoch is not None:
            on_epoch(record)
    return history
