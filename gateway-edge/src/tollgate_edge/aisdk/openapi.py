"""The AI SDK protocol's part of ``/openapi.json`` (merged by ``tollgate_edge.openapi``):
its three routes under ``/v1/ai`` (LanguageModelV2) and ``/v3/ai`` (V3: ``finishReason`` as
``{unified, raw}``, nested usage) and the schemas they use. Shapes: docs/ai-sdk.md."""

from __future__ import annotations

from typing import Any, Final

from tollgate_edge.aisdk.versions import SPECS
from tollgate_edge.openapi_schema import IDEMPOTENCY_KEY, sse_event
from tollgate_edge.responses import JSON

Schema = dict[str, Any]

_STRING: Final[Schema] = {"type": "string"}
_NUMBER: Final[Schema] = {"type": "number"}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _header(name: str, description: str, required: bool = True, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": schema or _STRING,
    }


def _errors(*codes: str) -> dict[str, Schema]:
    described = {"description": "The OpenAI envelope; the client maps `type` to its error class"}
    return {
        code: {**described, "content": {JSON: {"schema": _ref("AiSdkError")}}} for code in codes
    }


SCHEMAS: Final[dict[str, Schema]] = {
    "AiSdkError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {
                    "message": _STRING,
                    "type": {
                        "type": "string",
                        "description": "authentication_error, invalid_request_error, "
                        "rate_limit_exceeded, model_not_found, forbidden, internal_server_error, "
                        "insufficient_funds, ...",
                    },
                    "param": {
                        "description": "The field at fault; `{modelId}` for model_not_found",
                        "oneOf": [
                            _STRING,
                            {"type": "object", "properties": {"modelId": _STRING}},
                            {"type": "null"},
                        ],
                    },
                    "code": {"oneOf": [_STRING, {"type": "null"}]},
                },
            }
        },
    },
    "AiSdkModelEntry": {
        "type": "object",
        "required": ["id", "name", "specification"],
        "properties": {
            "id": _STRING,
            "name": _STRING,
            "description": {"oneOf": [_STRING, {"type": "null"}]},
            "pricing": {
                "type": "object",
                "description": "USD per token, decimal strings",
                "required": ["input", "output"],
                "properties": {
                    "input": _STRING,
                    "output": _STRING,
                    "input_cache_read": _STRING,
                    "input_cache_write": _STRING,
                },
            },
            "specification": {
                "type": "object",
                "required": ["specificationVersion", "provider", "modelId"],
                "properties": {
                    "specificationVersion": {"enum": ["v2", "v3"]},
                    "provider": _STRING,
                    "modelId": _STRING,
                },
            },
            "modelType": {"enum": ["language", "embedding", "image"]},
        },
    },
    "AiSdkCallOptions": {
        "type": "object",
        "description": "LanguageModelV2 call options as the AI SDK client sends them",
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "array", "items": {"type": "object"}},
            "maxOutputTokens": {"type": "integer"},
            "temperature": _NUMBER,
            "topP": _NUMBER,
            "topK": _NUMBER,
            "presencePenalty": _NUMBER,
            "frequencyPenalty": _NUMBER,
            "stopSequences": {"type": "array", "items": _STRING},
            "seed": {"type": "integer"},
            "responseFormat": {"type": "object"},
            "tools": {"type": "array", "items": {"type": "object"}},
            "toolChoice": {"type": "object"},
            "providerOptions": {
                "type": "object",
                "description": "`gateway`: routing (order, only, models, sort, has, "
                "zeroDataRetention, disallowPromptTraining, providerTimeouts, user, tags, byok; "
                "docs/routing.md); "
                "`openai.reasoningEffort`, `anthropic.thinking`, `google.thinkingConfig`",
            },
        },
    },
    "AiSdkGenerateResult": {
        "type": "object",
        "required": ["content", "finishReason", "usage", "providerMetadata"],
        "properties": {
            "content": {
                "type": "array",
                "items": {"type": "object", "description": "text, reasoning or tool-call"},
            },
            "finishReason": {
                "description": "V2 (/v1/ai): a string; V3 (/v3/ai): {unified, raw}",
                "oneOf": [
                    {
                        "enum": [
                            "stop",
                            "length",
                            "content-filter",
                            "tool-calls",
                            "error",
                            "other",
                            "unknown",
                        ]
                    },
                    {
                        "type": "object",
                        "required": ["unified"],
                        "properties": {"unified": _STRING, "raw": _STRING},
                    },
                ],
            },
            "usage": {
                "type": "object",
                "description": "V2: inputTokens, outputTokens, totalTokens, reasoningTokens, "
                "cachedInputTokens; V3: inputTokens {total, noCache, cacheRead, cacheWrite}, "
                "outputTokens {total, text, reasoning}",
            },
            "providerMetadata": {
                "type": "object",
                "description": "`gateway`: generationId, cost, marketCost, routing",
            },
            "warnings": {"type": "array", "items": {"type": "object"}},
        },
    },
    "AiSdkStreamPart": {
        "type": "object",
        "description": "A LanguageModelV2 stream part (`stream-start`, `text-delta`, "
        "`finish`, `error`, ...)",
        "required": ["type"],
        "properties": {"type": _STRING},
    },
    "AiSdkEmbeddingResult": {
        "type": "object",
        "required": ["embeddings"],
        "properties": {
            "embeddings": {"type": "array", "items": {"type": "array", "items": _NUMBER}},
            "usage": {"type": "object", "properties": {"tokens": {"type": "integer"}}},
            "providerMetadata": {"type": "object"},
        },
    },
}

