"""OpenAI Chat Completions and its compatible family over HTTP: ``POST {base}/chat/completions``
on the process's shared session, JSON or SSE back (the format itself is in ``openai_wire``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable

import aiohttp
import orjson

from tollgate_router.providers.base import (
    ProviderError,
    ProviderEvent,
    ProviderStream,
    UpstreamCall,
)
from tollgate_router.providers.openai_wire import (
    ChunkParser,
    coalesce,
    error_from_response,
    parse_completion,
    request_body,
)
from tollgate_router.providers.sse import SseDecoder

_DRAIN_SECONDS = 1.0

# -- transport --------------------------------------------------------------------------------


class _EventList:
    def __init__(self, events: Iterable[ProviderEvent]) -> None:
        self._events = tuple(events)

    async def _iterate(self) -> AsyncGenerator[ProviderEvent, None]:
        for event in self._events:
            yield event

    def events(self) -> AsyncGenerator[ProviderEvent, None]:
        return self._iterate()

    async def aclose(self) -> None:
        return None


class _SseStream:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    def events(self) -> AsyncGenerator[ProviderEvent, None]:
        return self._iterate()

    async def _iterate(self) -> AsyncGenerator[ProviderEvent, None]:
        decoder, parser = SseDecoder(), ChunkParser()
        content = self._response.content
        try:
            async for data in content.iter_any():
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
            if parser.done and not content.at_eof():
                # Read the end of the body so the connection goes back to the pool.
                await asyncio.wait_for(content.read(), _DRAIN_SECONDS)
        except (aiohttp.ClientError, TimeoutError) as exc:
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


class OpenAIChatAdapter:
    """Speaks ``POST {base_url}/chat/completions`` over the process's shared HTTP session."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    def _timeout(self, total: float | None) -> aiohttp.ClientTimeout:
        """The session's connect / idle-read timeouts, bounded by the caller's deadline."""
        base = self._session.timeout
        return aiohttp.ClientTimeout(
            total=total,
            connect=base.connect,
            sock_connect=base.sock_connect,
            sock_read=base.sock_read,
        )

    async def open(self, call: UpstreamCall) -> ProviderStream:
        headers = {
            "Authorization": f"Bearer {call.api_key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if call.stream else "application/json",
        }
        try:
            response = await self._session.post(
                f"{call.base_url}/chat/completions",
                data=orjson.dumps(request_body(call)),
                headers=headers,
                timeout=self._timeout(call.timeout),
            )
        except TimeoutError as exc:
            raise ProviderError(0, "timed out waiting for the provider", type="timeout") from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(
                0, f"cannot reach the provider ({type(exc).__name__})", type="api_error"
            ) from exc
        if response.status == 200 and call.stream and response.content_type == "text/event-stream":
            return _SseStream(response)
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderError(
                0, f"the provider's response broke off ({type(exc).__name__})", type="api_error"
            ) from exc
        finally:
            response.release()
        if response.status != 200:
            raise error_from_response(response.status, raw)
        return _EventList(parse_completion(raw))
