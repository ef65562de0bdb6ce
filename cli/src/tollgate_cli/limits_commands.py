"""``tollgate limits list | set | delete``: a team's rate limits (``/v1/rate-limits``):
requests and tokens per minute and concurrent requests per team, project or API key."""

from __future__ import annotations

import argparse
from typing import Any, Final

from tollgate_cli.admin_commands import leaf
from tollgate_cli.billing_commands import SCOPES
from tollgate_cli.client import Client

LIMIT_COLUMNS: Final = (
    "scope",
    "id",
    "requestsPerMinute",
    "tokensPerMinute",
    "concurrentRequests",
)


def _list(_args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return client.request("GET", "/v1/rate-limits")["data"], LIMIT_COLUMNS


def _set(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    body = {
        name: value
        for name, value in (
            ("requestsPerMinute", args.rpm),
            ("tokensPerMinute", args.tpm),
            ("concurrentRequests", args.concurrent),
        )
        if value is not None
    }
    return client.request("PUT", f"/v1/rate-limits/{args.scope}/{args.id}", body), LIMIT_COLUMNS


def _delete(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    client.request("DELETE", f"/v1/rate-limits/{args.scope}/{args.id}")
    return {"deleted": f"{args.scope}/{args.id}"}, ("deleted",)


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    limits = commands.add_parser("limits", help="the team's rate limits").add_subparsers(
        dest="action", required=True
    )
    leaf(limits, "list", "rate limits of the team, its projects and keys", _list, common)
    put = leaf(limits, "set", "set (replace) a rate limit (owners)", _set, common)
    put.add_argument("scope", choices=SCOPES)
    put.add_argument("id", help="the team id, a project id or an API key id")
    put.add_argument("--rpm", type=int, help="requests per minute")
    put.add_argument("--tpm", type=int, help="tokens per minute (input + output)")
    put.add_argument("--concurrent", type=int, help="requests running at once")
    delete = leaf(limits, "delete", "remove a rate limit (owners)", _delete, common)
    delete.add_argument("scope", choices=SCOPES)
    delete.add_argument("id")
