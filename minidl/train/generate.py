"""``generate``: text from a trained character model, one sampled character at a time.

    ids = encode(prompt)
    repeat N times:
        logits = model.predict_next(ids)           # (1, V): the GPT sees the last `context` ids
        p = softmax(logits / temperature)          # keeping the top_k most likely, if asked
        ids.append(a draw from p)

temperature < 1 sharpens the distribution towards the likeliest character, > 1 flattens it; 0
means greedy decoding (always the likeliest character: the argmax, no draw). The draws come from
a numpy Generator seeded with ``seed`` and nothing else, so the same checkpoint, prompt and seed
give the same text on every run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy

from .. import tensor
from ..autograd import no_grad
from .charlstm import CharLSTM
from .gpt import GPT
from .models import rebuild_language_model
from .scoring import load_checkpoint
from .text import Vocabulary


def check_sampling(tokens: int, temperature: float, top_k: int | None) -> None:
    """ValueError naming the setting for tokens < 1, temperature < 0 (or not finite), top_k < 1."""
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        raise ValueError(f"generate: tokens must be a positive integer, got {tokens!r}")
    if not (isinstance(temperature, (int, float)) and 0 <= temperature < float("inf")):
        raise ValueError(f"generate: temperature must be a number >= 0 (0: greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"generate: top_k must be a positive integer or None (all), got {top_k!r}")


def next_id(logits: numpy.ndarray, temperature: float, top_k: int | None, rng: numpy.random.Generator) -> int:
    """One id drawn from logits (V,) at ``temperature`` among the ``top_k`` likeliest (None or
    k >= V: all of them); the argmax when the temperature is 0."""
    logits = logits.astype(numpy.float64)
    if temperature == 0:
        return int(numpy.argmax(logits))
    if top_k is not None and top_k < len(logits):
        cut = numpy.partition(logits, -top_k)[-top_k]
        logits = numpy.where(logits >= cut, logits, -numpy.inf)
    scaled = (logits - logits.max()) / temperature
    p = numpy.exp(scaled)
    return int(rng.choice(len(p), p=p / p.sum()))


def sample(
    model: GPT | CharLSTM,
    vocabulary: Vocabulary,
    prompt: str,
    tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> str:
    """The prompt followed by ``tokens`` characters the model samples after it (the model is
    a GPT or CharLSTM: anything with ``predict_next``)."""
    check_sampling(tokens, temperature, top_k)
    if not prompt:
        raise ValueError("generate: the prompt is empty; give it at least one character")
    unknown = vocabulary.unknown(prompt)
    if unknown:
        raise ValueError(
            f"generate: the prompt has characters the model never saw: {', '.join(map(repr, unknown))} "
            f"(its vocabulary is {len(vocabulary)} characters: {vocabulary.chars!r})"
        )
    rng = numpy.random.default_rng(seed)
    ids = list(vocabulary.encode(prompt))
    model.eval()
    state = None
    with no_grad():
        for _ in range(tokens):
            logits, state = model.predict_next(tensor(numpy.asarray([ids]), device=device), state)
            ids.append(next_id(logits.numpy()[0], temperature, top_k, rng))
    return prompt + vocabulary.decode(ids[len(prompt) :])


def default_prompt(vocabulary: Vocabulary) -> str:
    """A newline (the start of a paragraph) when the text has one, else its first character."""
    return "\n" if "\n" in vocabulary.chars else vocabulary.chars[0]


def generate_from_checkpoint(
    path: str,
    prompt: str | None = None,
    tokens: int = 500,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], object] | None = print,
) -> str:
    """Rebuild the language model of ``path`` and return (and log) ``sample``'s text.

    prompt None: default_prompt. OSError or ValueError, naming the file, for a missing file, one
    that is not a minidl checkpoint, or a classifier's checkpoint.
    """
    check_sampling(tokens, temperature, top_k)
    model, _, vocabulary = rebuild_language_model(load_checkpoint(path), path)
    prompt = default_prompt(vocabulary) if prompt is None else prompt
    text = sample(model.to(device), vocabulary, prompt, tokens, temperature, top_k, seed, device)
    if log is not None:
        log(text)
    return text
