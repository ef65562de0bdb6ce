"""HTTP transport shared by the adapters: POST a JSON body on the process's HTTP client, then
read either an SSE stream (through a wire format's stream parser) or a whole JSON body.

Wire formats stay free of I/O; this module knows HTTP, timeouts and connection reuse, nothing
about any provider's JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

from tollgate_router.events import (
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
)
from tollgate_router.providers.base import (
    ProviderError,
    ProviderStream,
)
from tollgate_router.providers.http_client import (
    BodyTooLarge,
    HttpClient,
    HttpError,
    RequestRefused,
    Response,
)
from tollgate_router.providers.sse import SseDecoder, SseEvent

_DRAIN_SECONDS = 1.0
# The largest whole (not streamed) answer read from a provider: the largest message the router
# may pass on over gRPC, so a provider (or whatever a base URL points at) sending more is a
# failed attempt instead of memory the router cannot give back.
MAX_BODY_BYTES = 64 * 1024 * 1024


class StreamParser(Protocol):
    """The SSE events of one response into typed events."""

    @property
    def done(self) -> bool:
        """The stream's own end marker was seen (``[DONE]``, ``message_stop``): stop reading."""
        ...

    @property
    def finished(self) -> bool:
        """The response is complete (a finish reason was seen): the body may end here."""
        ...

    def feed(self, sse: SseEvent) -> list[ProviderEvent]: ...


def _run_key(event: ProviderEvent) -> tuple[str, int | str] | None:
    """What a delta may be merged with: text with text, reasoning text of one format (not a
    signature or encrypted data: those close a detail), argument fragments of one tool call
    (not its first delta, which names it)."""
    match event:
        case TextDelta():
            return ("text", 0)
        case ReasoningDelta(signature="", data=""):
            return ("reasoning", event.format)
        case ToolCallDelta(id="", name=""):
            return ("tool", event.index)
    return None


def _joined(first: ProviderEvent, text: str) -> ProviderEvent:
    if isinstance(first, ToolCallDelta):
        return replace(first, arguments=text)
    assert isinstance(first, TextDelta | ReasoningDelta)
    return replace(first, text=text)


def _piece(event: ProviderEvent) -> str:
    if isinstance(event, ToolCallDelta):
        return event.arguments
    assert isinstance(event, TextDelta | ReasoningDelta)
    return event.text


def coalesce(events: list[ProviderEvent]) -> list[ProviderEvent]:
    """Deltas that arrived in one network read become one per run (text, reasoning text of one
    format, the argument fragments of one tool call): fewer messages downstream (each costs a
    gRPC message and an SSE write, the bulk of what a delta costs) and no added latency, since
    nothing waits. Order and content are unchanged; only the boundaries between pieces go."""
    if len(events) < 2:
        return events
    merged: list[ProviderEvent] = []
    key: tuple[str, int | str] | None = None
    pieces: list[str] = []
    for event in events:
        event_key = _run_key(event)
        if event_key is not None and event_key == key:
            pieces.append(_piece(event))
            continue
        if len(pieces) > 1:
            merged[-1] = _joined(merged[-1], "".join(pieces))
        key = event_key
        pieces = [] if event_key is None else [_piece(event)]
        merged.append(event)
    if len(pieces) > 1:
        merged[-1] = _joined(merged[-1], "".join(pieces))
    return merged


class EventList:
    """A whole (non-streaming) response, already parsed."""

    def __init__(self, events: Iterable[ProviderEvent]) -> None:
        self._events = tuple(events)

    async def _iterate(self) -> AsyncGenerator[ProviderEvent, None]:
        for event in self._events:
            yield event

    def events(self) -> AsyncGenerator[ProviderEvent, None]:
        return self._iterate()

    async def aclose(self) -> None:
        return None


