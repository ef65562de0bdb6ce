"""Building blocks of ``/openapi.json``: schema and operation helpers, shared parameters and
error responses, used by :mod:`tollgate_edge.openapi` and the modules that describe a part of
the API (admin, billing, the AI SDK protocol)."""

from __future__ import annotations

from typing import Any, Final

from tollgate_edge.responses import JSON

Schema = dict[str, Any]

EVENT_STREAM: Final = "text/event-stream"

ERROR_STATUSES: Final = {
    "400": "Invalid request: malformed JSON, JSON nested deeper than 64 levels, an unknown "
    "field, a wrong type (`param` names it), a malformed request (a header name HTTP does not "
    "allow, a path that is not valid UTF-8)",
    "401": "Missing or invalid credential",
    "402": "Insufficient funds (`insufficient_funds`; `in_flight_credit_exhausted` with "
    "`Retry-After` when the balance would pay but the team's generations in flight hold it), "
    "or a budget used up for its period (`budget_exceeded`; `in_flight_credit_exhausted` with "
    "`Retry-After` when what it has left is held by generations in flight)",
    "403": "The caller's role may not do this",
    "404": "Not found — also anything in a team the caller does not belong to",
    "409": "Conflict (slug taken, already a member, last owner, last member; "
    "`idempotency_key_in_use`: a request with the same `Idempotency-Key` is still running)",
    "413": "Request body too large",
    "422": "`idempotency_key_reused`: the `Idempotency-Key` was used with a different body",
    "429": "A rate limit of the team, project or key (`rate_limit_exceeded`, type `requests` or "
    "`tokens`, `param` naming the limit, `Retry-After` in seconds), or the provider's own "
    "(`provider_rate_limited`)",
    "502": "The provider failed, or answered with an error",
    "503": "No provider, or a part of the gateway, can take the request right now",
    "504": "The provider did not answer in time",
}
# What a call that reaches a model provider may answer besides success.
MODEL_CALL_ERRORS: Final = ("400", "401", "402", "403", "404", "413", "429", "502", "503", "504")


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


STRING: Final[Schema] = {"type": "string"}
TIME: Final[Schema] = {"type": "string", "format": "date-time"}
ROLE: Final[Schema] = {"type": "string", "enum": ["owner", "member", "viewer"]}


def obj(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required is not None:
        schema["required"] = required
    return schema


def list_of(item: str) -> Schema:
    return obj(
        {"data": {"type": "array", "items": ref(item)}, "nextCursor": nullable(STRING)},
        ["data", "nextCursor"],
    )


def json_content(schema: Schema) -> Schema:
    return {"content": {JSON: {"schema": schema}}}


LIST: Final[Schema] = obj(
    {"data": {"type": "array", "items": {"type": "object"}}, "nextCursor": nullable(STRING)},
    ["data", "nextCursor"],
)


def optional_body(operation: Schema) -> Schema:
    """``operation`` with a request body that may be left out."""
    return {**operation, "requestBody": {**operation["requestBody"], "required": False}}


def op(
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
    # Any request can be malformed (a header name HTTP does not allow, a path that is not
    # UTF-8): every operation may answer 400.
    errors = tuple(sorted({"400", *errors}))
    ok_response: Schema = {"description": "Success"}
    if schema is not None:
        ok_response.update(json_content(schema))
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
        operation["requestBody"] = {"required": True, **json_content(body)}
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def also_created(operation: Schema) -> Schema:
    """An upsert: 201 when it created the object, 200 when it replaced it."""
    operation["responses"]["201"] = operation["responses"]["200"]
    return operation


def sse_event(payload: Schema) -> Schema:
    """One event of an SSE stream, as OpenAPI 3.2 and Schemathesis read a ``text/event-stream``
    schema: ``data`` is a JSON ``payload``, or ``[DONE]`` where an OpenAI stream ends."""
    data: Schema = {
        "anyOf": [
            {"const": "[DONE]"},
            {"type": "string", "contentMediaType": JSON, "contentSchema": payload},
        ]
    }
    return {
        "type": "object",
        "properties": {"data": data, "event": STRING, "id": STRING},
        "required": ["data"],
    }


def also_streamed(operation: Schema, payload: Schema) -> Schema:
    """An operation whose 200 is an SSE stream of ``payload`` events when the request asks."""
    operation["responses"]["200"]["content"][EVENT_STREAM] = {"schema": sse_event(payload)}
    return operation


def path_param(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": STRING}


def query(name: str, schema: Schema, description: str = "") -> Schema:
    param: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


PAGE: Final = [
    query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    query("cursor", STRING, "`nextCursor` of the previous page"),
]
TEAM = path_param("teamId")
# The inference endpoints' retry key (docs/idempotency.md).
IDEMPOTENCY_KEY: Final[Schema] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Per team, kept 24 hours: a repeat with the same body gets the first "
    "request's answer again (same id; a stream as the same stream) with `Idempotent-Replayed: "
    "true`, without a provider call or a second charge; another body is a 422; a repeat while "
    "the first still runs waits up to 10 s, then 409.",
}
IDEMPOTENT_ERRORS: Final = ("409", "422")
