"""The text a character language model trains on, as integer ids, and its random batches.

The default corpus is on every machine with Python and needs no download: the help texts of the
standard library's ``pydoc_data.topics`` (what ``help('if')`` prints), its ``topics`` dict's values
joined in sorted-key order, about 465,000 characters of English prose and Python code.
``--text FILE`` trains on any UTF-8 file instead.

    vocabulary   the sorted set of the text's characters; a character's id is its position
    split        the first 90 % trains, the last 10 % is held out for the validation loss
    batch        B windows of T + 1 contiguous ids at random (seeded) offsets: the inputs are the
                 first T, the targets the last T, so position t learns to predict character t + 1
"""

from __future__ import annotations

import dataclasses
import os

import numpy

DEFAULT_CORPUS = "pydoc_data.topics"
VALIDATION_FRACTION = 0.1
# The validation loss is the mean over at most this many windows of the held-out text, chosen
# once by a fixed seed: 128 of the default corpus's 363 (46,000 characters in windows of 128).
# 16,000 characters give a steady curve and cost a second or two of forward passes an epoch.
VALIDATION_WINDOWS = 128


def default_corpus() -> str:
    """The help topics of the standard library's pydoc, joined in sorted-key order."""
    from pydoc_data.topics import topics

    return "".join(topics[key] for key in sorted(topics))


def read_text(path: str) -> str:
    """The contents of the UTF-8 file ``path``; ValueError naming the file if it is missing,
    unreadable, empty or not UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise ValueError(f"--text {path}: cannot read the file ({err.strerror or err})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"--text {path}: not a UTF-8 text file (byte 0x{data[err.start]:02x} at offset {err.start} "
            f"is not valid UTF-8)"
        ) from None
    if not text:
        raise ValueError(f"--text {path}: the file is empty")
    return text


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """The characters a model knows, in id order (a string: id i is ``chars[i]``)."""

    chars: str

    @classmethod
    def of(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` that are not in the vocabulary, each once, in order."""
        known = set(self.chars)
        return list(dict.fromkeys(c for c in text if c not in known))

    def encode(self, text: str) -> numpy.ndarray:
        """text -> int64 ids (L,); KeyError for a character outside the vocabulary (check first)."""
        index = {c: i for i, c in enumerate(self.chars)}
        return numpy.fromiter((index[c] for c in text), dtype=numpy.int64, count=len(text))

    def decode(self, ids: object) -> str:
        """ids (L,) -> text."""
        return "".join(self.chars[int(i)] for i in numpy.asarray(ids).reshape(-1))


class CharCorpus:
    """A text encoded with its own vocabulary and split into training and validation ids.

    name: what to call it in messages (the file, or DEFAULT_CORPUS); context: the window length T
    the model sees, which each split must exceed (it needs T + 1 characters for one window).
    """

    def __init__(self, text: str, context: int, name: str = DEFAULT_CORPUS) -> None:
        self.name = name
        self.vocabulary = Vocabulary.of(text)
        ids = self.vocabulary.encode(text)
        held_out = int(len(ids) * VALIDATION_FRACTION)
        self.train_ids, self.val_ids = ids[: len(ids) - held_out], ids[len(ids) - held_out :]
        if len(self.val_ids) < context + 1:
            raise ValueError(
                f"--text {name}: {len(text)} characters is too short for a context of {context}: its last "
                f"{100 * VALIDATION_FRACTION:g} % (the validation text) must hold at least {context + 1} "
                f"characters, so the file needs at least {int((context + 1) / VALIDATION_FRACTION) + 1}"
            )
        self.context = context

    @classmethod
    def load(cls, path: str | None, context: int) -> CharCorpus:
        """The file ``path`` (None: the default corpus)."""
        if path is None:
            return cls(default_corpus(), context)
        return cls(read_text(os.fspath(path)), context, name=os.fspath(path))

    def batch(self, rng: numpy.random.Generator, batch_size: int) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Random training windows: inputs (B, T) and targets (B, T), the inputs shifted by one."""
        starts = rng.integers(0, len(self.train_ids) - self.context, size=batch_size)
        return windows(self.train_ids, starts, self.context)

    def validation_set(self, seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The fixed validation windows, inputs (N, T) and targets (N, T): the held-out text cut
        into consecutive windows, at most VALIDATION_WINDOWS of them chosen by ``seed``."""
        starts = numpy.arange(0, len(self.val_ids) - self.context, self.context)
        if len(starts) > VALIDATION_WINDOWS:
            rng = numpy.random.default_rng(seed)
            starts = numpy.sort(rng.choice(starts, VALIDATION_WINDOWS, replace=False))
        return windows(self.val_ids, starts, self.context)


def windows(ids: numpy.ndarray, starts: numpy.ndarray, context: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """ids[s : s + T] and ids[s + 1 : s + T + 1] for each start s: two (len(starts), T) arrays."""
    rows = starts[:, None] + numpy.arange(context + 1)
    chunks = ids[rows]
    return chunks[:, :-1], chunks[:, 1:]
