"""Google Gemini over HTTP: ``POST {base}/models/{model}:generateContent`` (or
``:streamGenerateContent?alt=sse``) with ``x-goog-api-key`` on the process's shared HTTP client
(the format is in ``gemini_wire``)."""

from __future__ import annotations

import orjson

from tollgate_router.providers.base import ProviderStream, UpstreamCall
from tollgate_router.providers.gemini_wire import (
    ResponseParser,
    error_from_response,
    parse_response,
    request_body,
    request_headers,
    request_url,
)
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.transport import exchange


class GeminiAdapter:
    def __init__(self, client: HttpClient) -> None:
        self._client = client

    async def open(self, call: UpstreamCall) -> ProviderStream:
        body = orjson.dumps(request_body(call))
        return await exchange(
            self._client,
            request_url(call),
            body,
            request_headers(call),
            stream=call.stream,
            deadline=call.timeout,
            parser=ResponseParser,
            parse_body=parse_response,
            parse_error=error_from_response,
        )
