"""``GET /openapi.json``: the OpenAPI 3.1 description of everything the edge serves.

Built once per process from the tables here and in the ``openapi_*`` modules (admin, billing,
components), ``aisdk.openapi``, ``messages.openapi`` and ``openai_responses.openapi``; a test
checks that every route of the app is described and that the document validates. When you add
a route, describe it in the module of its part.
"""

from __future__ import annotations

import functools

import orjson
from aiohttp import web

from tollgate_edge.aisdk import openapi as aisdk_openapi
from tollgate_edge.messages import openapi as messages_openapi
from tollgate_edge.openai_responses import openapi as responses_openapi
from tollgate_edge.openapi_admin import admin_paths
from tollgate_edge.openapi_billing import billing_paths
from tollgate_edge.openapi_components import SCHEMAS
from tollgate_edge.openapi_schema import (
    ERROR_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_ERRORS,
    LIST,
    MODEL_CALL_ERRORS,
    PAGE,
    STRING,
    Schema,
    also_streamed,
    json_content,
    nullable,
    obj,
    op,
    path_param,
    query,
    ref,
)
from tollgate_edge.responses import JSON


def _paths() -> dict[str, Schema]:
    return {
        **admin_paths(),
        "/v1/models": {
            "get": op(
                "Models of the catalog (OpenAI list shape)",
                (
                    "200",
                    obj(
                        {
                            "object": {"const": "list"},
                            "data": {"type": "array", "items": ref("Model")},
                        }
                    ),
                ),
                errors=("401",),
                tags=("openai",),
            )
        },
        "/v1/models/{modelId}": {
            "parameters": [
                {**path_param("modelId"), "description": "`creator/model`, `/` may be sent as %2F"}
            ],
            "get": op(
                "One model", ("200", ref("Model")), errors=("400", "401", "404"), tags=("openai",)
            ),
        },
        "/v1/chat/completions": {
            "post": also_streamed(
                op(
                    "OpenAI Chat Completions (JSON, or SSE with `stream: true`)",
                    ("200", ref("ChatCompletion")),
                    body=ref("ChatCompletionRequest"),
                    params=[IDEMPOTENCY_KEY],
                    errors=(*MODEL_CALL_ERRORS, *IDEMPOTENT_ERRORS),
                    tags=("openai",),
                ),
                {"anyOf": [ref("ChatCompletionChunk"), ref("Error")]},
            )
        },
        "/v1/embeddings": {
            "post": op(
                "OpenAI Embeddings (floats, or base64 of little-endian float32)",
                ("200", ref("EmbeddingList")),
                body=ref("EmbeddingRequest"),
                params=[IDEMPOTENCY_KEY],
                errors=(*MODEL_CALL_ERRORS, *IDEMPOTENT_ERRORS),
                tags=("openai",),
            )
        },
        **billing_paths(),
        **{
            path: {
                "get": op(
                    summary,
                    ("200", None),
                    params=params,
                    errors=("400", "404"),
                    public=True,
                    tags=("dashboard",),
                )
            }
            for path, summary, params in (
                ("/dashboard", "The dashboard page (sign in with an API key in the page)", None),
                ("/dashboard/", "The dashboard page", None),
                (
                    "/dashboard/{name}",
                    "The dashboard's own script and style sheet",
                    [{"name": "name", "in": "path", "required": True, "schema": STRING}],
                ),
                (
                    "/dashboard/vendor/{name}",
                    "The dashboard's charting library (Chart.js, from npm)",
                    [{"name": "name", "in": "path", "required": True, "schema": STRING}],
                ),
            )
        },
        "/v1/activity": {
            "get": op(
                "The team's activity log, newest first",
                ("200", LIST),
                params=[
                    {"name": name, "in": "query", "schema": STRING}
                    for name in ("type", "actorId", "projectId", "since", "until", "cursor")
                ]
                + [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                errors=("400", "401"),
                tags=("activity",),
            )
        },
        "/v1/observability": {
            "get": op(
                "Requests, TTFT, tokens or spend by model over time (team or project scope); "
                "without `since`, the window ending at `until` (default now) is 6 hours for "
                "`granularity=minute`, 7 days for `hour` (the default), 28 days for `day`",
                ("200", {"type": "object"}),
                params=[
                    {"name": name, "in": "query", "schema": STRING}
                    for name in ("metric", "scope", "projectId", "since", "until", "granularity")
                ],
                errors=("400", "401", "404"),
                tags=("activity",),
            )
        },
        "/v1/generation": {
            "get": op(
                "A generation's cost and usage (AI SDK shape)",
                ("200", obj({"data": {"type": "object"}}, ["data"])),
                params=[{"name": "id", "in": "query", "required": True, "schema": STRING}],
                errors=("400", "401", "404"),
                tags=("lookup",),
            )
        },
        "/v1/requests": {
            "get": op(
                "The request log, newest first (never prompt or completion text)",
                (
                    "200",
                    obj(
                        {
                            "data": {"type": "array", "items": {"type": "object"}},
                            "nextCursor": nullable(STRING),
                        }
                    ),
                ),
                params=[
                    *PAGE,
                    query("model", STRING),
                    query("provider", STRING),
                    query("projectId", STRING),
                ],
                errors=("400", "401"),
                tags=("lookup",),
            )
        },
        "/healthz": {
            "get": op(
                "Liveness", ("200", {"type": "object"}), errors=(), public=True, tags=("health",)
            )
        },
        "/readyz": {
            "get": op(
                "Readiness (every dependency answers)",
                ("200", {"type": "object"}),
                errors=(),
                public=True,
                tags=("health",),
            )
        },
        "/openapi.json": {
            "get": op(
                "This document", ("200", {"type": "object"}), errors=(), public=True, tags=("meta",)
            )
        },
    }


@functools.cache
def document() -> bytes:
    """The OpenAPI 3.1 document, serialised once."""
    return orjson.dumps(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Tollgate",
                "version": "1",
                "description": "A self-hostable AI gateway: the OpenAI-compatible API, the "
                "Anthropic Messages API (/v1/messages), the OpenAI Responses API (/v1/responses), "
                "the AI SDK's gateway protocol (/v1/ai, /v3/ai) and the administration API (teams, members, projects, API keys).",
            },
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}, {"apiKey": []}],
            "paths": _paths()
            | aisdk_openapi.paths()
            | messages_openapi.paths()
            | responses_openapi.paths(),
            "components": {
                "schemas": SCHEMAS
                | aisdk_openapi.SCHEMAS
                | messages_openapi.SCHEMAS
                | responses_openapi.SCHEMAS,
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "API key, or an OIDC token (Tollgate's: POST /v1/oidc/token)",
                    },
                    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                },
                "responses": {
                    f"E{code}": {"description": text, **json_content(ref("Error"))}
                    for code, text in ERROR_STATUSES.items()
                },
            },
        }
    )


async def openapi_document(request: web.Request) -> web.Response:
    return web.Response(body=document(), content_type=JSON)