_TAGS: Final = ["ai-sdk"]


def paths() -> dict[str, Schema]:
    """The routes under each protocol generation's prefix (``/v1/ai``, ``/v3/ai``)."""
    return {
        path.replace("/v1/ai", spec.prefix): item
        for spec in SPECS
        for path, item in _paths_v1().items()
    }


def _paths_v1() -> dict[str, Schema]:
    return {
        "/v1/ai/config": {
            "get": {
                "summary": "Models for the AI SDK's gateway.getAvailableModels()",
                "tags": _TAGS,
                "responses": {
                    "200": {
                        "description": "Success",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["models"],
                                    "properties": {
                                        "models": {
                                            "type": "array",
                                            "items": _ref("AiSdkModelEntry"),
                                        }
                                    },
                                }
                            }
                        },
                    },
                    **_errors("400", "401"),
                },
            }
        },
        "/v1/ai/language-model": {
            "post": {
                "summary": "AI SDK language model call (LanguageModelV2): JSON, or SSE of stream "
                "parts when `ai-language-model-streaming: true`",
                "tags": _TAGS,
                "parameters": [
                    _header("ai-language-model-id", "The model, e.g. `openai/gpt-4o-mini`"),
                    _header(
                        "ai-language-model-streaming",
                        "`true`: `text/event-stream` of V2 stream parts",
                        required=False,
                        enum=["true", "false"],
                    ),
                    _header("ai-gateway-auth-method", "api-key or oidc", required=False),
                    IDEMPOTENCY_KEY,
                ],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("AiSdkCallOptions")}},
                },
                "responses": {
                    "200": {
                        "description": "The generate result, or the stream of parts",
                        "content": {
                            JSON: {"schema": _ref("AiSdkGenerateResult")},
                            "text/event-stream": {"schema": sse_event(_ref("AiSdkStreamPart"))},
                        },
                    },
                    **_errors("400", "401", "402", "403", "404", "409", "422", "429", "502", "503"),
                },
            }
        },
        "/v1/ai/embedding-model": {
            "post": {
                "summary": "AI SDK embedding model call",
                "tags": _TAGS,
                "parameters": [_header("ai-model-id", "The embedding model"), IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "input": {
                                        "oneOf": [_STRING, {"type": "array", "items": _STRING}]
                                    },
                                    "values": {"type": "array", "items": _STRING},
                                    "providerOptions": {"type": "object"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Success",
                        "content": {JSON: {"schema": _ref("AiSdkEmbeddingResult")}},
                    },
                    **_errors("400", "401", "402", "403", "404", "409", "422", "429", "502", "503"),
                },
            }
        },
    }
