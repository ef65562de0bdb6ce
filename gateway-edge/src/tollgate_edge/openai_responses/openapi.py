"""The Responses API's part of ``/openapi.json`` (merged by ``tollgate_edge.openapi``):
``/v1/responses`` and ``/v1/responses/{response_id}``, with OpenAI's shapes and error envelope.
What is supported: docs/responses.md."""

from __future__ import annotations

from typing import Any, Final

from tollgate_edge.openai_responses.request import INCLUDES
from tollgate_edge.openai_responses.tools import DROPPED_TOOLS
from tollgate_edge.openapi_schema import (
    EVENT_STREAM,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_ERRORS,
    MODEL_CALL_ERRORS,
    STRING,
    op,
    ref,
)

Schema = dict[str, Any]

_INTEGER: Final[Schema] = {"type": "integer"}
_OBJECT: Final[Schema] = {"type": "object"}
_NUMBER: Final[Schema] = {"type": "number"}

SCHEMAS: Final[dict[str, Schema]] = {
    "ResponseRequest": {
        "type": "object",
        "required": ["model", "input"],
        "additionalProperties": False,
        "properties": {
            "model": {**STRING, "description": "A catalog model id, e.g. `openai/gpt-4o-mini`"},
            "input": {
                "description": "A string (one user message) or items: message (input_text, "
                "input_image, input_file parts), function_call, function_call_output, "
                "reasoning",
                "oneOf": [STRING, {"type": "array", "minItems": 1, "items": _OBJECT}],
            },
            "instructions": STRING,
            "tools": {
                "type": "array",
                "description": "Function tools; web_search and namespace tools are accepted "
                "and left out (the model is not offered them); other hosted tools are a 400",
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["type", "name"],
                            "properties": {
                                "type": {"const": "function"},
                                "name": STRING,
                                "description": STRING,
                                "parameters": _OBJECT,
                                "strict": {"type": "boolean"},
                            },
                        },
                        {
                            "type": "object",
                            "required": ["type"],
                            "properties": {"type": {"enum": sorted(DROPPED_TOOLS)}},
                        },
                    ]
                },
            },
            "tool_choice": {"oneOf": [{"enum": ["auto", "none", "required"]}, _OBJECT]},
            "parallel_tool_calls": {"type": "boolean"},
            "reasoning": {
                "type": "object",
                "properties": {
                    "effort": {"enum": ["none", "minimal", "low", "medium", "high", "xhigh"]},
                    "summary": {"enum": ["auto", "concise", "detailed"]},
                },
            },
            "text": {
                "type": "object",
                "properties": {
                    "format": {
                        "type": "object",
                        "description": "{type: text}, {type: json_object} or {type: "
                        "json_schema, name, schema, description, strict}",
                    },
                    "verbosity": {"enum": ["low", "medium", "high"]},
                },
            },
            "max_output_tokens": {**_INTEGER, "minimum": 1},
            "temperature": {**_NUMBER, "minimum": 0, "maximum": 2},
            "top_p": {**_NUMBER, "minimum": 0, "maximum": 1},
            "metadata": {
                "type": "object",
                "maxProperties": 16,
                "additionalProperties": {"type": "string", "maxLength": 512},
            },
            "store": {"type": "boolean", "description": "Keep the response (default true)"},
            "stream": {"type": "boolean"},
            "previous_response_id": {**STRING, "pattern": "^resp_[A-Za-z0-9_-]{1,64}$"},
            "user": STRING,
            "safety_identifier": STRING,
            "prompt_cache_key": {
                **STRING,
                "description": "Forwarded to OpenAI as its prompt_cache_key; ignored by other "
                "providers",
            },
            "client_metadata": {
                "type": "object",
                "description": "What the client says of itself (Codex: session and turn ids); "
                "ignored",
                "additionalProperties": STRING,
            },
            "include": {"type": "array", "items": {"enum": sorted(INCLUDES)}},
            "truncation": {"enum": ["disabled", "auto"]},
            "service_tier": {"enum": ["auto", "default"]},
            "providerOptions": _OBJECT,
            "models": {"type": "array", "items": STRING},
        },
    },
    "Response": {
        "type": "object",
        "required": ["id", "object", "created_at", "status", "model", "output"],
        "properties": {
            "id": {
                **STRING,
                "description": "`resp_<ULID>`; its generation is `gen_<ULID>` "
                "(GET /v1/generation?id=)",
            },
            "object": {"const": "response"},
            "created_at": _INTEGER,
            "status": {"enum": ["completed", "incomplete", "failed", "in_progress"]},
            "model": STRING,
            "output": {
                "type": "array",
                "description": "reasoning, message (output_text) and function_call items",
                "items": _OBJECT,
            },
            "usage": {
                "type": ["object", "null"],
                "properties": {
                    "input_tokens": _INTEGER,
                    "input_tokens_details": _OBJECT,
                    "output_tokens": _INTEGER,
                    "output_tokens_details": _OBJECT,
                    "total_tokens": _INTEGER,
                },
            },
            "error": {"type": ["object", "null"]},
            "incomplete_details": {"type": ["object", "null"]},
        },
    },
}

_ID: Final[Schema] = {
    "name": "response_id",
    "in": "path",
    "required": True,
    "schema": STRING,
}


def paths() -> dict[str, Schema]:
    create = op(
        "OpenAI Responses (JSON, or the semantic SSE events with `stream: true`) on every "
        "model of the catalog",
        ("200", ref("Response")),
        body=ref("ResponseRequest"),
        params=[IDEMPOTENCY_KEY],
        errors=(*MODEL_CALL_ERRORS, *IDEMPOTENT_ERRORS),
        tags=("responses",),
    )
    create["responses"]["200"]["content"][EVENT_STREAM] = {"schema": STRING}
    deleted = {
        "type": "object",
        "required": ["id", "object", "deleted"],
        "properties": {"id": STRING, "object": {"const": "response.deleted"}, "deleted": {}},
    }
    return {
        "/v1/responses": {"post": create},
        "/v1/responses/{response_id}": {
            "get": op(
                "A stored response of the caller's team",
                ("200", ref("Response")),
                params=[_ID],
                errors=("400", "401", "404"),
                tags=("responses",),
            ),
            "delete": op(
                "Delete a stored response of the caller's team",
                ("200", deleted),
                params=[_ID],
                errors=("400", "401", "403", "404"),
                tags=("responses",),
            ),
        },
    }
