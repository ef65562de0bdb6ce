"""Anthropic Messages over HTTP: ``POST {base}/messages`` on the process's shared HTTP client with
``x-api-key`` and ``anthropic-version``, JSON or SSE back (the format is in ``anthropic_wire``)."""

from __future__ import annotations

from functools import partial

import orjson

from tollgate_router.providers.anthropic_options import answer_tool
from tollgate_router.providers.anthropic_wire import (
    MessageStreamParser,
    error_from_response,
    parse_message,
    request_body,
    request_headers,
)
from tollgate_router.providers.base import ProviderStream, UpstreamCall
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.transport import exchange


class AnthropicMessagesAdapter:
    def __init__(self, client: HttpClient) -> None:
        self._client = client

    async def open(self, call: UpstreamCall) -> ProviderStream:
        body = orjson.dumps(request_body(call))
        answer = answer_tool(call.params)
        return await exchange(
            self._client,
            f"{call.base_url}/messages",
            body,
            request_headers(call),
            stream=call.stream,
            deadline=call.timeout,
            parser=partial(MessageStreamParser, answer),
            parse_body=partial(parse_message, answer_tool=answer),
            parse_error=error_from_response,
        )
