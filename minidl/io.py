"""``save`` and ``load``: checkpoints that cannot run code when they are opened.

PyTorch checkpoints are pickles, and unpickling a file can execute anything in it. Ours are a
plain ``.npz`` archive (a zip of ``.npy`` arrays, read with ``allow_pickle=False``):

    t0, t1, ...   one array per tensor (CUDA tensors are stored as CPU arrays)
    __minidl__    a uint8 array holding UTF-8 JSON: the format name and version, and the object's
                  structure, with each tensor replaced by a reference to its array:

        {"format": "minidl", "version": 1,
         "root": {"type": "dict", "items": [["state", {"type": "dict", "items": [[0, ...]]}], ...]}}

JSON alone would lose what a state dict needs, so containers are tagged: tuples stay tuples, dict
keys keep their type (an optimizer's state is keyed by the int position of each parameter), and
OrderedDicts stay ordered dicts. Numbers, strings, bools and None are plain JSON values.

Writes are atomic: everything is encoded in memory first, written to a temporary file next to the
target, flushed to disk, and only then renamed over the target. A failure at any point leaves the
target as it was, and no partial file.
"""

import collections
import json
import numbers
import os
import secrets
import zipfile
from typing import IO, Any

import numpy

from .autograd.tensor import Tensor
from .backend import device as _device

FORMAT = "minidl"
VERSION = 1
_INDEX = "__minidl__"


