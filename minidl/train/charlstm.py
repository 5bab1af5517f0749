"""A character-level LSTM language model: the recurrent counterpart of gpt.py.

    ids (B, T) -> Embedding (B, T, C) -> LSTM, ``layers`` deep, width C (B, T, C) -> Linear (B, T, V)

Where the GPT looks back over a fixed window through attention, the LSTM carries everything it
has read in its state (h, c); so it has no context limit, and sampling feeds it one new character
at a time with the state kept, instead of re-reading the window.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..autograd.tensor import Tensor


class CharLSTM(nn.Module):
    """ids (B, T) -> next-character logits (B, T, vocabulary)."""

    def __init__(self, vocabulary: int, layers: int = 2, width: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        self.lstm = nn.LSTM(width, width, num_layers=layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, ids: Tensor, state: tuple[Tensor, Tensor] | None = None) -> Tensor:
        return self.run(ids, state)[0]

    def run(self, ids: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Any]:
        """ids (B, T), state (h, c) each (layers, B, C) or None -> logits (B, T, V), new state."""
        output, state = self.lstm(self.embedding(ids), state)
        return self.head(output), state

    def predict_next(self, ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """The logits (B, V) of the character after ``ids`` (B, L). With a ``state`` from the
        previous call only the last id is new, so only it is read."""
        logits, state = self.run(ids if state is None else ids[:, -1:], state)
        return logits[:, -1], state
