"""``POST /v1/ai/language-model`` (and ``/v3/ai/...``): the AI SDK gateway provider's model call
(2.x, LanguageModelV2; 3.x, LanguageModelV3).

The model id comes in the ``ai-language-model-id`` header, the mode in
``ai-language-model-streaming`` (``true``: SSE of V2 stream parts; else the V2 generate result as
JSON), the body is the call options (docs/ai-sdk.md). The generation itself is
the one ``/v1/chat/completions`` runs: the options become that request and go through the same
validation and ``RouterService.StreamGenerate`` call.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
import orjson
from aiohttp import web

from tollgate_edge.aisdk.call_options import chat_request_body, renamed
from tollgate_edge.aisdk.errors import native_errors, required_header
from tollgate_edge.aisdk.parts import Part, PartEncoder, generate_result
from tollgate_edge.aisdk.versions import spec_of
from tollgate_edge.chat import (
    Events,
    broken_stream,
    caller_context,
    generation,
    generation_error,
)
from tollgate_edge.chat_request import chat_request_from
from tollgate_edge.errors import ApiError, from_rpc, invalid_request
from tollgate_edge.idempotency import idempotency_key, replayed_headers
from tollgate_edge.identity import inference_caller
from tollgate_edge.json_body import json_object
from tollgate_edge.peers import request_id
from tollgate_edge.rate_limit_headers import served_headers
from tollgate_edge.responses import JSON
from tollgate_edge.sse import SseBody

log = logging.getLogger(__name__)

MODEL_HEADER = "ai-language-model-id"
STREAMING_HEADER = "ai-language-model-streaming"


def _streaming(request: web.Request) -> bool:
    value = request.headers.get(STREAMING_HEADER, "false").strip().lower()
    if value not in ("true", "false"):
        raise invalid_request(
            f"the `{STREAMING_HEADER}` header must be true or false", STREAMING_HEADER
        )
    return value == "true"


def _sse(parts: list[Part]) -> bytes:
    return b"".join(b"data: " + orjson.dumps(part) + b"\n\n" for part in parts)


@native_errors(MODEL_HEADER)
async def language_model(request: web.Request) -> web.StreamResponse:
    caller = inference_caller(request)
    rid = request_id(request)
    model = required_header(request, MODEL_HEADER)
    stream = _streaming(request)
    spec = spec_of(request)
    body, warnings = chat_request_body(json_object(await request.read()), model, stream, spec)
    try:
        chat = chat_request_from(body, caller_context(caller, request, rid))
    except ApiError as exc:
        raise renamed(exc) from None
    key = idempotency_key(request, body)
    if key is not None:
        chat.rpc.idempotency.CopyFrom(key)
    async with generation(request, chat, rid) as (started, events):
        encoder = PartEncoder(started.generation_id, spec)
        head = encoder.start(warnings, started, started.model or model)
        answer_headers = replayed_headers(started.replayed) | served_headers(started.rate_limit)
        if stream:
            return await _stream(request, encoder, head, events, answer_headers)
        response = await _collect(encoder, warnings, events)
        response.headers.update(answer_headers)
        return response


async def _collect(
    encoder: PartEncoder, warnings: list[dict[str, Any]], events: Events
) -> web.Response:
    parts: list[Part] = []
    try:
        async for event in events:
            if event.WhichOneof("event") == "error":
                raise generation_error(event)
            parts += encoder.event(event)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    if encoder.finished is None:
        raise broken_stream()
    parts += encoder.end()
    body = generate_result(parts, encoder.finish(), warnings)
    return web.Response(body=orjson.dumps(body), content_type=JSON)


async def _relay(body: SseBody, encoder: PartEncoder, events: Events) -> ApiError | None:
    """Send each event's parts as it arrives; the failure that ended the stream, if any."""
    async for event in events:
        if event.WhichOneof("event") == "error":
            return generation_error(event)
        await body.send(_sse(encoder.event(event)))
    return None if encoder.finished is not None else broken_stream()


async def _stream(
    request: web.Request,
    encoder: PartEncoder,
    head: list[Part],
    events: Events,
    headers: dict[str, str],
) -> web.StreamResponse:
    body = SseBody(headers, events)
    try:
        await body.open(request, _sse(head))
        try:
            failure = await _relay(body, encoder, events)
        except grpc.aio.AioRpcError as exc:
            failure = from_rpc(exc)
        except ConnectionResetError:
            raise
        except Exception:
            # The status line has gone out: a bug here can only end the stream in-band.
            log.exception("relaying a generation failed")
            failure = ApiError(500, "internal_server_error", "internal error")
        tail = encoder.end(complete_calls=failure is None)
        if failure is not None:
            tail.append({"type": "error", "error": failure.envelope()["error"]})
        tail.append(encoder.finish(failed=failure is not None))
        await body.end(_sse(tail))
    except ConnectionResetError:
        pass  # the client went away; leaving `generation` cancels the RPC
    return body.response
