"""The OpenAPI paths of billing's routes: credits, top-ups, adjustments, the spend report,
budgets and rate limits (docs/billing.md). Part of the document :mod:`tollgate_edge.openapi` serves."""

from __future__ import annotations

from typing import Final

from tollgate_edge.openapi_schema import (
    STRING,
    TIME,
    Schema,
    also_created,
    nullable,
    obj,
    op,
    path_param,
    query,
)

_AMOUNT: Final[Schema] = {
    "oneOf": [{"type": "string"}, {"type": "number"}],
    "description": "USD, at most 2 decimals",
}
CREDITS: Final[Schema] = obj({"balance": STRING, "total_used": STRING}, ["balance", "total_used"])
_PERIOD: Final[Schema] = {"type": "string", "enum": ["day", "month"]}
BUDGET: Final[Schema] = obj(
    {
        "scope": {"type": "string", "enum": ["team", "project", "key"]},
        "id": STRING,
        "amount": STRING,
        "period": _PERIOD,
        "hard": {"type": "boolean"},
        "spent": {**STRING, "description": "charged in the current period (BYOK costs 0)"},
        "periodStart": TIME,
        "createdAt": TIME,
        "updatedAt": TIME,
    },
    ["scope", "id", "amount", "period", "hard", "spent", "periodStart", "createdAt", "updatedAt"],
)
UNSETTLED_HOLD: Final[Schema] = obj(
    {
        "teamId": STRING,
        "holdId": STRING,
        "projectId": STRING,
        "keyId": STRING,
        "reserved": {**STRING, "description": "USD the hold reserved"},
        "debited": {**STRING, "description": "USD its usage facts debited"},
        "held": {**STRING, "description": "USD it still held when it expired"},
        "instanceId": {**STRING, "description": "the router process that asked (may be empty)"},
        "createdAt": TIME,
        "expiresAt": TIME,
        "expiredAt": TIME,
    },
    [
        "teamId",
        "holdId",
        "projectId",
        "keyId",
        "reserved",
        "debited",
        "held",
        "instanceId",
        "createdAt",
        "expiresAt",
        "expiredAt",
    ],
)
_BUDGET_PATH: Final = [path_param("scope"), path_param("id")]
_LIMIT_NUMBERS: Final[dict[str, Schema]] = {
    name: {**nullable({"type": "integer", "minimum": 1}), "description": text}
    for name, text in (
        ("requestsPerMinute", "requests per UTC minute; null: not limited"),
        ("tokensPerMinute", "input + output tokens per UTC minute (estimated until it ends)"),
        ("concurrentRequests", "requests running at once"),
    )
}
RATE_LIMIT: Final[Schema] = obj(
    {
        "scope": {"type": "string", "enum": ["team", "project", "key"]},
        "id": STRING,
        **_LIMIT_NUMBERS,
        "createdAt": TIME,
        "updatedAt": TIME,
    },
    ["scope", "id", *_LIMIT_NUMBERS, "createdAt", "updatedAt"],
)
_REPORT_PARAMS: Final = [
    query("start_date", STRING, "YYYY-MM-DD, inclusive (required)"),
    query("end_date", STRING, "YYYY-MM-DD, inclusive (required)"),
    query(
        "group_by",
        {
            "type": "string",
            "enum": ["day", "user", "model", "tag", "provider", "credential_type"],
        },
        "a generation with several tags counts in each tag's group",
    ),
    query("date_part", {"type": "string", "enum": ["day", "hour"]}),
    query("user_id", STRING, "only this end user (providerOptions.gateway.user)"),
    query("model", STRING),
    query("provider", STRING),
    query("credential_type", {"type": "string", "enum": ["byok", "system"]}),
    query("tags", STRING, "comma-joined: generations with at least one of these tags"),
]


