"""minidl.data: datasets, DataLoader, collate, transforms, and the four built-in datasets.

The file-reading datasets (MNIST, CIFAR10) are tested on small files the tests write themselves
in the real formats; MNIST-1D is generated once per module into a temporary directory.
"""

import collections
import gzip
import os
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl.data import (
    CIFAR10,
    MNIST,
    MNIST1D,
    DataLoader,
    Digits,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
    transforms,
)
from minidl.data import mnist1d as mnist1d_module


def arrays(batch):
    return [t.numpy() for t in batch]


class ItemsOnly:
    """A dataset with only __getitem__/__len__: forces the DataLoader's item-by-item path."""

    def __init__(self, ds):
        self.ds = ds

    def __getitem__(self, i):
        return self.ds[i]

    def __len__(self):
        return len(self.ds)


@pytest.fixture
def small():
    x = minidl.tensor(np.arange(10 * 3, dtype=np.float32).reshape(10, 3))
    y = minidl.arange(10)
    return TensorDataset(x, y)


# ---------------------------------------------------------------------------------------------
# TensorDataset, Subset, random_split


def test_tensor_dataset_items_and_batches(small):
    assert len(small) == 10
    x, y = small[4]
    np.testing.assert_array_equal(x.numpy(), [12, 13, 14])
    assert y.item() == 4 and y.dtype == np.int64
    xb, yb = small.__getitems__([1, 3, -1])
    np.testing.assert_array_equal(yb.numpy(), [1, 3, 9])
    assert xb.shape == (3, 3)


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same size in dim 0.*\(4, 2\).*\(5,\)"):
        TensorDataset(minidl.zeros(4, 2), minidl.zeros(5))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(minidl.tensor(1.0))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(minidl.zeros(3), [1, 2, 3])
    with pytest.raises(IndexError, match="out of range"):
        TensorDataset(minidl.zeros(3)).__getitems__([0, 3])


def test_tensor_dataset_accepts_numpy_without_copy():
    a = np.zeros((4, 2), np.float32)
    ds = TensorDataset(a)
    assert ds.tensors[0].data is a


def test_random_split_sizes_disjoint_reproducible(small):
    parts = random_split(small, [6, 3, 1], seed=1)
    assert [len(p) for p in parts] == [6, 3, 1]
    got = np.concatenate([p.indices for p in parts])
    assert sorted(got) == list(range(10))  # disjoint and covering
    again = random_split(small, [6, 3, 1], generator=1)
    assert all(np.array_equal(a.indices, b.indices) for a, b in zip(parts, again))
    other = random_split(small, [6, 3, 1], seed=2)
    assert not all(np.array_equal(a.indices, b.indices) for a, b in zip(parts, other))
    x, y = parts[1][0]
    assert y.item() == parts[1].indices[0]


def test_random_split_fractions_and_manual_seed(small):
    # floor(10 * 0.33) = 3 each, 1 left over goes to the first split (PyTorch's rule)
    assert [len(p) for p in random_split(small, [0.33, 0.33, 0.34], seed=0)] == [4, 3, 3]
    assert [len(p) for p in random_split(small, [0.8, 0.2], seed=0)] == [8, 2]
    minidl.manual_seed(5)
    a = random_split(small, [5, 5])[0].indices
    minidl.manual_seed(5)
    b = random_split(small, [5, 5])[0].indices
    np.testing.assert_array_equal(a, b)


def test_random_split_errors(small):
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(small, [5, 4])
    with pytest.raises(ValueError, match="fractions"):
        random_split(small, [0.5, 0.6])
    with pytest.raises(ValueError, match="not both"):
        random_split(small, [5, 5], generator=np.random.default_rng(0), seed=0)


def test_subset_batches_of_item_only_dataset(small):
    sub = Subset(ItemsOnly(small), [7, 2, 5])
    assert sub[1][1].item() == 2
    xb, yb = sub.__getitems__([0, 2])
    np.testing.assert_array_equal(yb.numpy(), [7, 5])
    with pytest.raises(IndexError, match="out of range"):
        Subset(small, [0, 10])


