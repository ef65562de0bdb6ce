"""The component schemas of ``/openapi.json`` (the shapes the routes answer with)."""

from __future__ import annotations

from typing import Final

from tollgate_edge.openapi_schema import ROLE, STRING, TIME, Schema, nullable, obj

_TIMEOUTS_MS: Final[Schema] = {
    "type": "object",
    "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 600000},
}
# ``providerOptions``: ``gateway`` is routing (docs/routing.md); any other key is that
# provider's own options.
_PROVIDER_OPTIONS: Final[Schema] = {
    "type": "object",
    "properties": {
        "gateway": {
            "type": "object",
            "properties": {
                "order": {"type": "array", "items": STRING},
                "only": {"type": "array", "items": STRING},
                "models": {"type": "array", "items": STRING},
                "sort": {
                    "type": "string",
                    "enum": ["cost", "ttft", "tps"],
                    "description": "Rank the providers not in `order` by estimated cost, "
                    "observed time to first byte or observed tokens per second.",
                },
                "has": {
                    "type": "array",
                    "items": STRING,
                    "description": "Capability tags the model must have (`!tag`: must not): "
                    "reasoning, tool-use, vision, structured-output, implicit-caching, "
                    "explicit-caching, file-input, image-generation.",
                },
                "zeroDataRetention": {
                    "type": "boolean",
                    "description": "Only providers the catalog marks zero data retention.",
                },
                "disallowPromptTraining": {
                    "type": "boolean",
                    "description": "Only providers the catalog marks as not training on prompts.",
                },
                "providerTimeouts": {
                    "type": "object",
                    "description": "Milliseconds to the first byte per provider before the "
                    "next candidate is tried.",
                    "properties": {"byok": _TIMEOUTS_MS, "system": _TIMEOUTS_MS},
                    "additionalProperties": False,
                },
                "byok": {"type": "object"},
                "user": STRING,
                "tags": {"type": "array", "items": STRING},
            },
        }
    },
}

# USD per token (``image``: per image) as decimal strings, as in Vercel's model list.
_PRICE: Final[Schema] = {"type": "string", "description": "USD, a decimal string"}
# A long-context tier: ``min`` is the first prompt size (input tokens) it prices, ``max`` the
# first it no longer does (absent on the last tier).
_PRICE_TIERS: Final[Schema] = {
    "type": "array",
    "items": obj(
        {
            "cost": _PRICE,
            "min": {"type": "integer", "minimum": 0},
            "max": {"type": "integer", "minimum": 1},
        },
        ["cost", "min"],
    ),
}
_PRICES: Final = ("input", "output", "input_cache_read", "input_cache_write")
_PRICING: Final[Schema] = obj(
    {
        **{name: _PRICE for name in (*_PRICES, "image")},
        **{f"{name}_tiers": _PRICE_TIERS for name in _PRICES},
    }
)

_API_KEY: Final[Schema] = {
    "id": {"type": "string", "pattern": "^key_"},
    "prefix": {"type": "string", "description": "the key's first 12 characters"},
    "name": STRING,
    "teamId": STRING,
    "projectId": nullable(STRING),
    "userId": STRING,
    "createdAt": TIME,
    "expiresAt": nullable(TIME),
    "revokedAt": nullable(TIME),
    "lastUsedAt": nullable(TIME),
}
_API_KEY_REQUIRED: Final = [
    "id",
    "prefix",
    "name",
    "teamId",
    "projectId",
    "userId",
    "createdAt",
    "expiresAt",
]

