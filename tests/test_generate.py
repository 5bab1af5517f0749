"""``minidl generate``: sampling text from a checkpoint of ``minidl train --model gpt`` / ``lstm``.

The checkpoints are tiny models trained for a few steps on a repetitive text, so the text they
write is poor, but what is tested holds for any model: the same seed gives the same text, the
greedy choice does not depend on the seed, and every bad input is an error message, not a crash.
"""

import subprocess
import sys

import numpy as np
import pytest

import minidl as md
from minidl import cli
from minidl.train import TrainConfig, run
from minidl.train.generate import generate_from_checkpoint, next_id

TEXT = "abracadabra, said the wizard; abracadabra!\n" * 60


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """{'gpt': path, 'lstm': path} of two tiny trained language models."""
    threads = md.get_num_threads()
    md.set_num_threads(1)
    root = tmp_path_factory.mktemp("generate")
    text = root / "spell.txt"
    text.write_text(TEXT, encoding="utf-8")
    paths = {}
    for model, size in (("gpt", dict(heads=2, layers=1)), ("lstm", dict(layers=1))):
        config = TrainConfig(
            model=model, text=str(text), context=16, width=32, batch_size=16, lr=1e-2, epochs=1,
            steps_per_epoch=20, out=str(root / model), quiet=True, **size,
        )  # fmt: skip
        run(config, log=None)
        paths[model] = str(root / model / "checkpoint.npz")
    yield paths
    md.set_num_threads(threads)


def generate(capsys, *argv):
    code = cli.main(["generate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_same_seed_same_text_other_seed_other_text(checkpoints, capsys, model):
    argv = [checkpoints[model], "--prompt", "abra", "--tokens", "40", "--seed", "5"]
    code, first, _ = generate(capsys, *argv)
    assert code == 0
    assert first.startswith("abra") and len(first) == 4 + 40 + 1  # print's newline
    assert generate(capsys, *argv)[1] == first
    assert generate(capsys, *argv[:-1], "6")[1] != first


def test_the_text_is_the_prompt_and_n_characters(checkpoints):
    text = generate_from_checkpoint(checkpoints["gpt"], "wiz", tokens=50, seed=1, log=None)
    assert len(text) == 53 and text.startswith("wiz") and set(text) <= set(TEXT)
    # longer than the GPT's context of 16: the window slides, nothing fails
    assert len(generate_from_checkpoint(checkpoints["gpt"], "a" * 30, tokens=5, log=None)) == 35


@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_temperature_zero_and_top_k_one_are_greedy(checkpoints, model):
    greedy = [generate_from_checkpoint(checkpoints[model], "ab", 30, 0.0, seed=s, log=None) for s in (0, 1)]
    assert greedy[0] == greedy[1]
    assert generate_from_checkpoint(checkpoints[model], "ab", 30, 1.5, top_k=1, seed=7, log=None) == greedy[0]


def test_next_id_draws_from_the_tempered_top_k():
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    rng = np.random.default_rng(0)
    draws = np.bincount([next_id(logits, 1.0, None, rng) for _ in range(4000)], minlength=4) / 4000
    np.testing.assert_allclose(draws, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    assert {next_id(logits, 1.0, 2, rng) for _ in range(200)} == {2, 3}
    assert next_id(logits, 0.0, None, rng) == 3
    # a high temperature flattens: the least likely character comes up far more often than 10 %
    hot = np.bincount([next_id(logits, 100.0, None, rng) for _ in range(2000)], minlength=4) / 2000
    assert hot[0] > 0.2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tokens", "0"], "argument --tokens: expected a positive integer, got '0'"),
        (["--temperature", "-1"], "argument --temperature: expected a number >= 0, got '-1'"),
        (["--temperature", "inf"], "argument --temperature: expected a number >= 0"),
        (["--top-k", "0"], "argument --top-k: expected a positive integer, got '0'"),
        (["--seed", "-2"], "argument --seed: expected a non-negative integer"),
    ],
)
def test_bad_arguments_are_usage_errors(checkpoints, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["generate", checkpoints["gpt"], *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_prompts_name_the_problem(checkpoints, capsys):
    code, _, err = generate(capsys, checkpoints["gpt"], "--prompt", "Abra%")
    assert code == 1 and "the prompt has characters the model never saw: 'A', '%'" in err
    code, _, err = generate(capsys, checkpoints["lstm"], "--prompt", "")
    assert code == 1 and "the prompt is empty" in err


def test_missing_corrupt_and_classifier_checkpoints(tmp_path, capsys):
    code, _, err = generate(capsys, str(tmp_path / "none.npz"))
    assert code == 1 and "minidl generate: error: no checkpoint at" in err
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    code, _, err = generate(capsys, str(tmp_path / "junk.npz"))
    assert code == 1 and "is not a minidl checkpoint" in err
    md.save({"weights": md.zeros(2)}, tmp_path / "other.npz")
    code, _, err = generate(capsys, str(tmp_path / "other.npz"))
    assert code == 1 and "not a training checkpoint" in err
    classifier = tmp_path / "digits"
    md.set_num_threads(1)
    run(TrainConfig(dataset="digits", model="mlp", epochs=1, out=str(classifier), quiet=True), log=None)
    code, _, err = generate(capsys, str(classifier / "checkpoint.npz"))
    assert code == 1 and "is a checkpoint of the classifier digits mlp, not of a language model" in err


def test_errors_exit_without_a_traceback(checkpoints, tmp_path):
    # As a user sees it: a separate process, the message on stderr, no Python traceback.
    for argv, code in (([checkpoints["gpt"], "--prompt", "\u00e9"], 1), ([str(tmp_path / "x.npz")], 1)):
        done = subprocess.run(
            [sys.executable, "-m", "minidl", "generate", *argv], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code
        assert "Traceback" not in done.stderr and done.stderr.startswith("minidl generate: error:")