# ---------------------------------------------------------------------------------------------
# DataLoader


def test_loader_batches_and_last_partial_batch(small):
    loader = DataLoader(small, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert isinstance(batches[0], tuple)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), np.arange(10))
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_loader_drop_last(small):
    loader = DataLoader(small, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].shape for b in loader] == [(4,), (4,)]
    assert len(DataLoader(small, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(small, batch_size=11, drop_last=True)) == 0
    assert list(DataLoader(small, batch_size=11, drop_last=True)) == []


def _epoch(loader):
    return np.concatenate([b[1].numpy() for b in loader])


# Pure index arithmetic on a few rows: about 1 ms an example, so many examples are cheap.
@settings(max_examples=200)
@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 12),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_loader_batches_partition_the_dataset(n, batch_size, shuffle, drop_last, seed):
    """Every epoch: len(loader) batches of batch_size rows (the last one shorter unless dropped),
    each row at most once, all of them unless drop_last left out the remainder; in order unless
    shuffled; inputs and labels stay paired."""
    x = minidl.tensor(np.arange(n * 2, dtype=np.float64).reshape(n, 2))
    loader = DataLoader(
        TensorDataset(x, minidl.arange(n)),
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        seed=seed,
    )
    batches = list(loader)
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    sizes = [len(labels) for _, labels in batches]
    assert all(size == batch_size for size in sizes[:-1])
    if sizes:
        assert sizes[-1] == batch_size or (not drop_last and sizes[-1] == n % batch_size)
    seen = np.concatenate([labels.numpy() for _, labels in batches]) if batches else np.zeros(0, int)
    assert len(set(seen.tolist())) == len(seen) == sum(sizes)
    assert len(seen) == (n - n % batch_size if drop_last else n)
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))
    for inputs, labels in batches:
        np.testing.assert_array_equal(inputs.numpy()[:, 0], labels.numpy() * 2)


def test_loader_shuffle_permutation_reproducible_and_new_each_epoch(small):
    loader = DataLoader(small, batch_size=3, shuffle=True, seed=0)
    first, second = _epoch(loader), _epoch(loader)
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert not np.array_equal(first, second)
    again = DataLoader(small, batch_size=3, shuffle=True, seed=0)
    np.testing.assert_array_equal(_epoch(again), first)
    np.testing.assert_array_equal(_epoch(again), second)


@pytest.mark.parametrize("batch_size", [3, 10])
def test_loader_shuffle_follows_manual_seed_drawn_at_iter(small, batch_size):
    """Without a seed of its own, a loader draws each epoch's order from minidl's generator, once,
    at iter(): the same manual_seed gives the same order, and later draws do not change it."""
    loader = DataLoader(small, batch_size=batch_size, shuffle=True)
    minidl.manual_seed(3)
    expected = _epoch(loader)
    assert sorted(expected) == list(range(10))
    minidl.manual_seed(3)
    np.testing.assert_array_equal(_epoch(loader), expected)
    minidl.manual_seed(3)
    it = iter(loader)
    batches = []
    for _ in range(len(loader)):
        minidl.randn(5)  # a draw between iter() and next(), and between batches
        batches.append(next(it)[1].numpy())
    np.testing.assert_array_equal(np.concatenate(batches), expected)


def test_fast_path_matches_item_path(small):
    fast = DataLoader(small, batch_size=4, shuffle=True, seed=7)
    slow = DataLoader(ItemsOnly(small), batch_size=4, shuffle=True, seed=7)
    assert fast._batch_fetch and not slow._batch_fetch
    for _ in range(2):
        for a, b in zip(fast, slow, strict=True):
            assert type(a) is type(b)
            for ta, tb in zip(a, b):
                assert ta.dtype == tb.dtype
                np.testing.assert_array_equal(ta.numpy(), tb.numpy())


def test_custom_collate_gets_samples(small):
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return default_collate(samples)

    batches = list(DataLoader(small, batch_size=4, collate_fn=collate))
    assert seen == [4, 4, 2] and batches[2][0].shape == (2, 3)


