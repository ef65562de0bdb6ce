"""An incremental Server-Sent Events decoder (bytes in, events out), per the WHATWG rules that
upstream APIs use: ``field: value`` lines, ``data`` lines joined with ``\\n``, a blank line ends
an event, ``:`` starts a comment. An event (or a line) larger than :data:`MAX_EVENT_BYTES` is a
failure of the provider's, not a buffer that grows without end."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate_router.providers.base import ProviderError

# The largest event a stream may send (a provider's deltas are a few hundred bytes; an image
# generated in one event a few MiB).
MAX_EVENT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: bytes
    event: str = ""


class SseDecoder:
    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._size = 0  # bytes in ``_data``
        self._event = ""
        self._limit = limit

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events completed by ``chunk`` (arbitrary boundaries are fine)."""
        lines = (self._buffer + chunk if self._buffer else chunk).split(b"\n")
        self._buffer = lines.pop()  # an incomplete last line (or b"")
        events: list[SseEvent] = []
        data = self._data
        for line in lines:
            if line.startswith(b"data: "):  # the common case first
                data.append(line[6:].rstrip(b"\r"))
                self._size += len(line)
                continue
            line = line.rstrip(b"\r")
            if not line:
                if data:
                    events.append(SseEvent(b"\n".join(data), self._event))
                    data = self._data = []
                    self._size = 0
                self._event = ""
            elif not line.startswith(b":"):
                name, _, value = line.partition(b":")
                if value.startswith(b" "):
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                    self._size += len(value)
                elif name == b"event":
                    self._event = value.decode("utf-8", "replace")
        if self._size + len(self._buffer) > self._limit:
            raise ProviderError(
                0,
                f"the provider's stream sent an event larger than {self._limit // 2**20} MiB",
                type="api_error",
            )
        return events

    def close(self) -> list[SseEvent]:
        """At end of input: an event whose lines are complete but whose final blank line never
        came (a partial last line is dropped)."""
        events = [SseEvent(b"\n".join(self._data), self._event)] if self._data else []
        self._buffer, self._data, self._size, self._event = b"", [], 0, ""
        return events
