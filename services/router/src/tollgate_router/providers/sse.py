"""An incremental Server-Sent Events decoder (bytes in, events out), per the WHATWG rules that
upstream APIs use: ``field: value`` lines, ``data`` lines joined with ``\\n``, a blank line ends
an event, ``:`` starts a comment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: bytes
    event: str = ""


class SseDecoder:
    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._event = ""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events completed by ``chunk`` (arbitrary boundaries are fine)."""
        lines = (self._buffer + chunk if self._buffer else chunk).split(b"\n")
        self._buffer = lines.pop()  # an incomplete last line (or b"")
        events: list[SseEvent] = []
        data = self._data
        for line in lines:
            if line.startswith(b"data: "):  # the common case first
                data.append(line[6:].rstrip(b"\r"))
                continue
            line = line.rstrip(b"\r")
            if not line:
                if data:
                    events.append(SseEvent(b"\n".join(data), self._event))
                    data = self._data = []
                self._event = ""
            elif not line.startswith(b":"):
                name, _, value = line.partition(b":")
                if value.startswith(b" "):
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                elif name == b"event":
                    self._event = value.decode("utf-8", "replace")
        return events

    def close(self) -> list[SseEvent]:
        """At end of input: an event whose lines are complete but whose final blank line never
        came (a partial last line is dropped)."""
        events = [SseEvent(b"\n".join(self._data), self._event)] if self._data else []
        self._buffer, self._data, self._event = b"", [], ""
        return events