def test_loader_errors(small):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(small, batch_size=0)
    with pytest.raises(TypeError, match="__getitem__"):
        DataLoader(5)
    with pytest.raises(TypeError, match="seed"):
        DataLoader(small, seed=1.5)


# ---------------------------------------------------------------------------------------------
# default_collate


def test_collate_numbers_tuples_dicts():
    Point = collections.namedtuple("Point", "x y")
    samples = [
        {
            "img": minidl.ones(2, 2),
            "label": 3,
            "w": 0.5,
            "ok": True,
            "name": "a",
            "pair": (np.float64(1.0), np.array([1, 2])),
            "pt": Point(1, 2.0),
        },
        {
            "img": minidl.zeros(2, 2),
            "label": 4,
            "w": 1.5,
            "ok": False,
            "name": "b",
            "pair": (np.float64(2.0), np.array([3, 4])),
            "pt": Point(3, 4.0),
        },
    ]
    batch = default_collate(samples)
    assert batch["img"].shape == (2, 2, 2)
    assert batch["label"].dtype == np.int64 and batch["label"].tolist() == [3, 4]
    assert batch["w"].dtype == np.float32 and batch["w"].tolist() == [0.5, 1.5]
    assert batch["ok"].dtype == np.bool_
    assert batch["name"] == ["a", "b"]
    assert isinstance(batch["pair"], tuple)
    assert batch["pair"][0].dtype == np.float64 and batch["pair"][1].shape == (2, 2)
    assert isinstance(batch["pt"], Point) and batch["pt"].x.tolist() == [1, 3]
    assert default_collate([[1, 2], [3, 4]])[0].tolist() == [1, 3]  # lists stay lists
    assert isinstance(default_collate([[1, 2], [3, 4]]), list)


def test_collate_errors():
    with pytest.raises(ValueError, match=r"sample 1 has shape \(3,\)"):
        default_collate([minidl.zeros(2), minidl.zeros(3)])
    with pytest.raises(ValueError, match="keys"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(ValueError, match="same structure"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="don't know how to batch a object"):
        default_collate([object()])
    with pytest.raises(ValueError, match="non-empty"):
        default_collate([])


# ---------------------------------------------------------------------------------------------
# MNIST-1D: generated once for the module, then read from the cache


@pytest.fixture(scope="module")
def mnist1d_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist1d")
    state = np.random.get_state()
    MNIST1D(root=root, train=True)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]  # global RNG left alone
    return root


def _refuse_generation():
    raise AssertionError("the generator ran, but the cache should have been used")


def test_mnist1d_shapes_and_cache(mnist1d_root, monkeypatch):
    assert os.listdir(mnist1d_root) == ["mnist1d.npz"]  # no temporary file left behind
    monkeypatch.setattr(mnist1d_module, "_generate", _refuse_generation)
    train, test = MNIST1D(root=mnist1d_root), MNIST1D(root=mnist1d_root, train=False)
    assert (len(train), len(test)) == (4000, 1000)
    x, y = train[0]
    assert x.shape == (1, 40) and x.dtype == np.float32
    assert y.shape == () and y.dtype == np.int64
    assert sorted(np.unique(train.labels)) == list(range(10))
    xb, yb = next(iter(DataLoader(test, batch_size=64, shuffle=True, seed=0)))
    assert xb.shape == (64, 1, 40) and yb.shape == (64,) and yb.dtype == np.int64


