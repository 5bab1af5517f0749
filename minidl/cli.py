"""The ``minidl`` command (also ``python -m minidl``).

Each subcommand is one function that takes the parsed arguments and returns an exit code, plus one
block in ``build_parser`` that declares its arguments. To add ``minidl train``: write
``run_train(args)`` and add its parser block next to the others.
"""

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

# ---------------------------------------------------------------------------------------------
# Subcommands. Their imports are inside the functions, so that `minidl --help` stays instant and
# a problem in one command's code cannot break the others.


def run_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    doctor()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main()


# The settings of `minidl train` that go into a TrainConfig. Their parser defaults are None, which
# means "TrainConfig's default": the defaults live in one place, minidl/train/config.py.
TRAIN_SETTINGS = (
    "dataset",
    "model",
    "epochs",
    "lr",
    "batch_size",
    "optimizer",
    "device",
    "seed",
    "out",
    "data_root",
    "quiet",
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


def run_train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, resolve_device, run

    try:
        # A setting that does not fit the model (e.g. --text for the CNN) is TrainConfig's ValueError.
        config = TrainConfig(**{k: getattr(args, k) for k in TRAIN_SETTINGS if getattr(args, k) is not None})
        resolve_device(config.device)  # e.g. cuda without a GPU: say why, before loading any data
        if config.is_language_model:
            from .train.text import CharCorpus

            CharCorpus.load(config.text, config.context)  # a bad --text: say why, before writing anything
    except (RuntimeError, ValueError) as err:
        print(f"minidl train: error: {err}", file=sys.stderr)
        return 1
    run(config)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from .train import evaluate_checkpoint, resolve_device

    try:
        device = resolve_device(args.device)
        evaluate_checkpoint(args.checkpoint, data_root=args.data_root, device=device)
    except (OSError, ValueError, RuntimeError) as err:  # a missing or foreign file, no GPU
        print(f"minidl eval: error: {err}", file=sys.stderr)
        return 1
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from .train import resolve_device
    from .train.generate import generate_from_checkpoint

    try:
        device = resolve_device(args.device)
        generate_from_checkpoint(
            args.checkpoint, args.prompt, args.tokens, args.temperature, args.top_k, args.seed, device
        )
    except (OSError, ValueError, RuntimeError) as err:  # a missing or foreign file, a bad prompt, no GPU
        print(f"minidl generate: error: {err}", file=sys.stderr)
        return 1
    return 0


# Argument types: a bad value becomes argparse's usage error (exit code 2) naming the flag.


def _int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argument type: an integer >= ``minimum`` (``what`` names it in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "positive")
_non_negative_int = _int_at_least(0, "non-negative")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _device(text: str) -> str:
    if text != "cpu" and not (text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit())):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")
    return text


# ---------------------------------------------------------------------------------------------


