"""``minidl train`` / ``minidl eval`` and the ``minidl.train`` package behind them.

Short seeded runs that must learn (accuracy far above the 10 % of guessing), the command line end
to end into a temporary folder, reproducibility, and a clear error for each kind of bad input. The
full-length recipes and their accuracy targets are in ``benchmarks/train.py``.
"""

import json
import re

import pytest

import minidl as md
from minidl import cli
from minidl.train import TrainConfig, build_model, evaluate_checkpoint, load_splits, run
from minidl.train.config import DEFAULT_EPOCHS


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny (a batch is a few hundred kFLOPs per layer), so one thread is the
    fastest setting, and on a busy shared machine a second thread that must wait its turn at
    every kernel's barrier makes a run several times slower. Speed is not what is tested here."""
    threads = md.get_num_threads()
    md.set_num_threads(1)
    yield
    md.set_num_threads(threads)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """One MNIST-1D cache for the whole module: generating it takes a few seconds."""
    root = tmp_path_factory.mktemp("data")
    load_splits("mnist1d", root)
    return str(root)


# -- models -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset, shape", [("mnist1d", (1, 40)), ("digits", (1, 8, 8))])
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_models_map_a_batch_to_ten_scores(dataset, shape, name):
    model = build_model(dataset, name)
    assert model(md.randn(3, *shape)).shape == (3, 10)


def test_model_sizes_are_the_papers():
    mlp = build_model("mnist1d", "mlp")
    assert mlp.num_parameters() == (40 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10)
    cnn = build_model("mnist1d", "cnn")
    assert cnn[-1].in_features == 125  # 25 channels x length 5 (40 -> 19 -> 10 -> 5)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="no model 'rnn' for dataset 'mnist1d'"):
        build_model("mnist1d", "rnn")


# -- learning -----------------------------------------------------------------------------------


def test_mnist1d_cnn_learns_in_a_few_epochs(data_root, tmp_path):
    # Six epochs (240 Adam steps) take the CNN from 10 % (chance) to about 75 %.
    result = run(TrainConfig(epochs=6, data_root=data_root, out=str(tmp_path), quiet=True), log=None)
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.6 * losses[0]
    assert result.final_accuracy >= 0.65


def test_digits_mlp_learns(tmp_path):
    result = run(
        TrainConfig(dataset="digits", model="mlp", epochs=10, out=str(tmp_path), quiet=True), log=None
    )
    assert result.final_accuracy >= 0.90


def test_same_seed_same_run_other_seed_other_run(data_root, tmp_path):
    def history(seed, name):
        config = TrainConfig(
            model="mlp", epochs=2, seed=seed, data_root=data_root, out=str(tmp_path / name), quiet=True
        )
        return [(r["train_loss"], r["test_accuracy"]) for r in run(config, log=None).history]

    first = history(0, "a")
    assert history(0, "b") == first
    assert history(1, "c") != first


# -- the command line ---------------------------------------------------------------------------


def test_train_then_eval_from_the_command_line(data_root, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--model",
            "mlp",
            "--epochs",
            "3",
            "--batch-size",
            "50",
            "--seed",
            "3",
            "--data-root",
            data_root,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    lines = re.findall(
        r"^epoch (\d)/3  train loss \d+\.\d{4}  test acc \d+\.\d\d%  \(\d+\.\d s\)$", printed, re.MULTILINE
    )
    assert lines == ["1", "2", "3"]
    for name in ("checkpoint.npz", "metrics.json", "curves.png"):
        assert (out / name).stat().st_size > 0

    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3]
    assert metrics["config"]["model"] == "mlp" and metrics["config"]["batch_size"] == 50
    final = metrics["final_test_accuracy"]
    assert final == metrics["epochs"][-1]["test_accuracy"]
    assert f"final test accuracy {100 * final:.2f}%" in printed

    checkpoint = md.load(out / "checkpoint.npz")
    assert set(checkpoint) == {"model", "optimizer", "config", "epoch"} and checkpoint["epoch"] == 3
    assert checkpoint["optimizer"]["state"]  # Adam's moments, so a run could be resumed

    # eval rebuilds the model from the saved config and gets the same number, exactly
    assert cli.main(["eval", str(out / "checkpoint.npz")]) == 0
    assert f"test accuracy {100 * final:.2f}%" in capsys.readouterr().out
    assert evaluate_checkpoint(out / "checkpoint.npz", log=None) == final


def test_quiet_prints_only_the_result(data_root, tmp_path, capsys):
    code = cli.main(
        [
            "train",
            "--dataset",
            "digits",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--quiet",
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("final test accuracy")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "-1"], "argument --epochs: expected a positive integer, got '-1'"),
        (["--epochs", "two"], "argument --epochs: expected a positive integer"),
        (["--lr", "0"], "argument --lr: expected a positive number"),
        (["--batch-size", "0"], "argument --batch-size: expected a positive integer"),
        (["--seed", "-5"], "argument --seed: expected a non-negative integer"),
        (["--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet'"),
        (["--model", "rnn"], "argument --model: invalid choice: 'rnn'"),
        (["--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
        (["--device", "tpu"], "argument --device: expected cpu, cuda or cuda:N, got 'tpu'"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train"] + argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    if md.cuda.is_available():
        pytest.skip("this machine has a usable GPU")
    code = cli.main(["train", "--device", "cuda", "--out", str(tmp_path / "run")])
    assert code == 1
    err = capsys.readouterr().err
    assert "minidl train: error: cannot use device 'cuda:0'" in err
    assert not (tmp_path / "run").exists()  # it failed before doing anything


def test_eval_of_a_missing_or_foreign_file(tmp_path, capsys):
    assert cli.main(["eval", str(tmp_path / "nothing.npz")]) == 1
    assert "no checkpoint at" in capsys.readouterr().err
    md.save({"weights": md.zeros(2)}, tmp_path / "other.npz")
    assert cli.main(["eval", str(tmp_path / "other.npz")]) == 1
    assert "not a training checkpoint" in capsys.readouterr().err


def test_help_states_the_real_defaults():
    # The parser's defaults are None ("TrainConfig's default"), so the numbers in the help text
    # are written out by hand; this keeps them equal to TrainConfig's.
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    helps = {a.dest: a.help or "" for a in train._actions}
    defaults = TrainConfig()
    for name in ("dataset", "model", "epochs", "lr", "batch_size", "optimizer", "seed", "data_root"):
        assert f"default: {getattr(defaults, name)})" in helps[name] + ")", name
    assert f"{DEFAULT_EPOCHS} epochs" in train.description


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(epochs=0), "epochs must be a positive integer"),
        (dict(lr=float("nan")), "lr must be a positive number"),
        (dict(dataset="cifar"), "dataset must be one of mnist1d, digits"),
        (dict(device="gpu"), "device must be 'cpu', 'cuda' or 'cuda:N'"),
    ],
)
def test_config_checks_its_values(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig(**settings)