def test_mnist1d_regenerate_and_bad_cache(tmp_path, monkeypatch):
    fake = {
        "x_train": np.ones((3, 40)),
        "y_train": np.array([0, 1, 2]),
        "x_test": np.zeros((2, 40)),
        "y_test": np.array([3, 4]),
    }
    calls = []
    monkeypatch.setattr(mnist1d_module, "_generate", lambda: calls.append(1) or fake)
    assert len(MNIST1D(root=tmp_path / "new")) == 3  # creates root
    assert len(MNIST1D(root=tmp_path / "new", train=False)) == 2 and calls == [1]
    MNIST1D(root=tmp_path / "new", regenerate=True)
    assert calls == [1, 1]
    (tmp_path / "new" / "mnist1d.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="regenerate=True"):
        MNIST1D(root=tmp_path / "new")


def test_mnist1d_missing_package_is_clear(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mnist1d.data", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install mnist1d"):
        MNIST1D(root=tmp_path)
    assert not os.path.exists(tmp_path / "mnist1d.npz")


# ---------------------------------------------------------------------------------------------
# Digits


def test_digits_shapes_range_split():
    train, test = Digits(), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    x, y = train[0]
    assert x.shape == (1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert train.images.min() == 0 and train.images.max() == 1
    # stratified: every class has about a fifth of its images in the test set
    counts_test = np.bincount(test.labels, minlength=10)
    counts_all = counts_test + np.bincount(train.labels, minlength=10)
    assert counts_test.sum() == 360 and np.all(np.abs(counts_test - 0.2 * counts_all) < 1)
    # train and test are disjoint: no test image appears in the train set
    train_rows = {r.tobytes() for r in train.images}
    clash = sum(r.tobytes() in train_rows for r in test.images)
    assert clash <= 2  # the raw data has a couple of exact duplicate images; that is all


def test_digits_split_is_seeded():
    a, b, c = Digits(train=False), Digits(train=False), Digits(train=False, seed=1)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    assert len(Digits(test_fraction=0.5)) == 898
    with pytest.raises(ValueError, match="test_fraction"):
        Digits(test_fraction=1.0)


# ---------------------------------------------------------------------------------------------
# MNIST from IDX files


def _idx(array, magic_type=0x08):
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write(path, data, gz):
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def mnist_images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8), np.array([0, 9, 3, 3, 7], np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx(tmp_path, mnist_images, gz):
    images, labels = mnist_images
    for prefix, n in (("train", 5), ("t10k", 2)):
        _write(tmp_path / f"{prefix}-images-idx3-ubyte", _idx(images[:n]), gz)
        _write(tmp_path / f"{prefix}-labels-idx1-ubyte", _idx(labels[:n]), gz)
    train, test = MNIST(tmp_path), MNIST(tmp_path, train=False)
    assert (len(train), len(test)) == (5, 2)
    x, y = train[1]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64 and y.item() == 9
    np.testing.assert_allclose(x.numpy()[0], images[1] / 255.0, rtol=1e-6)
    xb, yb = next(iter(DataLoader(train, batch_size=5)))
    assert xb.shape == (5, 1, 28, 28) and 0 <= xb.numpy().min() and xb.numpy().max() <= 1
    np.testing.assert_array_equal(yb.numpy(), labels)


def test_mnist_torchvision_layout(tmp_path, mnist_images):
    images, labels = mnist_images
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write(raw / "t10k-images-idx3-ubyte", _idx(images), True)
    _write(raw / "t10k-labels-idx1-ubyte", _idx(labels), False)
    assert len(MNIST(tmp_path, train=False)) == 5


def test_mnist_missing_file(tmp_path, mnist_images):
    _write(tmp_path / "train-images-idx3-ubyte", _idx(mnist_images[0]), False)
    with pytest.raises(FileNotFoundError, match=r"train-labels-idx1-ubyte.*" + str(tmp_path)):
        MNIST(tmp_path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[:-10], "truncated"),
        (lambda b: b[:10], "truncated: the header"),
        (lambda b: b + b"\0", "longer than its header"),
        (lambda b: bytes([0, 0, 8, 1]) + b[4:], "magic number 0x00000801"),
        (lambda b: bytes([0, 0, 0x0D, 3]) + b[4:], "magic number"),
    ],
)
def test_mnist_damaged_images(tmp_path, mnist_images, damage, message):
    images, labels = mnist_images
    _write(tmp_path / "train-images-idx3-ubyte", damage(_idx(images)), False)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx(labels), False)
    with pytest.raises(ValueError, match=message) as err:
        MNIST(tmp_path)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_mnist_truncated_gzip_and_mismatched_counts(tmp_path, mnist_images):
    images, labels = mnist_images
    _write(tmp_path / "train-images-idx3-ubyte", _idx(images), True)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx(labels[:4]), False)
    with pytest.raises(ValueError, match="5 images but .* 4 labels"):
        MNIST(tmp_path)
    gz = tmp_path / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:40])
    with pytest.raises(ValueError, match="cannot read .*train-images-idx3-ubyte.gz"):
        MNIST(tmp_path)


