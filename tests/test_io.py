"""minidl.save / minidl.load: round trips of everything a state dict holds, atomic writes that
never leave a partial file, and a clear ValueError for every kind of file that is not an intact
minidl checkpoint (including ones that would run code if unpickled)."""

import collections
import io
import json
import math
import os
import zipfile

import numpy as np
import pytest

import minidl
from minidl import io as mio


def roundtrip(obj, tmp_path, **load_kwargs):
    path = tmp_path / "ck.minidl"
    minidl.save(obj, path)
    return minidl.load(path, **load_kwargs)


def leftovers(directory):
    """Files other than the checkpoints themselves (temporary files must never remain)."""
    return sorted(name for name in os.listdir(directory) if name.startswith("."))


# -- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.int64, np.bool_, np.float16, np.int32, np.uint8]
)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3, 4)])
def test_tensors_keep_values_dtype_and_shape(dtype, shape, tmp_path):
    array = (np.arange(int(np.prod(shape))).reshape(shape) % 5).astype(dtype)
    loaded = roundtrip(minidl.tensor(array), tmp_path)
    assert isinstance(loaded, minidl.Tensor)
    assert loaded.dtype == np.dtype(dtype) and loaded.shape == shape
    np.testing.assert_array_equal(loaded.numpy(), array)


def test_float_values_are_bit_exact(tmp_path):
    values = np.array([0.1, -0.0, 1e-308, np.inf, -np.inf, np.nan, np.pi])
    loaded = roundtrip(minidl.tensor(values), tmp_path).numpy()
    assert loaded.tobytes() == values.tobytes()


def test_non_contiguous_tensors(tmp_path):
    t = minidl.arange(12, dtype=minidl.float64).reshape(3, 4).T
    np.testing.assert_array_equal(roundtrip(t, tmp_path).numpy(), t.numpy())


def test_nested_structures_keep_their_types(tmp_path):
    obj = {
        "model": collections.OrderedDict(
            [("layer.weight", minidl.ones(2, 3)), ("layer.bias", minidl.zeros(2))]
        ),
        "numbers": [1, 1.0, -7, 2**70, 0.5, True, False, None, float("inf"), -float("inf")],
        "text": 'héllo ✓ "quoted" \n',
        "tuple": (1, (2.5, "x"), []),
        "empty": {"list": [], "tuple": (), "dict": {}},
        1: "an int key",
        "1": "a str key",
        -3: "negative",
        None: "none key",
        False: "bool key",
    }
    loaded = roundtrip(obj, tmp_path)
    assert type(loaded["model"]) is collections.OrderedDict
    assert list(loaded["model"]) == ["layer.weight", "layer.bias"]
    assert loaded["model"]["layer.weight"].tolist() == [[1.0] * 3] * 2
    numbers = loaded["numbers"]
    assert numbers == obj["numbers"]
    assert [type(v) for v in numbers] == [
        type(v) for v in obj["numbers"]
    ]  # 1 stays int, 1.0 float, True bool
    assert loaded["text"] == obj["text"]
    assert loaded["tuple"] == (1, (2.5, "x"), []) and type(loaded["tuple"][1]) is tuple
    assert loaded["empty"] == {"list": [], "tuple": (), "dict": {}}
    assert loaded[1] == "an int key" and loaded["1"] == "a str key" and loaded[-3] == "negative"
    assert loaded[None] == "none key" and loaded[False] == "bool key"
    assert [type(k) for k in loaded] == [type(k) for k in obj]  # False stays a bool, 1 an int
    assert list(loaded) == list(obj)


def test_nan_survives(tmp_path):
    assert math.isnan(roundtrip({"x": float("nan")}, tmp_path)["x"])


def test_numpy_scalars_are_saved_as_python_numbers(tmp_path):
    loaded = roundtrip([np.float32(0.5), np.int64(3), np.bool_(True)], tmp_path)
    assert loaded == [0.5, 3, True] and [type(v) for v in loaded] == [float, int, bool]


