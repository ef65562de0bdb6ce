"""``<think>…</think>`` at the start of a model's text (DeepSeek R1, Qwen and other open models
served through OpenAI-compatible APIs) split off as reasoning, chunk by chunk: a tag cut across
two deltas is held back until it is whole, and text that does not open with the tag is passed
on untouched."""

from __future__ import annotations

from typing import Literal

OPEN = "<think>"
CLOSE = "</think>"

Piece = tuple[Literal["text", "reasoning"], str]


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that starts ``tag``."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Feed content deltas in order; each call returns what can be passed on so far."""

    __slots__ = ("_buffer", "_state")

    def __init__(self) -> None:
        self._state: Literal["start", "inside", "after", "text"] = "start"
        self._buffer = ""

    @property
    def settled(self) -> bool:
        """The answer did not open with the tag (or the tag is closed): from here on every
        delta is plain text, passed on as it came."""
        return self._state == "text"

    def feed(self, text: str) -> list[Piece]:
        if self._state == "text":  # the common case: no tag, nothing held
            return [("text", text)] if text else []
        self._buffer += text
        pieces: list[Piece] = []
        while self._buffer:
            if self._state == "start":
                stripped = self._buffer.lstrip()
                if stripped.startswith(OPEN):
                    self._buffer, self._state = stripped[len(OPEN) :], "inside"
                elif OPEN.startswith(stripped):
                    break  # only whitespace or a part of the tag so far
                else:
                    self._state = "text"
            elif self._state == "inside":
                end = self._buffer.find(CLOSE)
                if end >= 0:
                    if end:
                        pieces.append(("reasoning", self._buffer[:end]))
                    self._buffer, self._state = self._buffer[end + len(CLOSE) :], "after"
                    continue
                keep = _partial_suffix(self._buffer, CLOSE)
                if len(self._buffer) > keep:
                    pieces.append(("reasoning", self._buffer[: len(self._buffer) - keep]))
                self._buffer = self._buffer[len(self._buffer) - keep :]
                break
            elif self._state == "after":
                self._buffer = self._buffer.lstrip()
                if self._buffer:
                    self._state = "text"
            else:
                pieces.append(("text", self._buffer))
                self._buffer = ""
        return pieces

    def flush(self) -> list[Piece]:
        """What is still held at the end of the answer (an unclosed tag's reasoning, or text
        that only looked like the start of a tag)."""
        held, self._buffer = self._buffer, ""
        if not held:
            return []
        return [("reasoning" if self._state == "inside" else "text", held)]
