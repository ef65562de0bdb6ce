"""OpenAI Chat Completions and its compatible family over HTTP: ``POST {base}/chat/completions``
on the process's shared HTTP client, JSON or SSE back (the format itself is in ``openai_wire``)."""

from __future__ import annotations

import orjson

from tollgate_router.providers.base import ProviderStream, UpstreamCall
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_wire import (
    ChunkParser,
    error_from_response,
    parse_completion,
    request_body,
    request_headers,
)
from tollgate_router.providers.transport import exchange


class OpenAIChatAdapter:
    """Speaks ``POST {base_url}/chat/completions`` over the process's shared HTTP client."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    async def open(self, call: UpstreamCall) -> ProviderStream:
        headers = request_headers(call.api_key, call.stream)
        return await exchange(
            self._client,
            f"{call.base_url}/chat/completions",
            orjson.dumps(request_body(call)),
            headers,
            stream=call.stream,
            deadline=call.timeout,
            parser=ChunkParser,
            parse_body=parse_completion,
            parse_error=error_from_response,
        )
