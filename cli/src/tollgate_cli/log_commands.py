"""``tollgate activity | requests | observability | credits``: what the team did, what it
called, how it went over time, what it has.

Reads of the key's team (``/v1/activity``, ``/v1/requests`` newest first, ``/v1/observability``
oldest first, ``/v1/credits``) with the API's own filters; ``credits top-up`` is an operator's
grant, ``credits adjust`` an operator's
refund or correction.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

from tollgate_cli.admin_commands import Command, leaf
from tollgate_cli.billing_commands import add_adjust, add_unsettled, granted_team, team_option
from tollgate_cli.client import Client

ACTIVITY_COLUMNS: Final = ("createdAt", "type", "actor", "target", "id")
REQUEST_COLUMNS: Final = (
    "createdAt",
    "model",
    "provider",
    "appTitle",
    "inputTokens",
    "outputTokens",
    "cost",
    "ttftMs",
    "status",
    "generationId",
)
CREDIT_COLUMNS: Final = ("balance", "total_used")
OBSERVABILITY_COLUMNS: Final = ("model", "t", "value", "p50", "p95")


def _query(args: argparse.Namespace, names: dict[str, str]) -> dict[str, str]:
    """The API's query parameters from the options that were given."""
    return {api: str(value) for option, api in names.items() if (value := getattr(args, option))}


def _limited(client: Client, path: str, query: dict[str, str], limit: int) -> list[Any]:
    rows = []
    for row in client.pages(path, query):
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def _activity(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    query = _query(
        args,
        {
            "type": "type",
            "actor": "actorId",
            "project": "projectId",
            "since": "since",
            "until": "until",
        },
    )
    rows = _limited(client, "/v1/activity", query, args.limit)
    if args.output == "table":  # actor and target as one readable cell each
        for row in rows:
            for key in ("actor", "target"):
                if isinstance(row.get(key), dict):
                    row[key] = f"{row[key].get('type', '')} {row[key].get('id', '')}".strip()
    return rows, ACTIVITY_COLUMNS


def _requests(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    query = _query(
        args,
        {
            "model": "model",
            "provider": "provider",
            "project": "projectId",
            "since": "since",
            "until": "until",
        },
    )
    return _limited(client, "/v1/requests", query, args.limit), REQUEST_COLUMNS


def _observability(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    """One row per model and time bucket. Without ``--since`` the API picks the window the
    granularity suits (6 hours of minutes, 7 days of hours, 28 days of days)."""
    query = _query(
        args,
        {
            "metric": "metric",
            "granularity": "granularity",
            "project": "projectId",
            "since": "since",
            "until": "until",
        },
    )
    answer = client.request("GET", "/v1/observability", query=query)
    rows = [
        {"model": series["model"], **point}
        for series in answer.get("series", [])
        for point in series["points"]
    ]
    if args.output == "table":  # token counts as one readable cell
        for row in rows:
            if isinstance(row["value"], dict):
                row["value"] = f"{row['value']['input']} in / {row['value']['output']} out"
    return rows, OBSERVABILITY_COLUMNS


def _credits_show(_args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return client.request("GET", "/v1/credits"), CREDIT_COLUMNS


def _credits_top_up(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    body = {"amount": args.amount, **granted_team(args, client)}
    return client.request("POST", "/v1/credits/top-up", body), CREDIT_COLUMNS


def _filters(parser: argparse.ArgumentParser, *extra: str) -> None:
    for name in extra:
        parser.add_argument(f"--{name}")
    parser.add_argument("--project", help="project id")
    parser.add_argument("--since", help="ISO-8601 time")
    parser.add_argument("--until", help="ISO-8601 time")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    activity: Command = _activity
    _filters(
        leaf(commands, "activity", "the team's activity log, newest first", activity, common),
        "type",
        "actor",
    )
    _filters(
        leaf(commands, "requests", "the team's request log, newest first", _requests, common),
        "model",
        "provider",
    )
    observability = leaf(
        commands,
        "observability",
        "requests, ttft, tokens or spend by model over time",
        _observability,
        common,
    )
    observability.add_argument(
        "--metric", choices=("requests", "ttft", "tokens", "spend"), default="requests"
    )
    observability.add_argument("--granularity", choices=("minute", "hour", "day"), default="hour")
    observability.add_argument("--project", help="project id (project scope)")
    observability.add_argument("--since", help="ISO-8601 time (default: the granularity's window)")
    observability.add_argument("--until", help="ISO-8601 time (default: now)")
    credits = commands.add_parser("credits", help="the team's credits").add_subparsers(
        dest="action", required=True
    )
    leaf(credits, "show", "balance and total used", _credits_show, common)
    top_up = leaf(credits, "top-up", "grant credit to a team (operators)", _credits_top_up, common)
    top_up.add_argument("amount", help="USD, e.g. 25 or 10.50")
    team_option(top_up)
    add_adjust(credits, common)
    add_unsettled(credits, common)
