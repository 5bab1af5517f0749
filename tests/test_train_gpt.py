"""The character language models of ``minidl train``: the text data, the GPT and the LSTM, and
``--model gpt`` / ``--model lstm`` end to end on tiny configs.

A run here is a few dozen steps of a model of a few thousand parameters on a small repetitive
text the test writes, so it must learn fast; the full-size recipe (validation loss <= 1.3
nats/char on pydoc's topics) is measured in benchmarks/RESULTS.md, not here.
"""

import json
import math
import re

import numpy as np
import pytest

import minidl as md
from minidl import cli
from minidl.train import TrainConfig, evaluate_checkpoint, run
from minidl.train.charlstm import CharLSTM
from minidl.train.config import LANGUAGE_MODEL_DEFAULTS
from minidl.train.gpt import GPT
from minidl.train.lm_loop import lr_factor
from minidl.train.text import CharCorpus, Vocabulary, default_corpus, read_text

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 60  # 2700 characters, 29 distinct
TINY_GPT = dict(model="gpt", context=16, layers=1, width=32, heads=2, batch_size=16, lr=1e-2)
TINY_LSTM = dict(model="lstm", context=16, layers=2, width=32, batch_size=16, lr=1e-2)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread is fastest, and a second one waiting on a busy machine is slower."""
    threads = md.get_num_threads()
    md.set_num_threads(1)
    yield
    md.set_num_threads(threads)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "fox.txt"
    path.write_text(TEXT, encoding="utf-8")
    return str(path)


# -- the text ----------------------------------------------------------------------------------


def test_default_corpus_is_pydocs_topics_in_sorted_key_order():
    from pydoc_data.topics import topics

    text = default_corpus()
    assert text == "".join(topics[k] for k in sorted(topics))
    corpus = CharCorpus.load(None, 128)
    assert corpus.name == "pydoc_data.topics"
    assert corpus.vocabulary.chars == "".join(sorted(set(text)))
    # the last 10 % is held out, and nothing is lost at the seam
    assert len(corpus.val_ids) == int(0.1 * len(text))
    assert corpus.vocabulary.decode(np.concatenate([corpus.train_ids, corpus.val_ids])) == text


def test_vocabulary_round_trip_and_unknown_characters():
    vocabulary = Vocabulary.of("hello, world")
    assert vocabulary.chars == " ,dehlorw"
    ids = vocabulary.encode("world, hello")
    assert ids.dtype == np.int64 and vocabulary.decode(ids) == "world, hello"
    assert vocabulary.unknown("hi, Bob!") == ["i", "B", "b", "!"]


def test_batches_are_windows_shifted_by_one_and_seeded(text_file):
    corpus = CharCorpus.load(text_file, 16)
    x, y = corpus.batch(np.random.default_rng(3), 8)
    assert x.shape == y.shape == (8, 16)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    train_text = corpus.vocabulary.decode(corpus.train_ids)
    for row_x, row_y in zip(x, y):  # each row is a contiguous piece of the training text
        assert corpus.vocabulary.decode(np.append(row_x, row_y[-1])) in train_text
    again = corpus.batch(np.random.default_rng(3), 8)
    np.testing.assert_array_equal(again[0], x)
    other = corpus.batch(np.random.default_rng(4), 8)
    assert not np.array_equal(other[0], x)


def test_validation_windows_cover_the_held_out_text_in_order(text_file):
    corpus = CharCorpus.load(text_file, 16)
    x, y = corpus.validation_set()
    assert len(x) == (len(corpus.val_ids) - 1) // 16
    np.testing.assert_array_equal(x.reshape(-1), corpus.val_ids[: x.size])
    np.testing.assert_array_equal(y.reshape(-1), corpus.val_ids[1 : x.size + 1])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read the file"),
        (b"", "the file is empty"),
        (b"caf\xe9 au lait", "not a UTF-8 text file (byte 0xe9 at offset 3"),
        (b"short", "too short for a context of 16"),
    ],
)
def test_bad_text_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "input.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        CharCorpus.load(str(path), 16)
    assert str(path) in str(info.value)


def test_bad_text_file_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "gpt", "--text", str(path), "--out", str(out)]) == 1
    assert f"minidl train: error: --text {path}: the file is empty" in capsys.readouterr().err
    assert not out.exists()
    assert read_text(__file__).startswith('"""The character language models')


# -- the models ---------------------------------------------------------------------------------


