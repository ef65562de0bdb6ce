"""``GET /openapi.json``: the OpenAPI 3.1 description of everything the edge serves.

Built once per process from the tables below; a test checks that every route of the app is
here and that the document validates. When you add a route, describe it here.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import orjson
from aiohttp import web

from tollgate_edge.aisdk import openapi as aisdk_openapi
from tollgate_edge.responses import JSON

Schema = dict[str, Any]

_ERROR_STATUSES: Final = {
    "400": "Invalid request: malformed JSON, an unknown field, a wrong type (`param` names it)",
    "401": "Missing or invalid credential",
    "402": "Insufficient funds, or a budget used up for its period (`budget_exceeded`)",
    "403": "The caller's role may not do this",
    "404": "Not found — also anything in a team the caller does not belong to",
    "409": "Conflict (slug taken, already a member, last owner, last member)",
    "413": "Request body too large",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


_STRING: Final[Schema] = {"type": "string"}
_TIME: Final[Schema] = {"type": "string", "format": "date-time"}
_ROLE: Final[Schema] = {"type": "string", "enum": ["owner", "member", "viewer"]}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required is not None:
        schema["required"] = required
    return schema


SCHEMAS: Final[dict[str, Schema]] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "message": _STRING,
                    "type": _STRING,
                    "param": _nullable(_STRING),
                    "code": _nullable(_STRING),
                },
                ["message", "type", "param", "code"],
            )
        },
        ["error"],
    ),
    "Me": _object(
        {
            "user": {
                **_nullable(_object({"id": _STRING, "email": _STRING}, ["id", "email"])),
                "description": "null for an OIDC project token",
            },
            "team": _object(
                {"id": _STRING, "slug": _STRING, "name": _STRING}, ["id", "slug", "name"]
            ),
            "role": _ROLE,
            "projectId": _nullable(_STRING),
            "keyId": _nullable(_STRING),
            "authMethod": {"type": "string", "enum": ["api-key", "oidc"]},
        },
        ["user", "team", "role", "projectId", "keyId", "authMethod"],
    ),
    "Team": _object(
        {
            "id": {"type": "string", "pattern": "^team_"},
            "slug": _STRING,
            "name": _STRING,
            "createdAt": _TIME,
            "role": {**_ROLE, "description": "the caller's role in this team"},
        },
        ["id", "slug", "name", "createdAt", "role"],
    ),
    "Member": _object(
        {
            "userId": {"type": "string", "pattern": "^user_"},
            "email": _STRING,
            "role": _ROLE,
            "joinedAt": _TIME,
        },
        ["userId", "email", "role", "joinedAt"],
    ),
    "Project": _object(
        {
            "id": {"type": "string", "pattern": "^prj_"},
            "teamId": _STRING,
            "name": _STRING,
            "createdAt": _TIME,
        },
        ["id", "teamId", "name", "createdAt"],
    ),
    "ApiKey": _object(
        {
            "id": {"type": "string", "pattern": "^key_"},
            "prefix": {"type": "string", "description": "the key's first 12 characters"},
            "name": _STRING,
            "teamId": _STRING,
            "projectId": _nullable(_STRING),
            "userId": _STRING,
            "createdAt": _TIME,
            "expiresAt": _nullable(_TIME),
            "revokedAt": _nullable(_TIME),
            "lastUsedAt": _nullable(_TIME),
        },
        ["id", "prefix", "name", "teamId", "projectId", "userId", "createdAt", "expiresAt"],
    ),
    "CreatedApiKey": {
        "allOf": [
            {"$ref": "#/components/schemas/ApiKey"},
            {
                "type": "object",
                "properties": {"key": {"type": "string", "description": "shown only here"}},
                "required": ["key"],
            },
        ]
    },
    "ByokCredential": _object(
        {
            "provider": _STRING,
            "enabled": {"type": "boolean"},
            "hint": {**_nullable(_STRING), "description": "the key's last 4 characters"},
            "createdAt": _TIME,
            "updatedAt": _TIME,
            "lastTest": _nullable(
                _object(
                    {
                        "ok": {"type": "boolean"},
                        "statusCode": {"type": "integer"},
                        "message": _STRING,
                        "at": _TIME,
                    },
                    ["ok", "statusCode", "message", "at"],
                )
            ),
        },
        ["provider", "enabled", "hint", "createdAt", "updatedAt", "lastTest"],
    ),
    "OidcIssuer": _object(
        {
            "id": {"type": "string", "pattern": "^iss_"},
            "issuer": _STRING,
            "jwksUri": _nullable(_STRING),
            "jwks": _nullable({"type": "object"}),
            "audience": _STRING,
            "claimMappings": {
                "type": "object",
                "description": "the claim holding the team's id or slug, and the project's id",
                "properties": {"teamId": _STRING, "teamSlug": _STRING, "projectId": _STRING},
                "additionalProperties": False,
            },
            "createdAt": _TIME,
        },
        ["id", "issuer", "jwksUri", "jwks", "audience", "claimMappings", "createdAt"],
    ),
    "Model": {
        "type": "object",
        "properties": {
            "id": _STRING,
            "object": {"const": "model"},
            "created": {"type": "integer"},
            "owned_by": _STRING,
            "name": _STRING,
            "description": _STRING,
            "context_window": {"type": "integer"},
            "max_tokens": {"type": "integer"},
            "type": _STRING,
            "tags": {"type": "array", "items": _STRING},
            "pricing": {"type": "object", "additionalProperties": _STRING},
        },
        "required": ["id", "object"],
    },
    "ChatCompletionRequest": {
        "type": "object",
        "description": "OpenAI Chat Completions request; `model` is `creator/model-name`.",
        "properties": {
            "model": _STRING,
            "messages": {
                "type": "array",
                "items": {"type": "object"},
                "minItems": 1,
                "description": (
                    "A message's `content` is a string or an array of parts: `text`, "
                    "`image_url` (`{url, detail}`: an https URL or a base64 data URI) and `file` "
                    "(`{data, media_type, filename}` or `{file_data: <data URI>, filename}`, e.g. "
                    "a PDF). See docs/attachments.md."
                ),
            },
            "modalities": {
                "type": "array",
                "items": {"type": "string", "enum": ["text", "image"]},
                "description": (
                    'Output wanted: `["text", "image"]` or `["image"]` on an image '
                    "model; images come back in `message.images` (`delta.images` when streaming)."
                ),
            },
            "stream": {"type": "boolean"},
            "stream_options": {
                "type": "object",
                "properties": {"include_usage": {"type": "boolean"}},
            },
            "providerOptions": {"type": "object"},
            "models": {"type": "array", "items": _STRING},
        },
        "required": ["model", "messages"],
    },
    "EmbeddingRequest": {
        "type": "object",
        "description": "OpenAI Embeddings request; `model` is an embedding model `creator/model-name`.",
        "properties": {
            "model": _STRING,
            "input": {
                "description": "A string, strings, token ids, or arrays of token ids.",
                "oneOf": [
                    _STRING,
                    {"type": "array", "items": _STRING},
                    {"type": "array", "items": {"type": "integer"}},
                    {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                ],
            },
            "dimensions": {"type": "integer", "minimum": 1},
            "encoding_format": {"type": "string", "enum": ["float", "base64"]},
            "user": _STRING,
            "providerOptions": {"type": "object"},
        },
        "required": ["model", "input"],
    },
    "EmbeddingList": {
        "type": "object",
        "description": "OpenAI embeddings list, plus top-level `providerMetadata.gateway`.",
        "properties": {
            "object": {"type": "string", "enum": ["list"]},
            "data": {"type": "array", "items": {"type": "object"}},
            "model": _STRING,
            "usage": {"type": "object"},
            "providerMetadata": {"type": "object"},
        },
        "required": ["object", "data", "model", "usage"],
    },
    "ChatCompletion": {
        "type": "object",
        "description": (
            "OpenAI chat completion; `id` is the generation id (`gen_<ULID>`). With "
            "`modalities` including `image`, `choices[].message.images` holds the generated "
            "images (`{type: image_url, image_url: {url: <data URI>}}`)."
        ),
        "properties": {
            "id": _STRING,
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": _STRING,
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": {"type": "object"},
        },
        "required": ["id", "object", "choices"],
    },
}


def _list_of(item: str) -> Schema:
    return _object(
        {"data": {"type": "array", "items": _ref(item)}, "nextCursor": _nullable(_STRING)},
        ["data", "nextCursor"],
    )


def _json(schema: Schema) -> Schema:
    return {"content": {JSON: {"schema": schema}}}


LIST: Final[Schema] = _object(
    {"data": {"type": "array", "items": {"type": "object"}}, "nextCursor": _nullable(_STRING)},
    ["data", "nextCursor"],
)


def _optional_body(operation: Schema) -> Schema:
    """``operation`` with a request body that may be left out."""
    return {**operation, "requestBody": {**operation["requestBody"], "required": False}}


def _op(
    summary: str,
    ok: tuple[str, Schema | None],
    *,
    body: Schema | None = None,
    params: list[Schema] | None = None,
    errors: tuple[str, ...] = ("400", "401", "403", "404"),
    public: bool = False,
    tags: tuple[str, ...] = (),
) -> Schema:
    status, schema = ok
    ok_response: Schema = {"description": "Success"}
    if schema is not None:
        ok_response.update(_json(schema))
    operation: Schema = {
        "summary": summary,
        "responses": {
            status: ok_response,
            **{code: {"$ref": f"#/components/responses/E{code}"} for code in errors},
        },
    }
    if tags:
        operation["tags"] = list(tags)
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(body)}
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def _also_created(operation: Schema) -> Schema:
    """An upsert: 201 when it created the object, 200 when it replaced it."""
    operation["responses"]["201"] = operation["responses"]["200"]
    return operation


def _path_param(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": _STRING}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    param: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


_PAGE: Final = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    _query("cursor", _STRING, "`nextCursor` of the previous page"),
]
_TEAM = _path_param("teamId")


def _paths() -> dict[str, Schema]:
    from tollgate_edge.openapi_billing import billing_paths  # it builds on the helpers here

    team_body = _object({"slug": _STRING, "name": _STRING}, ["slug", "name"])
    admin = ("admin",)
    return {
        "/v1/me": {"get": _op("Who is calling", ("200", _ref("Me")), tags=admin)},
        "/v1/teams": {
            "get": _op(
                "Teams the caller's user belongs to",
                ("200", _list_of("Team")),
                params=_PAGE,
                tags=admin,
            ),
            "post": _op(
                "Create a team (the caller becomes its owner)",
                ("201", _ref("Team")),
                body=team_body,
                errors=("400", "401", "403", "409", "413"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}": {
            "parameters": [_TEAM],
            "get": _op("A team", ("200", _ref("Team")), tags=admin),
            "patch": _op(
                "Rename a team or change its slug (owner)",
                ("200", _ref("Team")),
                body=_object({"slug": _STRING, "name": _STRING}),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
            "delete": _op("Delete a team with its keys (owner)", ("204", None), tags=admin),
        },
        "/v1/teams/{teamId}/members": {
            "parameters": [_TEAM],
            "get": _op("Members of a team", ("200", _list_of("Member")), params=_PAGE, tags=admin),
            "post": _op(
                "Add a member (owner); an unknown email creates the user",
                ("201", _ref("Member")),
                body=_object({"email": _STRING, "role": _ROLE}, ["email", "role"]),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/members/{userId}": {
            "parameters": [_TEAM, _path_param("userId")],
            "patch": _op(
                "Change a member's role (owner)",
                ("200", _ref("Member")),
                body=_object({"role": _ROLE}, ["role"]),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
            "delete": _op(
                "Remove a member (owner); your own user id leaves the team",
                ("204", None),
                errors=("400", "401", "403", "404", "409"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/projects": {
            "parameters": [_TEAM],
            "get": _op(
                "Projects of a team", ("200", _list_of("Project")), params=_PAGE, tags=admin
            ),
            "post": _op(
                "Create a project (owner)",
                ("201", _ref("Project")),
                body=_object({"name": _STRING}, ["name"]),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/projects/{projectId}": {
            "parameters": [_TEAM, _path_param("projectId")],
            "delete": _op(
                "Delete a project and revoke its keys (owner)", ("204", None), tags=admin
            ),
        },
        "/v1/api-keys": {
            "get": _op(
                "API keys: an owner sees the team's, others their own",
                ("200", _list_of("ApiKey")),
                params=[
                    *_PAGE,
                    _query("includeRevoked", {"type": "boolean", "default": False}),
                    _query("teamId", _STRING, "another team of the caller's user"),
                ],
                tags=admin,
            ),
            "post": _op(
                "Create an API key; the key is in this answer only",
                ("201", _ref("CreatedApiKey")),
                body=_object(
                    {
                        "name": _STRING,
                        "teamId": _nullable(_STRING),
                        "projectId": _nullable(_STRING),
                        "userId": _nullable(
                            {**_STRING, "description": "another member (owner only)"}
                        ),
                        "expiresAt": _nullable(_TIME),
                    },
                    ["name"],
                ),
                tags=admin,
            ),
        },
        "/v1/api-keys/{keyId}": {
            "parameters": [_path_param("keyId")],
            "delete": _op(
                "Revoke an API key (refused everywhere within 1 s)", ("204", None), tags=admin
            ),
        },
        "/v1/byok": {
            "get": _op(
                "The team's BYOK credentials (never the secret)",
                ("200", _list_of("ByokCredential")),
                params=[_query("teamId", _STRING, "another team of the caller's user")],
                tags=admin,
            )
        },
        "/v1/byok/{provider}": {
            "parameters": [
                {**_path_param("provider"), "description": "a provider slug, e.g. `openai`"},
                _query("teamId", _STRING, "another team of the caller's user"),
            ],
            "put": _also_created(
                _op(
                    "Add (201) or replace (200) the credential for a provider (owner)",
                    ("200", _ref("ByokCredential")),
                    body=_object(
                        {
                            "credentials": {
                                "type": "object",
                                "properties": {"apiKey": _STRING},
                                "required": ["apiKey"],
                                "additionalProperties": _STRING,
                            },
                            "enabled": {"type": "boolean"},
                        },
                        ["credentials"],
                    ),
                    errors=("400", "401", "403", "404", "413"),
                    tags=admin,
                ),
            ),
            "patch": _op(
                "Enable or disable the credential (owner)",
                ("200", _ref("ByokCredential")),
                body=_object({"enabled": {"type": "boolean"}}, ["enabled"]),
                tags=admin,
            ),
            "delete": _op("Remove the credential (owner)", ("204", None), tags=admin),
        },
        "/v1/byok/{provider}/test": {
            "parameters": [
                {**_path_param("provider"), "description": "a provider slug, e.g. `openai`"},
                _query("teamId", _STRING, "another team of the caller's user"),
            ],
            "post": _optional_body(
                _op(
                    "Test a credential with a minimal real request to the provider through the "
                    "router (owner): the credentials given, else the stored one (its `lastTest` is "
                    "recorded). A provider's refusal is `ok: false` with its status, not an error",
                    (
                        "200",
                        _object(
                            {
                                "ok": {"type": "boolean"},
                                "statusCode": {
                                    "type": "integer",
                                    "description": "the provider's HTTP status (0: no answer)",
                                },
                                "message": _STRING,
                                "request": {
                                    "type": "object",
                                    "description": "what was sent (never the credential)",
                                },
                                "response": {"type": "object", "description": "what came back"},
                            },
                            ["ok", "statusCode", "message", "request", "response"],
                        ),
                    ),
                    body=_object(
                        {
                            "credentials": {
                                "type": "object",
                                "description": "to try before saving; absent: the stored one",
                                "properties": {"apiKey": _STRING},
                                "required": ["apiKey"],
                                "additionalProperties": _STRING,
                            }
                        }
                    ),
                    errors=("400", "401", "403", "404", "413"),
                    tags=admin,
                )
            ),
        },
        "/v1/oidc/token": {
            "post": _op(
                "A 12-hour OIDC token for a project (owners and members)",
                (
                    "200",
                    _object({"token": _STRING, "expiresAt": _TIME}, ["token", "expiresAt"]),
                ),
                body=_object({"projectId": _STRING, "teamId": _nullable(_STRING)}, ["projectId"]),
                tags=admin,
            )
        },
        "/v1/oidc/issuers": {
            "parameters": [_query("teamId", _STRING, "another team of the caller's user")],
            "get": _op("Trusted external issuers", ("200", _list_of("OidcIssuer")), tags=admin),
            "post": _op(
                "Trust an external issuer (owner)",
                ("201", _ref("OidcIssuer")),
                body=_object(
                    {
                        "issuer": _STRING,
                        "jwksUri": _nullable(_STRING),
                        "jwks": _nullable({"type": "object"}),
                        "audience": _STRING,
                        "claimMappings": {"type": "object"},
                    },
                    ["issuer", "audience", "claimMappings"],
                ),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
        },
        "/v1/oidc/issuers/{issuerId}": {
            "parameters": [
                _path_param("issuerId"),
                _query("teamId", _STRING, "another team of the caller's user"),
            ],
            "delete": _op("Stop trusting an issuer (owner)", ("204", None), tags=admin),
        },
        "/.well-known/openid-configuration": {
            "get": _op(
                "OpenID discovery of Tollgate's OIDC tokens",
                ("200", {"type": "object"}),
                errors=(),
                public=True,
                tags=("oidc",),
            )
        },
        "/.well-known/jwks.json": {
            "get": _op(
                "The public keys that verify Tollgate's OIDC tokens",
                ("200", {"type": "object"}),
                errors=(),
                public=True,
                tags=("oidc",),
            )
        },
        "/v1/models": {
            "get": _op(
                "Models of the catalog (OpenAI list shape)",
                (
                    "200",
                    _object(
                        {
                            "object": {"const": "list"},
                            "data": {"type": "array", "items": _ref("Model")},
                        }
                    ),
                ),
                errors=("401",),
                tags=("openai",),
            )
        },
        "/v1/models/{modelId}": {
            "parameters": [
                {**_path_param("modelId"), "description": "`creator/model`, `/` may be sent as %2F"}
            ],
            "get": _op(
                "One model", ("200", _ref("Model")), errors=("401", "404"), tags=("openai",)
            ),
        },
        "/v1/chat/completions": {
            "post": _op(
                "OpenAI Chat Completions (JSON, or SSE with `stream: true`)",
                ("200", _ref("ChatCompletion")),
                body=_ref("ChatCompletionRequest"),
                errors=("400", "401", "403", "404", "413"),
                tags=("openai",),
            )
        },
        "/v1/embeddings": {
            "post": _op(
                "OpenAI Embeddings (floats, or base64 of little-endian float32)",
                ("200", _ref("EmbeddingList")),
                body=_ref("EmbeddingRequest"),
                errors=("400", "401", "403", "404", "413"),
                tags=("openai",),
            )
        },
        **billing_paths(),
        **{
            path: {
                "get": _op(
                    summary,
                    ("200", None),
                    params=params,
                    errors=("404",),
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
                    [{"name": "name", "in": "path", "required": True, "schema": _STRING}],
                ),
                (
                    "/dashboard/vendor/{name}",
                    "The dashboard's charting library (Chart.js, from npm)",
                    [{"name": "name", "in": "path", "required": True, "schema": _STRING}],
                ),
            )
        },
        "/v1/activity": {
            "get": _op(
                "The team's activity log, newest first",
                ("200", LIST),
                params=[
                    {"name": name, "in": "query", "schema": _STRING}
                    for name in ("type", "actorId", "projectId", "since", "until", "cursor")
                ]
                + [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                errors=("400", "401"),
                tags=("activity",),
            )
        },
        "/v1/observability": {
            "get": _op(
                "Requests, TTFT, tokens or spend by model over time (team or project scope)",
                ("200", {"type": "object"}),
                params=[
                    {"name": name, "in": "query", "schema": _STRING}
                    for name in ("metric", "scope", "projectId", "since", "until", "granularity")
                ],
                errors=("400", "401", "404"),
                tags=("activity",),
            )
        },
        "/v1/generation": {
            "get": _op(
                "A generation's cost and usage (AI SDK shape)",
                ("200", _object({"data": {"type": "object"}}, ["data"])),
                params=[{"name": "id", "in": "query", "required": True, "schema": _STRING}],
                errors=("400", "401", "404"),
                tags=("lookup",),
            )
        },
        "/v1/requests": {
            "get": _op(
                "The request log, newest first (never prompt or completion text)",
                (
                    "200",
                    _object(
                        {
                            "data": {"type": "array", "items": {"type": "object"}},
                            "nextCursor": _nullable(_STRING),
                        }
                    ),
                ),
                params=[
                    *_PAGE,
                    _query("model", _STRING),
                    _query("provider", _STRING),
                    _query("projectId", _STRING),
                ],
                errors=("400", "401"),
                tags=("lookup",),
            )
        },
        "/healthz": {
            "get": _op(
                "Liveness", ("200", {"type": "object"}), errors=(), public=True, tags=("health",)
            )
        },
        "/readyz": {
            "get": _op(
                "Readiness (every dependency answers)",
                ("200", {"type": "object"}),
                errors=(),
                public=True,
                tags=("health",),
            )
        },
        "/openapi.json": {
            "get": _op(
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
                "description": "A self-hostable AI gateway: the OpenAI-compatible API, the AI "
                "SDK's gateway protocol (/v1/ai, /v3/ai) and the administration API (teams, "
                "members, projects, API keys).",
            },
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}, {"apiKey": []}],
            "paths": _paths() | aisdk_openapi.paths(),
            "components": {
                "schemas": SCHEMAS | aisdk_openapi.SCHEMAS,
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "API key, or an OIDC token (Tollgate's: POST /v1/oidc/token)",
                    },
                    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                },
                "responses": {
                    f"E{code}": {"description": text, **_json(_ref("Error"))}
                    for code, text in _ERROR_STATUSES.items()
                },
            },
        }
    )


async def openapi_document(request: web.Request) -> web.Response:
    return web.Response(body=document(), content_type=JSON)