# -- save ---------------------------------------------------------------------------------------


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (nested dicts, lists, tuples of tensors, numbers, strings, bools, None) to ``path``.

    Tensors are saved as data: their values, dtype and device, not their graph, gradient or
    ``requires_grad``. A tensor that appears twice is stored once and loaded as one tensor.
    """
    path = _fspath(path, "save")
    arrays: dict[str, Any] = {}
    root = _Encoder(arrays).encode(obj)
    index = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=True)
    arrays[_INDEX] = numpy.frombuffer(index.encode("utf-8"), dtype=numpy.uint8)
    _write_atomically(path, arrays)


class _Encoder:
    """Turns an object into its JSON description, collecting tensors' arrays on the way."""

    def __init__(self, arrays: dict[str, numpy.ndarray]) -> None:
        self.arrays = arrays
        self.names: dict[int, str] = {}  # id(tensor) -> array name, so a shared tensor is stored once
        self.keep: list[Tensor] = []  # the tensors named, kept alive so that their ids stay unique
        self.open: set[int] = set()  # ids of the containers being encoded, to refuse cycles

    def encode(self, obj: object, where: str = "obj") -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, numpy.bool_):
            return bool(obj)
        if isinstance(obj, numbers.Integral):
            return int(obj)  # numpy ints too
        if isinstance(obj, numbers.Real):
            return float(obj)  # inf and NaN are written as JSON's common extensions Infinity, NaN
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.open:
                raise ValueError(f"save: {where} contains itself; cannot save a cyclic structure")
            self.open.add(id(obj))
            try:
                return self.container(obj, where)
            finally:
                self.open.discard(id(obj))
        raise TypeError(
            f"save: cannot save {where}, a {type(obj).__name__}; checkpoints hold tensors, "
            f"numbers, strings, bools, None and dicts/lists/tuples of them"
        )

    def container(self, obj: dict[Any, Any] | list[Any] | tuple[Any, ...], where: str) -> dict[str, Any]:
        if isinstance(obj, dict):
            items: list[list[Any]] = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (bool, str, numbers.Integral))):
                    raise TypeError(
                        f"save: {where} has a key {key!r} of type {type(key).__name__}; "
                        f"dict keys must be strings, ints, bools or None"
                    )
                key = key if key is None or isinstance(key, (bool, str)) else int(key)
                items.append([key, self.encode(value, f"{where}[{key!r}]")])
            kind = "ordereddict" if isinstance(obj, collections.OrderedDict) else "dict"
            return {"type": kind, "items": items}
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {"type": kind, "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}

    def tensor(self, t: Tensor) -> dict[str, str]:
        name = self.names.get(id(t))
        if name is None:
            name = self.names[id(t)] = f"t{len(self.names)}"
            self.keep.append(t)
            self.arrays[name] = _device.to_device(t.data, "cpu")  # numpy can only write host memory
        return {"type": "tensor", "array": name, "device": str(t.device)}


def _write_atomically(path: str, arrays: dict[str, Any]) -> None:
    """Write the archive to a temporary file beside ``path``, make it durable, then rename it."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 lets the umask decide, as for open()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
        os.replace(temporary, path)  # atomic: readers see the old file or the new one, nothing between
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_npz(file: IO[bytes], arrays: dict[str, Any]) -> None:
    numpy.savez(file, **arrays)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); where directories cannot be opened, skip it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- load ---------------------------------------------------------------------------------------


def load(path: str | os.PathLike[str], map_location: Any = None) -> Any:
    """Read what ``save`` wrote. Tensors go back to the device they were saved from, or to
    ``map_location`` ('cpu', 'cuda', a ``minidl.device``) when given.

    Raises ``ValueError`` naming the file for anything that is not an intact minidl checkpoint.
    """
    path = _fspath(path, "load")
    target = _device.Device(map_location) if map_location is not None else None
    # Look at the first bytes ourselves: numpy.load would take any other file for a pickle (and,
    # with pickles refused, suggest loading it "unsafely").
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise ValueError(f"load: {path} is a single .npy array, not a minidl checkpoint")
    if not magic.startswith(b"PK"):
        raise ValueError(
            f"load: {path} is not a minidl checkpoint: "
            + ("the file is empty" if not magic else "it is not an .npz (zip) archive")
        )
    try:
        archive = numpy.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"load: {path} is not a minidl checkpoint: a damaged or truncated .npz archive ({err})"
        ) from None
    if not isinstance(archive, numpy.lib.npyio.NpzFile):
        raise ValueError(f"load: {path} is not a minidl checkpoint: not an .npz archive")
    with archive:
        try:
            header = json.loads(bytes(_read(archive, _INDEX, path)).decode("utf-8"))
        except KeyError:
            raise ValueError(
                f"load: {path} is an .npz archive without a minidl index (written by "
                f"numpy.savez rather than minidl.save?)"
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"load: {path} has a damaged minidl index: {err}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(f"load: {path} has an index that does not name the minidl format")
        version = header.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1 or "root" not in header:
            raise ValueError(f"load: {path} has no valid format version in its index")
        if version > VERSION:
            raise ValueError(
                f"load: {path} uses minidl checkpoint format version {version}, newer than "
                f"the version {VERSION} this minidl reads; upgrade minidl"
            )
        return _Decoder(archive, path, target).decode(header.get("root"))


def _read(archive: numpy.lib.npyio.NpzFile, name: str, path: str) -> numpy.ndarray:
    """One array of the archive; a damaged member becomes a ValueError that names the file."""
    if name not in archive.files:
        raise KeyError(name)
    try:
        return archive[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"load: {path} is damaged: cannot read array {name!r} ({err})") from None


class _Decoder:
    def __init__(self, archive: numpy.lib.npyio.NpzFile, path: str, target: _device.Device | None) -> None:
        self.archive = archive
        self.path = path
        self.target = target
        self.tensors: dict[str, Tensor] = {}  # array name -> Tensor: a tensor saved once loads as one object

    def fail(self, what: str) -> ValueError:
        return ValueError(f"load: {self.path} has a damaged minidl index: {what}")

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if not isinstance(node, dict) or "type" not in node:
            raise self.fail(f"unexpected entry {node!r}")
        kind = node["type"]
        if kind == "tensor":
            return self.tensor(node)
        items = node.get("items")
        if not isinstance(items, list):
            raise self.fail(f"a {kind!r} entry without items")
        if kind == "list":
            return [self.decode(v) for v in items]
        if kind == "tuple":
            return tuple(self.decode(v) for v in items)
        if kind in ("dict", "ordereddict"):
            out: dict[Any, Any] = collections.OrderedDict() if kind == "ordereddict" else {}
            for item in items:
                if not isinstance(item, list) or len(item) != 2:
                    raise self.fail("a dict item that is not a [key, value] pair")
                key, value = item
                if isinstance(key, (dict, list, float)):
                    raise self.fail(f"an unsupported dict key {key!r}")
                out[key] = self.decode(value)
            return out
        raise self.fail(f"unknown entry type {kind!r}")

    def tensor(self, node: dict[str, Any]) -> Tensor:
        name = node.get("array")
        if name in self.tensors:
            return self.tensors[name]
        if not isinstance(name, str) or name == _INDEX:
            raise self.fail(f"a tensor entry with a bad array name {name!r}")
        try:
            array = _read(self.archive, name, self.path)
        except KeyError:
            raise self.fail(f"it refers to array {name!r}, which the archive does not have") from None
        device = self.target
        if device is None:
            try:
                device = _device.Device(node.get("device", "cpu"))
            except (TypeError, ValueError) as err:
                raise self.fail(str(err)) from None
            if device.type == "cuda" and not _device.cuda_is_available():
                raise RuntimeError(
                    f"load: {self.path} holds tensors saved from {device}, but CUDA is not "
                    f"available ({_device.cuda_unavailable_reason()}); pass "
                    f"map_location='cpu'"
                )
        self.tensors[name] = t = Tensor._make(_device.to_device(array, device))
        return t


def _fspath(path: str | os.PathLike[str], op: str) -> str:
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{op}: path must be a string or os.PathLike, got {type(path).__name__}") from None