def billing_paths() -> dict[str, Schema]:
    billing = ("billing",)
    return {
        "/v1/credits": {
            "get": op(
                "The caller's team credit balance and total used (decimal strings)",
                ("200", CREDITS),
                errors=("401",),
                tags=billing,
            )
        },
        "/v1/credits/top-up": {
            "post": op(
                "Grant credit to a team (operators only): teamId, default the caller's team",
                ("200", CREDITS),
                body=obj({"amount": _AMOUNT, "teamId": STRING}, ["amount"]),
                params=[{"name": "Idempotency-Key", "in": "header", "schema": STRING}],
                errors=("400", "401", "403", "404"),
                tags=billing,
            )
        },
        "/v1/credits/adjustments": {
            "post": op(
                "A refund or an adjustment (operators only) to teamId, default the caller's "
                "team: a signed ledger entry, once per idempotencyKey; 409 when it would take "
                "the balance below zero without allowNegative",
                ("200", CREDITS),
                body=obj(
                    {
                        "amount": {**_AMOUNT, "description": "signed USD, at most 2 decimals"},
                        "reason": STRING,
                        "idempotencyKey": STRING,
                        "kind": {"type": "string", "enum": ["adjustment", "refund"]},
                        "allowNegative": {"type": "boolean"},
                        "teamId": STRING,
                    },
                    ["amount", "reason", "idempotencyKey"],
                ),
                errors=("400", "401", "403", "404", "409"),
                tags=billing,
            )
        },
        "/v1/credits/payment-hook": {
            "post": op(
                "Credit bought through the payment provider (no API key): the body signed with "
                "HMAC-SHA256 under TOLLGATE_PAYMENT_HOOK_SECRET in `Tollgate-Signature: "
                "sha256=<hex>`; paymentId makes a repeat credit once. 404 while the hook is off",
                ("200", CREDITS),
                body=obj(
                    {"teamId": STRING, "amount": _AMOUNT, "paymentId": STRING},
                    ["teamId", "amount", "paymentId"],
                ),
                params=[
                    {
                        "name": "Tollgate-Signature",
                        "in": "header",
                        "required": True,
                        "schema": STRING,
                    }
                ],
                errors=("400", "401", "404", "413"),
                public=True,
                tags=billing,
            )
        },
        "/v1/credits/unsettled": {
            "get": op(
                "Holds of the team that expired without their router giving them back (the router "
                "died), the latest first (owners): released once every usage fact published "
                "before their expiry was applied; their generations' facts may never come",
                ("200", obj({"data": {"type": "array", "items": UNSETTLED_HOLD}}, ["data"])),
                errors=("401", "403"),
                tags=billing,
            )
        },
        "/v1/report": {
            "get": op(
                "Spend report (AI SDK shape): cost and usage grouped by day, hour, end user, "
                "model, tag, provider or credential type",
                ("200", obj({"results": {"type": "array", "items": {"type": "object"}}})),
                params=_REPORT_PARAMS,
                errors=("400", "401"),
                tags=billing,
            )
        },
        "/v1/budgets": {
            "get": op(
                "The team's budgets with what was spent in each one's current period",
                ("200", obj({"data": {"type": "array", "items": BUDGET}}, ["data"])),
                errors=("401",),
                tags=billing,
            )
        },
        "/v1/budgets/{scope}/{id}": {
            "put": also_created(
                op(
                    "Set the budget of the team, one of its projects or one of its API keys "
                    "(owners; 201 when new, 200 when replaced). Hard by default: a generation whose "
                    "worst case does not fit gets 402 budget_exceeded; periods are UTC days and "
                    "calendar months",
                    ("200", BUDGET),
                    body=obj(
                        {"amount": _AMOUNT, "period": _PERIOD, "hard": {"type": "boolean"}},
                        ["amount", "period"],
                    ),
                    params=_BUDGET_PATH,
                    tags=billing,
                )
            ),
            "delete": op(
                "Remove a budget (owners)", ("204", None), params=_BUDGET_PATH, tags=billing
            ),
        },
        "/v1/rate-limits": {
            "get": op(
                "The team's rate limits (team, projects, API keys)",
                ("200", obj({"data": {"type": "array", "items": RATE_LIMIT}}, ["data"])),
                errors=("401",),
                tags=billing,
            )
        },
        "/v1/rate-limits/{scope}/{id}": {
            "put": also_created(
                op(
                    "Set the rate limit of the team, one of its projects or one of its API keys "
                    "(owners; 201 when new, 200 when replaced; any subset of the numbers, the "
                    "others unlimited). A request over a limit gets 429 rate_limit_exceeded with "
                    "Retry-After; every answer of a limited key carries x-ratelimit-* headers",
                    ("200", RATE_LIMIT),
                    body=obj(_LIMIT_NUMBERS),
                    params=_BUDGET_PATH,
                    tags=billing,
                )
            ),
            "delete": op(
                "Remove a rate limit (owners)", ("204", None), params=_BUDGET_PATH, tags=billing
            ),
        },
    }