# ---------------------------------------------------------------------------------------------
# CIFAR-10 from pickled batches


def _cifar_batch(path, n, seed, protocol=2, numpy1_names=False):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072)).astype(np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    batch = {
        b"batch_label": b"training batch",
        b"labels": labels,
        b"data": data,
        b"filenames": [b"img%d.png" % i for i in range(n)],
    }
    raw = pickle.dumps(batch, protocol=protocol)
    if numpy1_names:  # as the real files (written under NumPy 1) name the array rebuilder
        raw = raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
        assert b"numpy.core.multiarray" in raw
    path.write_bytes(raw)
    return data, labels


@pytest.fixture
def cifar_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    written = [_cifar_batch(folder / f"data_batch_{i}", 3, i, numpy1_names=i == 2) for i in range(1, 6)]
    written.append(_cifar_batch(folder / "test_batch", 4, 99, protocol=5))
    return tmp_path, written


def test_cifar10_reads_batches(cifar_root):
    root, written = cifar_root
    train, test = CIFAR10(root), CIFAR10(root / "cifar-10-batches-py", train=False)
    assert (len(train), len(test)) == (15, 4)
    x, y = train[4]  # the second image of data_batch_2
    data, labels = written[1]
    assert x.shape == (3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    assert y.item() == labels[1]
    # rows hold the red plane, then green, then blue, each 32 x 32 row-major
    np.testing.assert_allclose(x.numpy()[1], data[1, 1024:2048].reshape(32, 32) / 255.0, rtol=1e-6)
    xb, yb = next(iter(DataLoader(test, batch_size=4)))
    assert xb.shape == (4, 3, 32, 32) and yb.tolist() == written[5][1]
    assert train.classes[0] == "airplane"


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar10_refuses_malicious_pickle(cifar_root):
    root, _ = cifar_root
    marker = root / "pwned"
    evil = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"x": _Evil(marker)}
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing .*data_batch_3.*(posix|os)\.system"):
        CIFAR10(root)
    assert not marker.exists()
    (root / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({b"data": eval}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"(__builtin__|builtins)\.eval"):
        CIFAR10(root, train=False)


def test_cifar10_bad_and_missing_files(cifar_root, tmp_path):
    root, _ = cifar_root
    folder = root / "cifar-10-batches-py"
    (folder / "test_batch").write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(ValueError, match="holds a list"):
        CIFAR10(root, train=False)
    (folder / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=2)
    )
    with pytest.raises(ValueError, match=r"uint8 array \(N, 3072\)"):
        CIFAR10(root, train=False)
    good = (folder / "data_batch_1").read_bytes()
    (folder / "data_batch_1").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cannot read .*data_batch_1"):
        CIFAR10(root)
    (folder / "data_batch_4").unlink()
    with pytest.raises(FileNotFoundError, match=r"data_batch_4 .*cifar-10-python.tar.gz"):
        CIFAR10(root)
    with pytest.raises(FileNotFoundError, match="test_batch"):
        CIFAR10(tmp_path / "elsewhere", train=False)


def test_cifar10_unpickler_knows_numpy1_names():
    from minidl.data.cifar10 import _allowed_names

    allowed = _allowed_names()
    numpy1, numpy2 = ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")
    assert allowed[numpy1] is allowed[numpy2] is np.ndarray.__reduce__(np.zeros(1))[0]


# ---------------------------------------------------------------------------------------------
# transforms


def test_normalize_per_channel():
    x = minidl.tensor(np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)]).astype(np.float32))
    out = transforms.Normalize([1.0, 2.0], [0.5, 2.0])(x)
    np.testing.assert_allclose(out.numpy()[0], 0.0)
    np.testing.assert_allclose(out.numpy()[1], 0.5)
    assert out.dtype == np.float32 and x.numpy()[0, 0, 0] == 1.0  # input unchanged
    batch = minidl.tensor(np.stack([x.numpy(), 2 * x.numpy()]))
    np.testing.assert_allclose(
        transforms.Normalize([1.0, 2.0], [0.5, 2.0]).apply_batch(batch).numpy()[0], out.numpy()
    )
    with pytest.raises(ValueError, match="3 entries.*2 channels"):
        transforms.Normalize([0, 0, 0], [1, 1, 1])(x)
    with pytest.raises(ValueError, match="nonzero"):
        transforms.Normalize(0, 0)