def _command(
    commands: Any, name: str, run: Callable[..., Any], help: str, description: str
) -> argparse.ArgumentParser:
    """Add the subcommand ``minidl <name>``, which calls ``run`` with the parsed arguments."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=description)
    parser.set_defaults(run=run)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minidl", description="minidl: a deep-learning framework written to be read."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    # minidl doctor
    _command(
        commands,
        "doctor",
        run_doctor,
        help="show what was built and what this machine offers",
        description="Show the build (C++/CUDA modules, SIMD, threads) and the devices minidl can use.",
    )

    # minidl demo
    _command(
        commands,
        "demo",
        run_demo,
        help="fit a sine curve with bare tensors and autograd",
        description="Fit a small network to a noisy sine curve using only "
        "tensors, autograd and hand-written gradient descent.",
    )

    # minidl train
    train = _command(
        commands,
        "train",
        run_train,
        help="train a model on MNIST-1D or digits, or a character language model on a text",
        description="Train a model and write checkpoint.npz, metrics.json and curves.png to --out. "
        "With no arguments: the MNIST-1D CNN with Adam, lr 1e-2, batches of 100, "
        "80 epochs (about a minute on two CPU cores or less; 92-94% test accuracy). "
        "--model gpt (or lstm) trains a character language model on the help texts of Python's "
        "pydoc_data.topics (or --text FILE): AdamW, lr 2e-3, batches of 32 windows, epochs of 50 steps, "
        "reporting the validation loss in nats per character; `minidl generate` samples from it.",
    )
    train.add_argument(
        "--dataset", choices=["mnist1d", "digits", "text"], help="gpt, lstm: text; default: mnist1d"
    )
    train.add_argument(
        "--model",
        choices=["mlp", "cnn", "gpt", "lstm"],
        help="gpt: a small Transformer, lstm: a 2-layer LSTM, both on characters (default: cnn)",
    )
    train.add_argument("--epochs", type=_positive_int, metavar="N", help="gpt: 15, lstm: 15; default: 80")
    train.add_argument(
        "--lr", type=_positive_float, metavar="X", help="learning rate (gpt, lstm: 0.002; default: 0.01)"
    )
    train.add_argument("--batch-size", type=_positive_int, metavar="B", help="gpt, lstm: 32; default: 100")
    train.add_argument(
        "--optimizer",
        choices=["adam", "sgd", "adamw"],
        help="adam, sgd with momentum 0.9, or adamw (gpt, lstm: adamw; default: adam)",
    )
    train.add_argument(
        "--device",
        type=_device,
        metavar="{cpu,cuda}",
        help="default: minidl's default device (MINIDL_DEVICE, else cpu)",
    )
    train.add_argument(
        "--seed", type=_non_negative_int, metavar="S", help="seeds the weights and the shuffling (default: 0)"
    )
    train.add_argument("--out", metavar="DIR", help="output folder (default: runs/<dataset>-<model>)")
    train.add_argument("--data-root", metavar="DIR", help="where the MNIST-1D cache lives (default: data)")
    train.add_argument(
        "--quiet",
        action="store_true",
        default=None,
        help="no progress bar and no per-epoch lines; only the final result",
    )
    lm = train.add_argument_group("language models (--model gpt or lstm)")
    lm.add_argument("--text", metavar="FILE", help="a UTF-8 text to learn (default: pydoc_data.topics)")
    lm.add_argument("--steps-per-epoch", type=_positive_int, metavar="N", help="(default: 50)")
    lm.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        help="of the learning rate: constant, or warm-up then cosine decay to a tenth (default: constant)",
    )
    lm.add_argument(
        "--context", type=_positive_int, metavar="T", help="characters per window (gpt: 128, lstm: 64)"
    )
    lm.add_argument("--layers", type=_positive_int, metavar="N", help="(gpt: 4, lstm: 2)")
    lm.add_argument(
        "--width", type=_positive_int, metavar="C", help="embedding and hidden size (gpt: 128, lstm: 256)"
    )
    lm.add_argument("--heads", type=_positive_int, metavar="H", help="gpt only: attention heads (4)")
    lm.add_argument("--dropout", type=_fraction, metavar="P", help="(default: 0)")
    lm.add_argument(
        "--tied",
        action="store_true",
        default=None,
        help="gpt only: the output layer shares the token embedding's weights (default: its own)",
    )

    # minidl eval
    evaluate = _command(
        commands,
        "eval",
        run_eval,
        help="print the test accuracy of a checkpoint written by minidl train",
        description="Rebuild the model from a checkpoint's saved config, load its weights and "
        "print its test accuracy.",
    )
    evaluate.add_argument("checkpoint", metavar="CHECKPOINT", help="e.g. runs/mnist1d-cnn/checkpoint.npz")
    evaluate.add_argument("--data-root", metavar="DIR", help="default: the one the run used")
    evaluate.add_argument("--device", type=_device, metavar="{cpu,cuda}", help="default: cpu")

    # minidl generate
    generate = _command(
        commands,
        "generate",
        run_generate,
        help="sample text from a language model trained by minidl train --model gpt or lstm",
        description="Rebuild the model from a checkpoint, then print the prompt followed by the "
        "characters it samples one at a time. The same checkpoint, prompt and seed give the same text.",
    )
    generate.add_argument("checkpoint", metavar="CHECKPOINT", help="e.g. runs/text-gpt/checkpoint.npz")
    generate.add_argument("--prompt", metavar="TEXT", help="the text to continue (default: a newline)")
    generate.add_argument(
        "--tokens", type=_positive_int, default=500, metavar="N", help="characters to sample (default: 500)"
    )
    generate.add_argument(
        "--temperature",
        type=_non_negative_float,
        default=1.0,
        metavar="T",
        help="below 1 bolder, above 1 more random; 0 is greedy, always the likeliest (default: 1.0)",
    )
    generate.add_argument(
        "--top-k", type=_positive_int, metavar="K", help="draw only among the K likeliest (default: all)"
    )
    generate.add_argument("--seed", type=_non_negative_int, default=0, metavar="S", help="(default: 0)")
    generate.add_argument("--device", type=_device, metavar="{cpu,cuda}", help="default: cpu")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):  # no subcommand: show what there is, and fail like a usage error
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except BrokenPipeError:
        # `minidl doctor | head` closed the pipe: not an error. Point stdout at /dev/null so the
        # interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