class SseStream:
    """A streaming response: SSE decoded and parsed as it arrives. A body that ends before the
    response is complete, or breaks off, is a :class:`ProviderError` (status 0)."""

    def __init__(self, response: Response, parser: StreamParser) -> None:
        self._response = response
        self._parser = parser

    def events(self) -> AsyncGenerator[ProviderEvent, None]:
        return self._iterate()

    async def _iterate(self) -> AsyncGenerator[ProviderEvent, None]:
        decoder, parser, response = SseDecoder(), self._parser, self._response
        try:
            while data := await response.read_some():
                batch: list[ProviderEvent] = []
                failure: ProviderError | None = None
                try:
                    for sse in decoder.feed(data):
                        batch.extend(parser.feed(sse))
                except ProviderError as exc:
                    failure = exc
                for event in coalesce(batch):
                    yield event
                if failure is not None:
                    raise failure
                if parser.done:
                    break
            else:
                for sse in decoder.close():
                    for event in parser.feed(sse):
                        yield event
            if parser.done and not response.at_eof:
                # Read the end of the body so the connection goes back to the pool.
                async with asyncio.timeout(_DRAIN_SECONDS):
                    await response.read()
        except (HttpError, TimeoutError) as exc:
            if not (parser.done or parser.finished):
                raise ProviderError(
                    0, f"the provider's stream broke off ({type(exc).__name__})", type="api_error"
                ) from exc
        finally:
            self._response.release()
        if not (parser.done or parser.finished):
            raise ProviderError(0, "the provider's stream ended early", type="api_error")

    async def aclose(self) -> None:
        self._response.release()


async def post(
    client: HttpClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    deadline: float | None,
) -> Response:
    """POST ``body`` (the client sends it again only when the pooled keep-alive connection it
    went out on turned out closed before any byte came back: the provider never took it).

    A redirect is not followed: it is a :class:`ProviderError` naming where it pointed. Followed,
    a 307 or 308 would send the body and the credential headers (``x-api-key``, ``api-key``:
    an HTTP client drops only ``Authorization`` on the way to another host) wherever the
    answer says, and a 301 or 302 would turn the POST into a GET the provider answers with a
    confusing 404 or 405."""
    try:
        response = await client.post(url, body, headers, deadline=deadline)
    except RequestRefused as exc:
        raise ProviderError(0, f"the request cannot be sent: {exc}", type="api_error") from exc
    return _not_redirected(response)


def _not_redirected(response: Response) -> Response:
    if not 300 <= response.status < 400:
        return response
    response.close()
    location = response.headers.get("Location") or ""
    # Where it pointed, without a query (it may carry a token).
    target = urlsplit(urljoin(response.url, location))._replace(query="", fragment="")
    where = f" to {urlunsplit(target)}" if location else ""
    raise ProviderError(
        response.status,
        f"the provider redirected the request{where}; a provider's redirects are not "
        "followed (check its base URL)",
        type="api_error",
    )


async def read_body(response: Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body of ``response``, or a ProviderError once it exceeds ``limit`` bytes (a
    ``Content-Length`` over it is refused before a byte is read)."""
    if response.content_length is not None and response.content_length > limit:
        raise _too_large(response, limit)
    try:
        return await response.read(limit)
    except BodyTooLarge:
        raise _too_large(response, limit) from None


def _too_large(response: Response, limit: int) -> ProviderError:
    response.close()  # the rest is never read: the connection cannot be reused
    return ProviderError(
        0, f"the provider's answer is larger than {limit // (1024 * 1024)} MiB", type="api_error"
    )


async def exchange(
    client: HttpClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    stream: bool,
    deadline: float | None,
    parser: Callable[[], StreamParser],
    parse_body: Callable[[bytes], list[ProviderEvent]],
    parse_error: Callable[[int, bytes], ProviderError],
) -> ProviderStream:
    """POST ``body`` to ``url`` (``deadline``: total seconds); an SSE stream when ``stream`` and the provider answered with
    one, else the whole body parsed. Non-200 answers raise ``parse_error(status, body)``."""
    try:
        response = await post(client, url, body, headers, deadline)
    except TimeoutError as exc:
        raise ProviderError(0, "timed out waiting for the provider", type="timeout") from exc
    except HttpError as exc:
        raise ProviderError(
            0, f"cannot reach the provider ({type(exc).__name__})", type="api_error"
        ) from exc
    if response.status == 200 and stream and response.content_type == "text/event-stream":
        return SseStream(response, parser())
    try:
        raw = await read_body(response)
    except (HttpError, TimeoutError) as exc:
        raise ProviderError(
            0, f"the provider's response broke off ({type(exc).__name__})", type="api_error"
        ) from exc
    finally:
        response.release()
    if response.status != 200:
        raise parse_error(response.status, raw)
    return EventList(parse_body(raw))
