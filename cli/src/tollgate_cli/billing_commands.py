"""``tollgate budgets list | set | delete``, ``tollgate credits adjust`` and ``tollgate credits
unsettled``: a team's spending caps (``/v1/budgets``), an operator's refunds and corrections to
any team (``/v1/credits/adjustments``) and the holds that expired without being given back
(``/v1/credits/unsettled``)."""

from __future__ import annotations

import argparse
from typing import Any, Final

from tollgate_cli.admin_commands import leaf, team_id
from tollgate_cli.client import Client

BUDGET_COLUMNS: Final = ("scope", "id", "amount", "period", "hard", "spent", "periodStart")
SCOPES: Final = ("team", "project", "key")
UNSETTLED_COLUMNS: Final = ("holdId", "reserved", "debited", "held", "createdAt", "expiredAt")


def _list(_args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return client.request("GET", "/v1/budgets")["data"], BUDGET_COLUMNS


def _set(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    body = {"amount": args.amount, "period": args.period, "hard": not args.soft}
    return client.request("PUT", f"/v1/budgets/{args.scope}/{args.id}", body), BUDGET_COLUMNS


def _delete(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    client.request("DELETE", f"/v1/budgets/{args.scope}/{args.id}")
    return {"deleted": f"{args.scope}/{args.id}"}, ("deleted",)


def granted_team(args: argparse.Namespace, client: Client) -> dict[str, str]:
    """``teamId`` of a credit grant: ``--team`` (an id, or a slug of the caller's teams), else
    nothing (the API defaults to the key's team)."""
    return {"teamId": team_id(args, client)} if args.team else {}


def team_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--team", help="team id (or a slug of your teams; default: the key's)")


def credits_adjust(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    body = {
        "amount": args.amount,
        "reason": args.reason,
        "idempotencyKey": args.idempotency_key,
        "kind": args.kind,
        "allowNegative": args.allow_negative,
        **granted_team(args, client),
    }
    return client.request("POST", "/v1/credits/adjustments", body), ("balance", "total_used")


def add_adjust(credits: Any, common: argparse.ArgumentParser) -> None:
    """``credits adjust`` under the ``credits`` group."""
    adjust = leaf(credits, "adjust", "a refund or a correction (operators)", credits_adjust, common)
    team_option(adjust)
    adjust.add_argument("amount", help="signed USD, e.g. 2.50 or -1.25")
    adjust.add_argument("--reason", required=True, help="why (shown in the activity log)")
    adjust.add_argument(
        "--idempotency-key", required=True, help="a repeat with the same key changes nothing"
    )
    adjust.add_argument("--kind", choices=("adjustment", "refund"), default="adjustment")
    adjust.add_argument(
        "--allow-negative", action="store_true", help="let a debit take the balance below zero"
    )


def credits_unsettled(_args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return client.request("GET", "/v1/credits/unsettled")["data"], UNSETTLED_COLUMNS


def add_unsettled(credits: Any, common: argparse.ArgumentParser) -> None:
    """``credits unsettled`` under the ``credits`` group."""
    leaf(
        credits,
        "unsettled",
        "holds that expired without their router giving them back (owners)",
        credits_unsettled,
        common,
    )


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    budgets = commands.add_parser("budgets", help="the team's spending caps").add_subparsers(
        dest="action", required=True
    )
    leaf(budgets, "list", "budgets and what was spent this period", _list, common)
    put = leaf(budgets, "set", "set a budget (owners)", _set, common)
    put.add_argument("scope", choices=SCOPES)
    put.add_argument("id", help="the team id, a project id or an API key id")
    put.add_argument("amount", help="USD per period, e.g. 25 or 10.50")
    put.add_argument("--period", choices=("day", "month"), default="month")
    put.add_argument("--soft", action="store_true", help="refuse only once reached (no clamping)")
    delete = leaf(budgets, "delete", "remove a budget (owners)", _delete, common)
    delete.add_argument("scope", choices=SCOPES)
    delete.add_argument("id")
