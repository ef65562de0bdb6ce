"""The OpenAPI paths of billing's routes: credits, top-ups, adjustments, the spend report and
budgets (docs/billing.md). Part of the document :mod:`tollgate_edge.openapi` serves."""

from __future__ import annotations

from typing import Final

from tollgate_edge.openapi import (
    _STRING,
    _TIME,
    Schema,
    _also_created,
    _object,
    _op,
    _path_param,
    _query,
)

_AMOUNT: Final[Schema] = {
    "oneOf": [{"type": "string"}, {"type": "number"}],
    "description": "USD, at most 2 decimals",
}
CREDITS: Final[Schema] = _object(
    {"balance": _STRING, "total_used": _STRING}, ["balance", "total_used"]
)
_PERIOD: Final[Schema] = {"type": "string", "enum": ["day", "month"]}
BUDGET: Final[Schema] = _object(
    {
        "scope": {"type": "string", "enum": ["team", "project", "key"]},
        "id": _STRING,
        "amount": _STRING,
        "period": _PERIOD,
        "hard": {"type": "boolean"},
        "spent": {**_STRING, "description": "charged in the current period (BYOK costs 0)"},
        "periodStart": _TIME,
        "createdAt": _TIME,
        "updatedAt": _TIME,
    },
    ["scope", "id", "amount", "period", "hard", "spent", "periodStart", "createdAt", "updatedAt"],
)
_BUDGET_PATH: Final = [_path_param("scope"), _path_param("id")]
_REPORT_PARAMS: Final = [
    _query("start_date", _STRING, "YYYY-MM-DD, inclusive (required)"),
    _query("end_date", _STRING, "YYYY-MM-DD, inclusive (required)"),
    _query(
        "group_by",
        {
            "type": "string",
            "enum": ["day", "user", "model", "tag", "provider", "credential_type"],
        },
        "a generation with several tags counts in each tag's group",
    ),
    _query("date_part", {"type": "string", "enum": ["day", "hour"]}),
    _query("user_id", _STRING, "only this end user (providerOptions.gateway.user)"),
    _query("model", _STRING),
    _query("provider", _STRING),
    _query("credential_type", {"type": "string", "enum": ["byok", "system"]}),
    _query("tags", _STRING, "comma-joined: generations with at least one of these tags"),
]


def billing_paths() -> dict[str, Schema]:
    billing = ("billing",)
    return {
        "/v1/credits": {
            "get": _op(
                "The caller's team credit balance and total used (decimal strings)",
                ("200", CREDITS),
                errors=("401",),
                tags=billing,
            )
        },
        "/v1/credits/top-up": {
            "post": _op(
                "Add credits to the caller's team (owners; the payment step is a hook)",
                ("200", CREDITS),
                body=_object({"amount": _AMOUNT}, ["amount"]),
                params=[{"name": "Idempotency-Key", "in": "header", "schema": _STRING}],
                errors=("400", "401", "403"),
                tags=billing,
            )
        },
        "/v1/credits/adjustments": {
            "post": _op(
                "A refund or an operator's adjustment (owners): a signed ledger entry, once per "
                "idempotencyKey; 409 when it would take the balance below zero without "
                "allowNegative",
                ("200", CREDITS),
                body=_object(
                    {
                        "amount": {**_AMOUNT, "description": "signed USD, at most 2 decimals"},
                        "reason": _STRING,
                        "idempotencyKey": _STRING,
                        "kind": {"type": "string", "enum": ["adjustment", "refund"]},
                        "allowNegative": {"type": "boolean"},
                    },
                    ["amount", "reason", "idempotencyKey"],
                ),
                errors=("400", "401", "403", "409"),
                tags=billing,
            )
        },
        "/v1/report": {
            "get": _op(
                "Spend report (AI SDK shape): cost and usage grouped by day, hour, end user, "
                "model, tag, provider or credential type",
                ("200", _object({"results": {"type": "array", "items": {"type": "object"}}})),
                params=_REPORT_PARAMS,
                errors=("400", "401"),
                tags=billing,
            )
        },
        "/v1/budgets": {
            "get": _op(
                "The team's budgets with what was spent in each one's current period",
                ("200", _object({"data": {"type": "array", "items": BUDGET}}, ["data"])),
                errors=("401",),
                tags=billing,
            )
        },
        "/v1/budgets/{scope}/{id}": {
            "put": _also_created(
                _op(
                    "Set the budget of the team, one of its projects or one of its API keys "
                    "(owners; 201 when new, 200 when replaced). Hard by default: a generation whose "
                    "worst case does not fit gets 402 budget_exceeded; periods are UTC days and "
                    "calendar months",
                    ("200", BUDGET),
                    body=_object(
                        {"amount": _AMOUNT, "period": _PERIOD, "hard": {"type": "boolean"}},
                        ["amount", "period"],
                    ),
                    params=_BUDGET_PATH,
                    tags=billing,
                )
            ),
            "delete": _op(
                "Remove a budget (owners)", ("204", None), params=_BUDGET_PATH, tags=billing
            ),
        },
    }