def test_an_optimizer_state_dict_keeps_int_keys(tmp_path):
    a, b = minidl.tensor([1.0, 2.0], requires_grad=True), minidl.tensor([3.0], requires_grad=True)
    opt = minidl.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1, amsgrad=True)
    a.grad, b.grad = minidl.tensor([0.5, -1.0]), minidl.tensor([2.0])
    opt.step()
    sd = opt.state_dict()
    loaded = roundtrip(sd, tmp_path)
    assert list(loaded["state"]) == [0, 1] and all(type(k) is int for k in loaded["state"])
    assert loaded["param_groups"] == sd["param_groups"]
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    for i in (0, 1):
        assert loaded["state"][i]["step"] == 1
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_array_equal(loaded["state"][i][key].numpy(), sd["state"][i][key].numpy())
    fresh = minidl.optim.Adam(
        [
            {"params": [minidl.tensor([1.0, 2.0], requires_grad=True)]},
            {"params": [minidl.tensor([3.0], requires_grad=True)]},
        ]
    )
    fresh.load_state_dict(loaded)
    assert fresh.param_groups[1]["lr"] == 0.01 and fresh.param_groups[0]["amsgrad"] is True


def test_a_tensor_that_requires_grad_is_saved_as_data(tmp_path):
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    w.grad = minidl.tensor([5.0, 5.0])
    y = w * 3  # not a leaf: it has a graph
    loaded = roundtrip({"w": w, "y": y}, tmp_path)
    for t, values in ((loaded["w"], [1.0, 2.0]), (loaded["y"], [3.0, 6.0])):
        assert t.tolist() == values
        assert not t.requires_grad and t.grad_fn is None and t.grad is None and t.is_leaf


def test_a_shared_tensor_is_stored_once_and_loads_as_one_tensor(tmp_path):
    t = minidl.randn(4)
    loaded = roundtrip({"a": t, "b": [t]}, tmp_path)
    assert loaded["a"] is loaded["b"][0]
    with np.load(tmp_path / "ck.minidl") as archive:
        assert sorted(archive.files) == ["__minidl__", "t0"]


def test_loaded_tensors_own_their_memory(tmp_path):
    t = minidl.tensor([1.0, 2.0])
    loaded = roundtrip(t, tmp_path)
    loaded.data[0] = 9.0
    assert t.tolist() == [1.0, 2.0] and loaded.data.flags.writeable


def test_paths_are_used_exactly_and_may_be_strings_or_pathlike(tmp_path):
    for path in (str(tmp_path / "model.pt"), tmp_path / "no_extension"):
        minidl.save({"x": 1}, path)
        assert os.path.exists(path) and not os.path.exists(str(path) + ".npz")
        assert minidl.load(path) == {"x": 1}


def test_saving_overwrites_an_existing_checkpoint(tmp_path):
    path = tmp_path / "ck"
    minidl.save({"v": 1}, path)
    minidl.save({"v": 2}, path)
    assert minidl.load(path) == {"v": 2}
    assert leftovers(tmp_path) == []


def test_map_location_cpu(tmp_path):
    loaded = roundtrip({"x": minidl.ones(2)}, tmp_path, map_location="cpu")
    assert loaded["x"].device == "cpu"
    assert roundtrip(minidl.ones(2), tmp_path, map_location=minidl.device("cpu")).device == "cpu"


# -- atomic writes --------------------------------------------------------------------------------