def test_default_gpt_is_the_references_size():
    width, vocabulary, context, layers = 128, 103, 128, 4
    block = 2 * 2 * width + (width * 3 * width + 3 * width) + (width * width + width)
    block += (width * 4 * width + 4 * width) + (4 * width * width + width)
    expected = (
        vocabulary * width + context * width + layers * block + 2 * width + (width * vocabulary + vocabulary)
    )
    model = GPT(vocabulary)
    assert model.num_parameters() == expected == 836_199  # the "0.84 M"
    tied = GPT(vocabulary, tied=True)
    assert tied.num_parameters() == expected - (width * vocabulary + vocabulary)
    assert tied(md.tensor([[1, 2, 3]])).shape == (1, 3, vocabulary)


def test_gpt_is_causal():
    # Changing the character at position 5 changes the logits at 5 and after, never before.
    md.manual_seed(0)
    model = GPT(11, context=12, layers=2, width=16, heads=2).eval()
    ids = np.random.default_rng(0).integers(0, 11, size=(2, 12))
    changed = ids.copy()
    changed[:, 5] = (changed[:, 5] + 1) % 11
    with md.no_grad():
        before, after = model(md.tensor(ids)).numpy(), model(md.tensor(changed)).numpy()
    assert before.shape == (2, 12, 11)
    np.testing.assert_array_equal(before[:, :5], after[:, :5])
    assert np.abs(before[:, 5:] - after[:, 5:]).min() > 0


def test_gpt_refuses_more_positions_than_its_context():
    with pytest.raises(ValueError, match="GPT: 9 positions is more than the context of 8"):
        GPT(5, context=8, layers=1, width=8, heads=2)(md.tensor([[0] * 9]))


