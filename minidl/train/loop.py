"""``fit``: the training loop, the same five lines every deep-learning course writes.

    for x, y in loader:                         # a new shuffled order every epoch
        loss = cross_entropy(model(x), y)       # forward: builds the graph
        optimizer.zero_grad()                   # forget the previous step's gradients
        loss.backward()                         # fills p.grad for every parameter
        optimizer.step()                        # moves each parameter against its gradient

After each epoch the model is scored on the test set (``scoring.accuracy``: eval mode, no_grad)
and one line is printed:

    epoch 3/20  train loss 0.4123  test acc 91.30%  (1.2 s)

The train loss is the mean over the epoch's samples of the loss *while* the epoch was training,
so it lags the weights a little; the test accuracy is of the weights at the end of the epoch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..data import DataLoader, Dataset
from ..functional import cross_entropy
from ..nn import Module
from ..optim import Optimizer
from .progress import progress_bar
from .scoring import accuracy


def train_one_epoch(model: Module, batches: Iterable, optimizer: Optimizer, device: str) -> float:
    """One pass over ``batches`` (a DataLoader, or a tqdm bar around one); returns the mean
    training loss over its samples."""
    model.train()
    total, count = 0.0, 0
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        loss = cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        total += value * len(y)
        count += len(y)
        if hasattr(batches, "set_postfix_str"):  # a tqdm bar
            batches.set_postfix_str(f"loss {value:.4f}", refresh=False)
    return total / count


def format_epoch(record: dict[str, Any], epochs: int) -> str:
    width = len(str(epochs))
    return (
        f"epoch {record['epoch']:{width}d}/{epochs}  train loss {record['train_loss']:.4f}  "
        f"test acc {100 * record['test_accuracy']:.2f}%  ({record['seconds']:.1f} s)"
    )


def fit(
    model: Module,
    optimizer: Optimizer,
    train_set: Dataset,
    test_set: Dataset,
    epochs: int,
    batch_size: int,
    device: str = "cpu",
    seed: int = 0,
    log: Callable[[str], object] | None = print,
    progress: bool | None = None,
    on_epoch: Callable[[dict[str, Any]], object] | None = None,
) -> list[dict[str, Any]]:
    """Train ``model`` for ``epochs`` epochs; returns the history, one dict per epoch:
    ``{'epoch', 'train_loss', 'test_accuracy', 'seconds'}``.

    seed: the loader's shuffling seed (its own generator, so the order of batches does not depend
    on any other random draw). log: called with each epoch's line (None: silent). progress: show
    a tqdm bar per epoch (default: when stderr is a terminal). on_epoch(record): called after each
    epoch, e.g. to save a checkpoint.
    """
    if progress is None:
        progress = sys.stderr.isatty()
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        batches = progress_bar(loader, len(loader), f"epoch {epoch}/{epochs}", progress and log is not None)
        try:
            train_loss = train_one_epoch(model, batches, optimizer, device)
        finally:
            if hasattr(batches, "close"):  # a tqdm bar
                batches.close()
        test_accuracy = accuracy(model, test_set, device)
        record = {
            "epoch": epoch,
            "train_loss": train_loss,
            "test_accuracy": test_accuracy,
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        if log is not None:
            log(format_epoch(record, epochs))
        if on_epoch is not None:
            on_epoch(record)
    return history
