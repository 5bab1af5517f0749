"""minidl.data.DigitSequences: the data is what it says, and the tasks separate attention from an MLP.

The proof at the end: a two-layer Transformer (70 k parameters) reaches >= 99 % exact-sequence
accuracy on held-out sorting and lookup, while an MLP on the one-hot input, twice its size and
given four times the steps, gets almost no lookup sequence right. Measured over seeds 0, 1, 2:
Transformer sort 100.0 / 100.0 / 99.8 %, lookup 100 % each; MLP lookup 0.25 / 0.45 / 0.25 %
(and, for the record, MLP sort 99.0-99.4 % and reverse 100 %: those two have MLP shortcuts).
"""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl import nn, optim
from minidl.data import DataLoader, DigitSequences
from minidl.data.sequences import TEST_FRACTION, _is_test_sequence

# ---------------------------------------------------------------------------------------------
# the data


@pytest.mark.parametrize("task", ["sort", "reverse", "lookup"])
def test_targets_follow_the_task(task):
    ds = DigitSequences(task, length=7, vocab=12, size=500, seed=3)
    x, y = (t.numpy() for t in ds.tensors)
    assert x.shape == y.shape == (500, 7) and x.dtype == y.dtype == np.int64
    assert x.min() >= 0 and x.max() < 12
    for row, target in zip(x, y):
        if task == "sort":
            expected = sorted(row)
        elif task == "reverse":
            expected = row[::-1]
        else:
            expected = [row[t % 7] for t in row]
        np.testing.assert_array_equal(target, expected)


def test_items_and_batches_are_int64_sequences():
    ds = DigitSequences(size=64, length=5)
    x, y = ds[3]
    assert x.shape == y.shape == (5,) and x.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), np.sort(x.numpy()))
    xb, yb = next(iter(DataLoader(ds, batch_size=16, shuffle=True, seed=0)))
    assert xb.shape == yb.shape == (16, 5)
    assert "sort" in repr(ds) and "train" in repr(ds)


def test_same_seed_same_data_and_other_seed_other_data():
    a = DigitSequences("sort", size=300, seed=5)
    b = DigitSequences("sort", size=300, seed=5)
    c = DigitSequences("sort", size=300, seed=6)
    np.testing.assert_array_equal(a.tensors[0].numpy(), b.tensors[0].numpy())
    assert not np.array_equal(a.tensors[0].numpy(), c.tensors[0].numpy())


def test_held_out_sequences_never_appear_in_training():
    train = DigitSequences("sort", length=4, vocab=10, size=4000, seed=0)
    test = DigitSequences("sort", length=4, vocab=10, size=400, train=False, seed=0)
    seen = {tuple(r) for r in train.tensors[0].numpy()}
    assert not any(tuple(r) in seen for r in test.tensors[0].numpy())
    # the hash puts about TEST_FRACTION of all sequences on the test side
    everything = np.array(np.unravel_index(np.arange(10**4), (10,) * 4)).T
    assert abs(_is_test_sequence(everything).mean() - TEST_FRACTION) < 0.02


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"task": "shuffle"},
            ValueError,
            r"task must be one of \('sort', 'reverse', 'lookup'\), got 'shuffle'",
        ),
        ({"length": 0}, ValueError, "length must be >= 1, got 0"),
        ({"vocab": 1}, ValueError, "vocab must be >= 2, got 1"),
        ({"size": 0}, ValueError, "size must be >= 1, got 0"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"length": 2.5}, TypeError, "length must be an int, got 2.5"),
        ({"vocab": True}, TypeError, "vocab must be an int"),
        ({"length": 2, "vocab": 3, "size": 100}, ValueError, "size 100 is too large"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        DigitSequences(**kwargs)


# ---------------------------------------------------------------------------------------------
# the proof: attention solves what an MLP of the same size cannot


class Block(nn.Module):
    """A pre-norm Transformer block: x + attention(LN(x)), then x + MLP(LN(x)). x: (N, L, D)."""

    def __init__(self, d: int, heads: int, ff: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.qkv, self.proj = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ln2, self.ff1, self.ff2 = nn.LayerNorm(d), nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x):
        n, length, d = x.shape
        q, k, v = (
            self.qkv(self.ln1(x)).reshape(n, length, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        )
        a = F.scaled_dot_product_attention(q, k, v)
        x = x + self.proj(a.transpose(1, 2).reshape(n, length, d))
        return x + self.ff2(F.relu(self.ff1(self.ln2(x))))


class TinyTransformer(nn.Module):
    """Token embedding + learned positions, two blocks, a per-position head. (N, L) -> (N, L, vocab)."""

    def __init__(self, vocab: int, length: int, d: int = 64, heads: int = 4, ff: int = 128) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(md.randn(length, d) * 0.1)
        self.blocks = nn.Sequential(Block(d, heads, ff), Block(d, heads, ff))
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, x):
        return self.head(self.ln(self.blocks(self.embed(x) + self.pos)))


class SequenceMLP(nn.Module):
    """The whole one-hot sequence in, every position's logits out. (N, L) -> (N, L, vocab)."""

    def __init__(self, vocab: int, length: int, hidden: int = 256) -> None:
        super().__init__()
        self.vocab, self.length = vocab, length
        self.net = nn.Sequential(
            nn.Linear(length * vocab, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, length * vocab),
        )

    def forward(self, x):
        one_hot = F.one_hot(x, self.vocab).float().reshape(x.shape[0], -1)
        return self.net(one_hot).reshape(x.shape[0], self.length, self.vocab)


def exact_accuracy(model, task, length, vocab, steps, seed, batch=128, lr=3e-3):
    """Train ``model`` with Adam for ``steps`` batches; the share of held-out sequences it gets
    entirely right."""
    train = DigitSequences(task, length, vocab, size=20000, seed=seed)
    test = DigitSequences(task, length, vocab, size=2000, train=False, seed=seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x, y = train.__getitems__(rng.integers(0, len(train), batch))
        loss = F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with md.no_grad():
        x, y = test.tensors
        return (model(x).argmax(dim=-1) == y).all(dim=1).float().mean().item()


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def one_thread():
    before = md.get_num_threads()
    md.set_num_threads(1)  # these products are tiny: a second thread costs more than it gives
    yield
    md.set_num_threads(before)


@pytest.mark.slow
def test_a_tiny_transformer_sorts_and_looks_up_where_an_mlp_cannot(one_thread):
    md.manual_seed(0)
    sort_tf = TinyTransformer(vocab=10, length=6)
    sort_acc = exact_accuracy(sort_tf, "sort", 6, 10, steps=300, seed=0)
    md.manual_seed(0)
    lookup_tf = TinyTransformer(vocab=16, length=8)
    lookup_acc = exact_accuracy(lookup_tf, "lookup", 8, 16, steps=150, seed=0)
    md.manual_seed(0)
    mlp = SequenceMLP(vocab=16, length=8)
    mlp_acc = exact_accuracy(mlp, "lookup", 8, 16, steps=600, seed=0)
    # The MLP is the larger model and gets four times the Transformer's steps.
    assert 0.5 < n_params(mlp) / n_params(lookup_tf) < 2
    assert sort_acc >= 0.99, f"Transformer on sorting: {sort_acc:.3f} exact"
    assert lookup_acc >= 0.99, f"Transformer on lookup: {lookup_acc:.3f} exact"
    assert mlp_acc < 0.10, f"MLP on lookup: {mlp_acc:.3f} exact"