def _find_window(padded, out):
    h, w = out.shape[-2:]
    return [
        (top, left)
        for top in range(padded.shape[-2] - h + 1)
        for left in range(padded.shape[-1] - w + 1)
        if np.array_equal(padded[..., top : top + h, left : left + w], out)
    ]


def test_random_crop_with_padding():
    img = np.arange(1, 3 * 6 * 6 + 1, dtype=np.float32).reshape(3, 6, 6)  # all values distinct, nonzero
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    crop = transforms.RandomCrop(6, padding=2)
    offsets = set()
    for _ in range(30):
        out = crop(minidl.tensor(img)).numpy()
        assert out.shape == (3, 6, 6)
        found = _find_window(padded, out)
        assert len(found) == 1  # the output is exactly one shifted window of the padded image
        offsets.add(found[0])
    assert len(offsets) > 5  # and the shift varies
    assert transforms.RandomCrop((4, 5))(minidl.tensor(img)).shape == (3, 4, 5)
    batch = crop.apply_batch(minidl.tensor(np.stack([img, img + 100])))
    assert batch.shape == (2, 3, 6, 6)
    assert len(_find_window(np.pad(img + 100, ((0, 0), (2, 2), (2, 2))), batch.numpy()[1])) == 1
    with pytest.raises(ValueError, match="larger than the padded image"):
        transforms.RandomCrop(9, padding=1)(minidl.tensor(img))


def test_random_crop_is_seeded():
    img = minidl.tensor(np.arange(64, dtype=np.float32).reshape(1, 8, 8))
    crop = transforms.RandomCrop(5, padding=1)
    minidl.manual_seed(4)
    a = [crop(img).numpy() for _ in range(3)]
    minidl.manual_seed(4)
    b = [crop(img).numpy() for _ in range(3)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_horizontal_flip_probability():
    img = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    x = minidl.tensor(img)
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(x).numpy(), img[..., ::-1])
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(0.0)(x).numpy(), img)
    batch = minidl.tensor(np.stack([img] * 4))
    np.testing.assert_array_equal(
        transforms.RandomHorizontalFlip(1.0).apply_batch(batch).numpy()[2], img[..., ::-1]
    )
    np.testing.assert_array_equal(
        transforms.RandomHorizontalFlip(0.0).apply_batch(batch).numpy(), batch.numpy()
    )
    flips = sum(
        np.array_equal(transforms.RandomHorizontalFlip()(x).numpy(), img[..., ::-1]) for _ in range(200)
    )
    assert 60 < flips < 140
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        transforms.RandomHorizontalFlip(1.5)


def test_transforms_in_loader_fast_and_item_paths(mnist_images, tmp_path):
    images, labels = mnist_images
    _write(tmp_path / "train-images-idx3-ubyte", _idx(images), False)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx(labels), False)
    norm = transforms.Compose([transforms.RandomHorizontalFlip(1.0), transforms.Normalize(0.5, 0.25)])
    expected = (images[:, None, :, ::-1] / 255.0 - 0.5) / 0.25
    plain = lambda x: transforms.Normalize(0.5, 0.25)(transforms.RandomHorizontalFlip(1.0)(x))  # noqa: E731
    for transform in (norm, plain):  # vectorised, and a plain function applied per sample
        ds = MNIST(tmp_path, transform=transform)
        fast = next(iter(DataLoader(ds, batch_size=5)))[0].numpy()
        slow = next(iter(DataLoader(ItemsOnly(ds), batch_size=5)))[0].numpy()
        np.testing.assert_allclose(fast, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(slow, expected, rtol=1e-5, atol=1e-6)
