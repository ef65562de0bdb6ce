"""The Anthropic Messages API's part of ``/openapi.json`` (merged by ``tollgate_edge.openapi``):
``/v1/messages`` and ``/v1/messages/count_tokens`` with Anthropic's shapes and error envelope.
What is supported: docs/messages.md."""

from __future__ import annotations

from typing import Any, Final

from tollgate_edge.openapi_schema import IDEMPOTENCY_KEY, IDEMPOTENT_ERRORS
from tollgate_edge.responses import JSON

Schema = dict[str, Any]

_STRING: Final[Schema] = {"type": "string"}
_INTEGER: Final[Schema] = {"type": "integer"}
_OBJECT: Final[Schema] = {"type": "object"}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> Schema:
    return {"content": {JSON: {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Schema]:
    return {
        code: {"description": "Anthropic's error envelope", **_json(_ref("AnthropicError"))}
        for code in codes
    }


SCHEMAS: Final[dict[str, Schema]] = {
    "AnthropicError": {
        "type": "object",
        "required": ["type", "error"],
        "properties": {
            "type": {"const": "error"},
            "error": {
                "type": "object",
                "required": ["type", "message"],
                "properties": {
                    "type": {
                        "type": "string",
                        "description": "invalid_request_error, authentication_error, "
                        "billing_error, permission_error, not_found_error, request_too_large, "
                        "rate_limit_error, api_error, overloaded_error",
                    },
                    "message": _STRING,
                },
            },
        },
    },
    "AnthropicMessageRequest": {
        "type": "object",
        "required": ["model", "max_tokens", "messages"],
        "additionalProperties": False,
        "properties": {
            "model": {
                **_STRING,
                "description": "A catalog model id, e.g. `anthropic/claude-sonnet-4`",
            },
            "max_tokens": {**_INTEGER, "minimum": 1},
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["role", "content"],
                    "properties": {
                        "role": {"enum": ["user", "assistant"]},
                        "content": {
                            "description": "A string or blocks: text, image, document, "
                            "tool_result (user); text, thinking, redacted_thinking, tool_use "
                            "(assistant)",
                            "oneOf": [_STRING, {"type": "array", "items": _OBJECT}],
                        },
                    },
                },
            },
            "system": {"oneOf": [_STRING, {"type": "array", "items": _OBJECT}]},
            "tools": {"type": "array", "items": _OBJECT},
            "tool_choice": _OBJECT,
            "thinking": _OBJECT,
            "temperature": {"type": "number", "minimum": 0, "maximum": 1},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "top_k": {**_INTEGER, "minimum": 1},
            "stop_sequences": {"type": "array", "items": _STRING},
            "metadata": {"type": "object", "properties": {"user_id": _STRING}},
            "stream": {"type": "boolean"},
        },
    },
    "AnthropicMessage": {
        "type": "object",
        "required": ["id", "type", "role", "model", "content", "stop_reason", "usage"],
        "properties": {
            "id": {**_STRING, "description": "The generation id (GET /v1/generation?id=)"},
            "type": {"const": "message"},
            "role": {"const": "assistant"},
            "model": _STRING,
            "content": {
                "type": "array",
                "description": "text, thinking (with signature), redacted_thinking, tool_use",
                "items": _OBJECT,
            },
            "stop_reason": {"enum": ["end_turn", "max_tokens", "tool_use", "refusal"]},
            "stop_sequence": {"type": "null"},
            "usage": {
                "type": "object",
                "properties": {
                    "input_tokens": _INTEGER,
                    "output_tokens": _INTEGER,
                    "cache_creation_input_tokens": _INTEGER,
                    "cache_read_input_tokens": _INTEGER,
                },
            },
        },
    },
}


def paths() -> dict[str, Schema]:
    errors = _errors("400", "401", "402", "403", "404", "413", "429", "500", "502", "503")
    return {
        "/v1/messages": {
            "post": {
                "summary": "Anthropic Messages (JSON, or Anthropic's SSE events with "
                "`stream: true`) on every model of the catalog",
                "tags": ["anthropic"],
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {"required": True, **_json(_ref("AnthropicMessageRequest"))},
                "responses": {
                    "200": {"description": "Success", **_json(_ref("AnthropicMessage"))},
                    **errors,
                    **_errors(*IDEMPOTENT_ERRORS),
                },
            }
        },
        "/v1/messages/count_tokens": {
            "post": {
                "summary": "An upper estimate of a Messages request's input tokens (no "
                "provider is called)",
                "tags": ["anthropic"],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "description": "A Messages request; `max_tokens` and `stream` may "
                            "be left out",
                            "type": "object",
                            "required": ["model", "messages"],
                        }
                    ),
                },
                "responses": {
                    "200": {
                        "description": "Success",
                        **_json(
                            {
                                "type": "object",
                                "required": ["input_tokens"],
                                "properties": {"input_tokens": _INTEGER},
                            }
                        ),
                    },
                    **errors,
                },
            }
        },
    }