SCHEMAS: Final[dict[str, Schema]] = {
    "Error": obj(
        {
            "error": obj(
                {
                    "message": STRING,
                    "type": STRING,
                    "param": nullable(STRING),
                    "code": nullable(STRING),
                },
                ["message", "type", "param", "code"],
            )
        },
        ["error"],
    ),
    "Me": obj(
        {
            "user": {
                **nullable(obj({"id": STRING, "email": STRING}, ["id", "email"])),
                "description": "null for an OIDC project token",
            },
            "team": obj({"id": STRING, "slug": STRING, "name": STRING}, ["id", "slug", "name"]),
            "role": ROLE,
            "projectId": nullable(STRING),
            "keyId": nullable(STRING),
            "authMethod": {"type": "string", "enum": ["api-key", "oidc"]},
            "operator": {
                "type": "boolean",
                "description": "whether the caller's user is an operator of the installation",
            },
        },
        ["user", "team", "role", "projectId", "keyId", "authMethod", "operator"],
    ),
    "Team": obj(
        {
            "id": {"type": "string", "pattern": "^team_"},
            "slug": STRING,
            "name": STRING,
            "createdAt": TIME,
            "role": {**ROLE, "description": "the caller's role in this team"},
        },
        ["id", "slug", "name", "createdAt", "role"],
    ),
    "Member": obj(
        {
            "userId": {"type": "string", "pattern": "^user_"},
            "email": STRING,
            "role": ROLE,
            "joinedAt": TIME,
        },
        ["userId", "email", "role", "joinedAt"],
    ),
    "Project": obj(
        {
            "id": {"type": "string", "pattern": "^prj_"},
            "teamId": STRING,
            "name": STRING,
            "createdAt": TIME,
        },
        ["id", "teamId", "name", "createdAt"],
    ),
    "ApiKey": obj(_API_KEY, _API_KEY_REQUIRED),
    "CreatedApiKey": obj(
        {**_API_KEY, "key": {"type": "string", "description": "shown only here"}},
        [*_API_KEY_REQUIRED, "key"],
    ),
    "ByokCredential": obj(
        {
            "provider": STRING,
            "enabled": {"type": "boolean"},
            "hint": {**nullable(STRING), "description": "the key's last 4 characters"},
            "createdAt": TIME,
            "updatedAt": TIME,
            "lastTest": nullable(
                obj(
                    {
                        "ok": {"type": "boolean"},
                        "statusCode": {"type": "integer"},
                        "message": STRING,
                        "at": TIME,
                    },
                    ["ok", "statusCode", "message", "at"],
                )
            ),
        },
        ["provider", "enabled", "hint", "createdAt", "updatedAt", "lastTest"],
    ),
    "OidcIssuer": obj(
        {
            "id": {"type": "string", "pattern": "^iss_"},
            "issuer": STRING,
            "jwksUri": nullable(STRING),
            "jwks": nullable({"type": "object"}),
            "audience": STRING,
            "claimMappings": {
                "type": "object",
                "description": "the claim holding the team's id or slug, and the project's id",
                "properties": {"teamId": STRING, "teamSlug": STRING, "projectId": STRING},
                "additionalProperties": False,
            },
            "createdAt": TIME,
        },
        ["id", "issuer", "jwksUri", "jwks", "audience", "claimMappings", "createdAt"],
    ),
    "Model": {
        "type": "object",
        "properties": {
            "id": STRING,
            "object": {"const": "model"},
            "created": {"type": "integer"},
            "owned_by": STRING,
            "name": STRING,
            "description": STRING,
            "context_window": {"type": "integer"},
            "max_tokens": {"type": "integer"},
            "type": STRING,
            "tags": {"type": "array", "items": STRING},
            "pricing": _PRICING,
        },
        "required": ["id", "object"],
    },
    "ChatCompletionRequest": {
        "type": "object",
        "description": "OpenAI Chat Completions request; `model` is `creator/model-name`.",
        "properties": {
            "model": STRING,
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
            "providerOptions": _PROVIDER_OPTIONS,
            "models": {"type": "array", "items": STRING},
        },
        "required": ["model", "messages"],
    },
    "EmbeddingRequest": {
        "type": "object",
        "description": "OpenAI Embeddings request; `model` is an embedding model `creator/model-name`.",
        "properties": {
            "model": STRING,
            "input": {
                "description": "A string, strings, token ids, or arrays of token ids.",
                "oneOf": [
                    STRING,
                    {"type": "array", "items": STRING},
                    {"type": "array", "items": {"type": "integer"}},
                    {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                ],
            },
            "dimensions": {"type": "integer", "minimum": 1, "maximum": 16384},
            "encoding_format": {"type": "string", "enum": ["float", "base64"]},
            "user": STRING,
            "providerOptions": _PROVIDER_OPTIONS,
        },
        "required": ["model", "input"],
    },
    "EmbeddingList": {
        "type": "object",
        "description": "OpenAI embeddings list, plus top-level `providerMetadata.gateway`.",
        "properties": {
            "object": {"type": "string", "enum": ["list"]},
            "data": {"type": "array", "items": {"type": "object"}},
            "model": STRING,
            "usage": {"type": "object"},
            "providerMetadata": {"type": "object"},
        },
        "required": ["object", "data", "model", "usage"],
    },
    "ChatCompletionChunk": {
        "type": "object",
        "description": "One event of a streamed chat completion (`stream: true`); the last "
        "carries `usage` with `stream_options.include_usage`, a failure after the first byte "
        "is an `Error` event.",
        "properties": {
            "id": STRING,
            "object": {"const": "chat.completion.chunk"},
            "created": {"type": "integer"},
            "model": STRING,
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": nullable({"type": "object"}),
        },
        "required": ["id", "object", "choices"],
    },
    "ChatCompletion": {
        "type": "object",
        "description": (
            "OpenAI chat completion; `id` is the generation id (`gen_<ULID>`). With "
            "`modalities` including `image`, `choices[].message.images` holds the generated "
            "images (`{type: image_url, image_url: {url: <data URI>}}`)."
        ),
        "properties": {
            "id": STRING,
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": STRING,
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": {"type": "object"},
        },
        "required": ["id", "object", "choices"],
    },
}
