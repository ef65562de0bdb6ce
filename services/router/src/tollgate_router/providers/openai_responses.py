"""OpenAI's Responses API over HTTP: ``POST {base}/responses`` on the process's shared HTTP client,
the response object or its semantic SSE events back (the format is in
``openai_responses_wire``). Serves the OpenAI catalog offers marked
``"wire_protocol": "openai-responses"`` (docs/catalog.md)."""

from __future__ import annotations

import orjson

from tollgate_router.providers.base import ProviderStream, UpstreamCall
from tollgate_router.providers.http_client import HttpClient
from tollgate_router.providers.openai_responses_wire import (
    EventParser,
    parse_response,
    request_body,
)
from tollgate_router.providers.openai_wire import error_from_response, request_headers
from tollgate_router.providers.transport import exchange


class OpenAIResponsesAdapter:
    """Speaks ``POST {base_url}/responses`` over the process's shared HTTP client."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    async def open(self, call: UpstreamCall) -> ProviderStream:
        headers = request_headers(call.api_key, call.stream)
        return await exchange(
            self._client,
            f"{call.base_url}/responses",
            orjson.dumps(request_body(call)),
            headers,
            stream=call.stream,
            deadline=call.timeout,
            parser=EventParser,
            parse_body=parse_response,
            parse_error=error_from_response,
        )
