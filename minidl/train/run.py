"""``run``: one whole training job, from a TrainConfig to the files in its output folder.

The order matters for reproducibility: the seed is set first, then the model is built (its
initial weights are the first draws from minidl's generator), and the loader shuffles with its
own generator seeded from the same number. So the same config gives the same weights, the same
batches, and the same accuracy, run after run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from .. import __version__, get_num_threads, manual_seed, optim, zeros
from ..nn import Module, Parameter
from .config import TrainConfig
from .datasets import load_splits
from .lm_loop import fit_language_model
from .loop import fit
from .models import build_language_model, build_model
from .outputs import write_checkpoint, write_curves, write_metrics
from .text import CharCorpus


@dataclasses.dataclass
class RunResult:
    config: TrainConfig
    model: Module
    optimizer: optim.Optimizer
    history: list[dict[str, Any]]
    files: dict[str, str | None]  # 'checkpoint', 'metrics', 'curves' -> path (curves None without matplotlib)

    @property
    def final_accuracy(self) -> float:
        return self.history[-1]["test_accuracy"]

    @property
    def final_val_loss(self) -> float:
        """A language model's last validation loss, in nats per character."""
        return self.history[-1]["val_loss"]


def resolve_device(device: str | None) -> str:
    """The device a run uses: ``device``, or minidl's default when None. A device that cannot be
    used (CUDA on a machine without a GPU or CuPy) raises minidl's own RuntimeError here, before
    any data is loaded."""
    probe = zeros(1) if device is None else zeros(1).to(device)
    return str(probe.device)


def make_optimizer(name: str, parameters: Iterable[Parameter], lr: float) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    if name == "sgd":
        # Momentum 0.9 is the usual companion of plain SGD; without it SGD needs many more epochs.
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adamw":
        return optim.AdamW(parameters, lr=lr)  # PyTorch's weight decay, 0.01
    raise ValueError(f"make_optimizer: unknown optimizer {name!r}; expected 'adam', 'sgd' or 'adamw'")


def run(config: TrainConfig | None = None, log: Callable[[str], object] | None = print) -> RunResult:
    """Train as ``config`` says (default: TrainConfig()), write the outputs, return a RunResult.

    log: called with each line to print (None: print nothing); with ``config.quiet`` only the
    final line is logged.
    """
    log = log if log is not None else (lambda line: None)
    config = TrainConfig() if config is None else config
    config.check()
    device = resolve_device(config.device)
    if config.is_language_model:
        return _run_language_model(config, device, log)
    out = config.out_dir
    os.makedirs(out, exist_ok=True)

    manual_seed(config.seed)
    train_set, test_set = load_splits(config.dataset, config.data_root)
    model = build_model(config.dataset, config.model).to(device)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    if not config.quiet:
        log(
            f"training {config.model} on {config.dataset} ({len(train_set)} train / {len(test_set)} test, "
            f"{model.num_parameters()} parameters) on {device}: {config.optimizer} lr {config.lr:g}, "
            f"batch {config.batch_size}, {config.epochs} epochs, seed {config.seed}"
        )

    start = time.perf_counter()
    history = fit(
        model,
        optimizer,
        train_set,
        test_set,
        config.epochs,
        config.batch_size,
        device,
        seed=config.seed,
        log=None if config.quiet else log,
    )
    elapsed = time.perf_counter() - start

    files = _write_outputs(config, model, optimizer, history, device, f"{config.dataset} {config.model}")
    log(
        f"final test accuracy {100 * history[-1]['test_accuracy']:.2f}% after {config.epochs} epochs "
        f"in {elapsed:.1f} s; wrote {_names(files)} to {config.out_dir}"
    )
    return RunResult(config, model, optimizer, history, files)


def _run_language_model(config: TrainConfig, device: str, log: Callable[[str], object]) -> RunResult:
    """run() for 'gpt' and 'lstm': the same order (seed, model, optimizer), on a text corpus."""
    corpus = CharCorpus.load(config.text, config.context)  # a bad --text fails before any file is written
    os.makedirs(config.out_dir, exist_ok=True)
    manual_seed(config.seed)
    model = build_language_model(config, len(corpus.vocabulary)).to(device)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    if not config.quiet:
        log(
            f"training {config.model} on {corpus.name} ({len(corpus.train_ids)} train / "
            f"{len(corpus.val_ids)} validation characters, {len(corpus.vocabulary)} distinct; "
            f"{model.num_parameters()} parameters) on {device}: {config.optimizer} lr {config.lr:g}, "
            f"batch {config.batch_size} x {config.context} characters, {config.epochs} epochs of "
            f"{config.steps_per_epoch} steps ({config.schedule} lr), seed {config.seed}"
        )
    start = time.perf_counter()
    history = fit_language_model(
        model,
        optimizer,
        corpus,
        config.epochs,
        config.steps_per_epoch,
        config.batch_size,
        device,
        seed=config.seed,
        log=None if config.quiet else log,
        schedule=config.schedule,
    )
    elapsed = time.perf_counter() - start
    files = _write_outputs(
        config, model, optimizer, history, device, f"{config.model} on {corpus.name}", corpus.vocabulary.chars
    )
    log(
        f"final validation loss {history[-1]['val_loss']:.4f} nats/char after {config.epochs} epochs "
        f"({config.epochs * config.steps_per_epoch} steps) in {elapsed:.1f} s; wrote {_names(files)} "
        f"to {config.out_dir}"
    )
    return RunResult(config, model, optimizer, history, files)


def _write_outputs(
    config: TrainConfig,
    model: Module,
    optimizer: optim.Optimizer,
    history: list[dict[str, Any]],
    device: str,
    title: str,
    vocabulary: str | None = None,
) -> dict[str, str | None]:
    out = config.out_dir
    return {
        "checkpoint": write_checkpoint(out, model, optimizer, config, config.epochs, vocabulary),
        "metrics": write_metrics(
            out,
            config,
            history,
            {"device": device, "threads": get_num_threads(), "minidl_version": __version__},
        ),
        "curves": write_curves(out, history, title),
    }


def _names(files: dict[str, str | None]) -> str:
    return ", ".join(os.path.basename(p) for p in files.values() if p is not None)