def test_an_unsupported_object_fails_before_anything_is_written(tmp_path):
    path = tmp_path / "ck"
    minidl.save({"old": minidl.tensor([1.0])}, path)
    before = path.read_bytes()
    bad = {"a": minidl.ones(1000), "nested": [1, {"oops": object()}], "z": minidl.ones(3)}
    with pytest.raises(TypeError, match=r"obj\['nested'\]\[1\]\['oops'\], a object"):
        minidl.save(bad, path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    with pytest.raises(TypeError):
        minidl.save(bad, tmp_path / "new")
    assert not (tmp_path / "new").exists() and leftovers(tmp_path) == []


def test_a_failure_while_writing_keeps_the_old_checkpoint_and_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "ck"
    minidl.save({"epoch": 1}, path)
    before = path.read_bytes()

    def half_written(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(mio, "_write_npz", half_written)
    with pytest.raises(OSError, match="disk full"):
        minidl.save({"epoch": 2, "w": minidl.ones(10)}, path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    with pytest.raises(OSError, match="disk full"):
        minidl.save({"epoch": 2}, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists() and leftovers(tmp_path) == []
    monkeypatch.undo()
    assert minidl.load(path) == {"epoch": 1}


def test_an_interrupt_while_writing_also_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "ck"
    minidl.save([1], path)

    def interrupted(file, arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(mio, "_write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        minidl.save([2], path)
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert minidl.load(path) == [1]


def test_a_failing_rename_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ck"
    minidl.save([1], path)

    def refuse(src, dst):
        raise PermissionError("read-only")

    monkeypatch.setattr(mio.os, "replace", refuse)
    with pytest.raises(PermissionError):
        minidl.save([2], path)
    monkeypatch.undo()
    assert minidl.load(path) == [1] and leftovers(tmp_path) == []


def test_a_missing_directory_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        minidl.save([1], tmp_path / "no" / "such" / "dir" / "ck")


@pytest.mark.parametrize(
    "obj, exc, message",
    [
        ({1, 2}, TypeError, "a set"),
        (np.zeros(3), TypeError, "a ndarray"),
        ({"f": lambda: 0}, TypeError, "obj['f'], a function"),
        ({1.5: "float key"}, TypeError, "key 1.5 of type float"),
        ({(1, 2): "tuple key"}, TypeError, "key (1, 2) of type tuple"),
        ([b"bytes"], TypeError, "obj[0], a bytes"),
    ],
)
def test_unsupported_objects_are_clear_errors(obj, exc, message, tmp_path):
    with pytest.raises(exc) as info:
        minidl.save(obj, tmp_path / "ck")
    assert message in str(info.value)
    assert not (tmp_path / "ck").exists()


def test_a_cyclic_structure_is_refused(tmp_path):
    a = [1]
    a.append({"back": a})
    with pytest.raises(ValueError, match="contains itself"):
        minidl.save(a, tmp_path / "ck")
    shared = [1, 2]
    assert roundtrip([shared, shared], tmp_path) == [[1, 2], [1, 2]]  # shared, not cyclic: fine


def test_a_bad_path_type(tmp_path):
    with pytest.raises(TypeError, match="path must be a string"):
        minidl.save([1], 42)
    with pytest.raises(TypeError, match="path must be a string"):
        minidl.load(None)


# -- files that are not intact checkpoints --------------------------------------------------------


def write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def index(header):
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


def expect_bad_file(path, *fragments):
    with pytest.raises(ValueError) as info:
        minidl.load(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_a_truncated_checkpoint(tmp_path):
    path = tmp_path / "ck"
    minidl.save({"w": minidl.randn(100, 100), "step": 3}, path)
    data = path.read_bytes()
    for keep in (len(data) // 2, len(data) - 10, 100, 3):
        path.write_bytes(data[:keep])
        expect_bad_file(path, "not a minidl checkpoint", "damaged or truncated")


def test_random_bytes_and_an_empty_file(tmp_path):
    path = tmp_path / "ck"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    expect_bad_file(path, "not a minidl checkpoint", "not an .npz (zip) archive")
    path.write_bytes(b"")
    expect_bad_file(path, "not a minidl checkpoint", "the file is empty")


def test_a_plain_npz_without_our_index(tmp_path):
    path = tmp_path / "plain.npz"
    write_npz(path, weights=np.ones(3))
    expect_bad_file(path, "without a minidl index", "numpy.savez")


def test_a_single_npy_array(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.ones(3))
    expect_bad_file(path, "single .npy array")


def test_a_future_format_version(tmp_path):
    path = tmp_path / "ck"
    write_npz(path, __minidl__=index({"format": "minidl", "version": 2, "root": None}))
    expect_bad_file(path, "format version 2", "upgrade minidl")


@pytest.mark.parametrize(
    "header, fragment",
    [
        ({"format": "other", "version": 1, "root": None}, "does not name the minidl format"),
        ({"format": "minidl", "root": None}, "no valid format version"),
        ({"format": "minidl", "version": 1}, "no valid format version"),
        ({"format": "minidl", "version": 1, "root": {"type": "tensor", "array": "t9"}}, "array 't9'"),
        (
            {"format": "minidl", "version": 1, "root": {"type": "set", "items": []}},
            "unknown entry type 'set'",
        ),
        ({"format": "minidl", "version": 1, "root": {"type": "dict", "items": [[1]]}}, "[key, value] pair"),
        ({"format": "minidl", "version": 1, "root": [1, 2]}, "unexpected entry"),
    ],
)
def test_a_damaged_index(header, fragment, tmp_path):
    path = tmp_path / "ck"
    write_npz(path, __minidl__=index(header))
    expect_bad_file(path, fragment)


def test_an_index_that_is_not_json(tmp_path):
    path = tmp_path / "ck"
    write_npz(path, __minidl__=np.frombuffer(b"\xff{not json", dtype=np.uint8))
    expect_bad_file(path, "damaged minidl index")


class _Payload:
    """Unpickling this would run code: the reason checkpoints must never be pickles."""

    ran = False

    def __reduce__(self):
        return (exec, ("import tests.test_io as m; m._Payload.ran = True",))


def test_a_pickled_array_is_refused_without_running_it(tmp_path):
    path = tmp_path / "ck"
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload()
    write_npz(
        path,
        __minidl__=index(
            {"format": "minidl", "version": 1, "root": {"type": "tensor", "array": "t0", "device": "cpu"}}
        ),
        t0=evil,
    )
    expect_bad_file(path, "cannot read array 't0'")
    assert _Payload.ran is False


def test_a_member_with_a_bad_crc_is_refused(tmp_path):
    path = tmp_path / "ck"
    minidl.save({"w": minidl.ones(1000)}, path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("t0.npy")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # flip a byte of t0's payload
    path.write_bytes(bytes(data))
    expect_bad_file(path, "t0")


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        minidl.load(tmp_path / "nothing")


def test_tensors_saved_from_cuda_need_map_location_without_a_gpu(tmp_path):
    if minidl.cuda.is_available():
        pytest.skip("there is a GPU: this checks the message shown without one")
    path = tmp_path / "ck"
    write_npz(
        path,
        __minidl__=index(
            {"format": "minidl", "version": 1, "root": {"type": "tensor", "array": "t0", "device": "cuda:0"}}
        ),
        t0=np.ones(2, np.float32),
    )
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        minidl.load(path)
    loaded = minidl.load(path, map_location="cpu")
    assert loaded.device == "cpu" and loaded.tolist() == [1.0, 1.0]


def test_a_bad_map_location(tmp_path):
    minidl.save([1], tmp_path / "ck")
    with pytest.raises(ValueError, match="unknown device"):
        minidl.load(tmp_path / "ck", map_location="tpu")


@pytest.mark.gpu
def test_cuda_tensors_are_saved_as_cpu_arrays_and_map_location_chooses(tmp_path):
    t = minidl.arange(6, dtype=minidl.float32).reshape(2, 3).to("cuda")
    path = tmp_path / "ck"
    minidl.save({"t": t}, path)
    with np.load(path) as archive:
        np.testing.assert_array_equal(archive["t0"], np.arange(6, dtype=np.float32).reshape(2, 3))
    assert minidl.load(path)["t"].device.type == "cuda"
    on_cpu = minidl.load(path, map_location="cpu")["t"]
    assert on_cpu.device == "cpu" and on_cpu.tolist() == [[0, 1, 2], [3, 4, 5]]
    minidl.save({"t": minidl.ones(2)}, path)
    assert minidl.load(path, map_location="cuda")["t"].device.type == "cuda"