def test_lstm_is_causal_and_its_state_carries_the_past():
    md.manual_seed(0)
    model = CharLSTM(7, layers=2, width=12).eval()
    ids = md.tensor(np.random.default_rng(1).integers(0, 7, size=(3, 10)))
    with md.no_grad():
        full = model(ids).numpy()
        # reading 9 characters, then the 10th alone with the state, is reading all 10
        _, state = model.predict_next(ids[:, :9])
        last, _ = model.predict_next(ids, state)
        changed = ids.numpy().copy()
        changed[:, 6] = (changed[:, 6] + 1) % 7
        other = model(md.tensor(changed)).numpy()
    assert full.shape == (3, 10, 7)
    np.testing.assert_allclose(last.numpy(), full[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(full[:, :6], other[:, :6])


# -- training -----------------------------------------------------------------------------------


def test_tiny_gpt_learns_and_writes_its_outputs(text_file, tmp_path):
    out = tmp_path / "gpt"
    config = TrainConfig(**TINY_GPT, text=text_file, epochs=3, steps_per_epoch=15, out=str(out), quiet=True)
    result = run(config, log=None)
    history = result.history
    assert [r["step"] for r in history] == [15, 30, 45]
    assert history[0]["train_loss"] < math.log(29)  # better than a uniform guess already
    assert history[-1]["val_loss"] < 0.75 * history[0]["val_loss"]

    checkpoint = md.load(out / "checkpoint.npz")
    assert set(checkpoint) == {"model", "optimizer", "config", "epoch", "vocabulary"}
    assert checkpoint["vocabulary"] == "".join(sorted(set(TEXT)))
    assert checkpoint["config"]["model"] == "gpt" and checkpoint["config"]["width"] == 32
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final_val_loss"] == history[-1]["val_loss"] == result.final_val_loss
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3]
    assert (out / "curves.png").stat().st_size > 0
    # eval rebuilds the model from the checkpoint and measures the same loss on the same windows
    assert evaluate_checkpoint(str(out / "checkpoint.npz"), log=None) == pytest.approx(
        history[-1]["val_loss"], rel=1e-6
    )


def test_cosine_schedule_warms_up_then_decays_to_a_tenth(text_file, tmp_path):
    factors = [lr_factor("cosine", step, 1000) for step in range(1001)]
    assert factors[0] == pytest.approx(1 / 30) and factors[29] == pytest.approx(1.0, abs=3e-3)
    assert all(a >= b for a, b in zip(factors[29:], factors[30:]))  # never up again after warm-up
    assert factors[500] == pytest.approx(0.55) and factors[1000] == pytest.approx(0.1)
    assert lr_factor("constant", 7, 10) == 1.0
    config = TrainConfig(
        **TINY_LSTM,
        text=text_file,
        epochs=2,
        steps_per_epoch=5,
        schedule="cosine",
        out=str(tmp_path),
        quiet=True,
    )
    history = run(config, log=None).history
    # the lr the run ended with: the factor of step 10 of 10, after 10 scheduler steps
    assert history[-1]["lr"] == pytest.approx(1e-2 * 0.1)


def test_lstm_from_the_command_line_then_eval(text_file, tmp_path, capsys):
    out = tmp_path / "lstm"
    argv = ["train", "--model", "lstm", "--text", text_file, "--out", str(out), "--epochs", "2"]
    argv += [
        "--steps-per-epoch",
        "10",
        "--context",
        "16",
        "--width",
        "32",
        "--batch-size",
        "16",
        "--lr",
        "0.01",
    ]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    epochs = re.findall(
        r"^epoch (\d)/2  train loss (\d+\.\d{4})  val loss (\d+\.\d{4}) nats/char  \(\d+\.\d s\)$",
        printed,
        re.MULTILINE,
    )
    assert [e[0] for e in epochs] == ["1", "2"]
    assert float(epochs[-1][2]) < float(epochs[0][2])
    final = re.search(r"final validation loss (\d+\.\d{4}) nats/char after 2 epochs \(20 steps\)", printed)
    assert final and final.group(1) == epochs[-1][2]
    assert cli.main(["eval", str(out / "checkpoint.npz")]) == 0
    assert f"validation loss {final.group(1)} nats/char" in capsys.readouterr().out


def test_same_seed_same_run(text_file, tmp_path):
    def losses(seed, name):
        config = TrainConfig(
            **TINY_GPT,
            text=text_file,
            epochs=1,
            steps_per_epoch=3,
            seed=seed,
            out=str(tmp_path / name),
            quiet=True,
        )
        return [(r["train_loss"], r["val_loss"]) for r in run(config, log=None).history]

    first = losses(0, "a")
    assert losses(0, "b") == first
    assert losses(1, "c") != first


def test_eval_of_a_moved_text_is_a_clear_error(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    run(
        TrainConfig(**TINY_LSTM, text=text_file, epochs=1, steps_per_epoch=1, out=str(out), quiet=True),
        log=None,
    )
    (tmp_path / "fox.txt").unlink()
    assert cli.main(["eval", str(out / "checkpoint.npz")]) == 1
    assert f"minidl eval: error: --text {text_file}: cannot read the file" in capsys.readouterr().err


# -- the config ---------------------------------------------------------------------------------


def test_each_model_has_its_own_defaults():
    assert (TrainConfig().lr, TrainConfig().batch_size, TrainConfig().dataset) == (1e-2, 100, "mnist1d")
    gpt = TrainConfig(model="gpt")
    assert (gpt.dataset, gpt.optimizer, gpt.lr, gpt.batch_size, gpt.text) == ("text", "adamw", 2e-3, 32, None)
    assert (gpt.context, gpt.layers, gpt.width, gpt.heads, gpt.tied) == (128, 4, 128, 4, False)
    assert gpt.schedule == "constant" and TrainConfig().schedule is None
    assert TrainConfig(model="gpt", lr=1e-3).lr == 1e-3
    assert TrainConfig(model="lstm").heads is None
    assert TrainConfig(model="gpt").out_dir == "runs/text-gpt"
    # a saved config comes back as it was
    assert TrainConfig.from_dict(gpt.to_dict()) == gpt


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(text="a.txt"), "text applies to model gpt or lstm only, not 'cnn'"),
        (dict(model="lstm", heads=2), "heads applies to model gpt only, not 'lstm'"),
        (dict(model="gpt", dataset="digits"), "model 'gpt' trains on dataset text, got 'digits'"),
        (dict(model="cnn", dataset="text"), "model 'cnn' trains on dataset mnist1d or digits, got 'text'"),
        (dict(model="gpt", width=30), "width 30 must be divisible by heads 4"),
        (dict(model="gpt", context=0), "context must be a positive integer"),
        (dict(model="gpt", dropout=1.0), "dropout must be a number in [0, 1)"),
        (dict(model="lstm", schedule="linear"), "schedule must be one of cosine, constant"),
    ],
)
def test_config_checks_the_language_model_settings(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig(**settings)


def test_help_states_the_language_models_defaults():
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    helps = {a.dest: a.help or "" for a in train._actions}
    for model in ("gpt", "lstm"):
        defaults = LANGUAGE_MODEL_DEFAULTS[model]
        assert f"{model}: {defaults['epochs']}" in helps["epochs"]
        for name in ("context", "layers", "width"):
            assert f"{model}: {defaults[name]}" in helps[name], name
        assert f"lr {defaults['lr']:g}" in train.description or f"{defaults['lr']:g}" in helps["lr"]
        assert f"default: {defaults['steps_per_epoch']})" in helps["steps_per_epoch"]
