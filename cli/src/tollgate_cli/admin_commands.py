"""``tollgate me | teams | members | projects | keys | byok | oidc | operators``: the admin API
from the command line.

Endpoint and key come from ``--base-url`` / ``--api-key`` or ``TOLLGATE_BASE_URL`` /
``TOLLGATE_API_KEY`` (see :mod:`tollgate_cli.client`). ``--team`` takes a team id or slug and
defaults to the key's team; ``--project`` takes a project id or name.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote

from tollgate_cli.client import ApiError, Client
from tollgate_cli.output import show

Command = Callable[[argparse.Namespace, Client], Any]

TEAM_COLUMNS: Final = ("id", "slug", "name", "role", "createdAt")
MEMBER_COLUMNS: Final = ("userId", "email", "role", "joinedAt")
PROJECT_COLUMNS: Final = ("id", "name", "createdAt")
KEY_COLUMNS: Final = ("id", "prefix", "name", "userId", "projectId", "expiresAt", "revokedAt")
BYOK_COLUMNS: Final = ("provider", "enabled", "hint", "updatedAt")
BYOK_TEST_COLUMNS: Final = ("ok", "statusCode", "message")
OPERATOR_COLUMNS: Final = ("userId", "email", "bootstrap")
ROLES: Final = ("owner", "member", "viewer")


def _seg(value: str) -> str:
    return quote(value, safe="")


def team_id(args: argparse.Namespace, client: Client) -> str:
    """``--team`` as an id (a slug is looked up among the caller's teams), else the key's team."""
    team = getattr(args, "team", None)
    if not team:
        return str(client.request("GET", "/v1/me")["team"]["id"])
    if team.startswith("team_"):
        return str(team)
    for found in client.pages("/v1/teams"):
        if found["slug"] == team:
            return str(found["id"])
    raise ApiError(404, f"no team with slug {team!r}", "not_found", param="team")


def project_id(args: argparse.Namespace, client: Client, team: str) -> str:
    project = getattr(args, "project", None)
    if not project or project.startswith("prj_"):
        return str(project or "")
    for found in client.pages(f"/v1/teams/{_seg(team)}/projects"):
        if found["name"] == project:
            return str(found["id"])
    raise ApiError(404, f"no project named {project!r}", "not_found", param="project")


# -- handlers: each returns what to print (or None) and the columns of its table -----------------


def _me(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    me = client.request("GET", "/v1/me")
    if args.output == "json":
        return me, ()
    row = {
        "user": me["user"]["email"],
        "userId": me["user"]["id"],
        "team": me["team"]["slug"],
        "teamId": me["team"]["id"],
        "role": me["role"],
        "keyId": me["keyId"],
        "projectId": me["projectId"],
        "authMethod": me["authMethod"],
        "operator": me["operator"],
    }
    return row, tuple(row)


def _teams_list(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return list(client.pages("/v1/teams")), TEAM_COLUMNS


def _teams_create(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    body = {"slug": args.slug, "name": args.name or args.slug}
    return client.request("POST", "/v1/teams", body), TEAM_COLUMNS


def _teams_delete(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    client.request("DELETE", f"/v1/teams/{_seg(team_id(args, client))}")
    return None, ()


def _members_list(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    return list(client.pages(f"/v1/teams/{_seg(team)}/members")), MEMBER_COLUMNS


def _members_add(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    body = {"email": args.email, "role": args.role}
    return client.request("POST", f"/v1/teams/{_seg(team)}/members", body), MEMBER_COLUMNS


def _members_set_role(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    path = f"/v1/teams/{_seg(team)}/members/{_seg(args.user_id)}"
    return client.request("PATCH", path, {"role": args.role}), MEMBER_COLUMNS


def _members_remove(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    client.request("DELETE", f"/v1/teams/{_seg(team)}/members/{_seg(args.user_id)}")
    return None, ()


def _projects_list(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    return list(client.pages(f"/v1/teams/{_seg(team)}/projects")), PROJECT_COLUMNS


def _projects_create(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    body = {"name": args.name}
    return client.request("POST", f"/v1/teams/{_seg(team)}/projects", body), PROJECT_COLUMNS


def _projects_delete(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    project = project_id(args, client, team)
    client.request("DELETE", f"/v1/teams/{_seg(team)}/projects/{_seg(project)}")
    return None, ()


def _keys_list(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    query = {"teamId": team_id(args, client)}
    if args.include_revoked:
        query["includeRevoked"] = "true"
    return list(client.pages("/v1/api-keys", query)), KEY_COLUMNS


def _keys_create(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    body: dict[str, Any] = {"name": args.name, "teamId": team}
    project = project_id(args, client, team)
    if project:
        body["projectId"] = project
    if args.user:
        body["userId"] = args.user
    if args.expires_at:
        body["expiresAt"] = args.expires_at
    return client.request("POST", "/v1/api-keys", body), ("id", "prefix", "name", "key")


def _keys_revoke(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    client.request("DELETE", f"/v1/api-keys/{_seg(args.key_id)}")
    return None, ()


def _operators_list(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return client.request("GET", "/v1/operators")["data"], OPERATOR_COLUMNS


def _operators_add(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    return client.request("PUT", f"/v1/operators/{_seg(args.user_id)}"), OPERATOR_COLUMNS


def _operators_remove(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    client.request("DELETE", f"/v1/operators/{_seg(args.user_id)}")
    return None, ()


def _provider_key(args: argparse.Namespace) -> str:
    """The provider's key: from the variable ``--key-env`` names, else the first line of stdin
    (never a command-line argument: it would land in the shell history and ``ps``)."""
    if args.key_env:
        value = os.environ.get(args.key_env, "")
        if not value:
            raise ApiError(0, f"${args.key_env} is empty or not set")
        return value.strip()
    if sys.stdin.isatty():
        return getpass.getpass(f"{args.provider} API key: ").strip()
    return sys.stdin.readline().strip()


def _byok_path(args: argparse.Namespace) -> str:
    return f"/v1/byok/{_seg(args.provider)}"


def _byok_query(args: argparse.Namespace, client: Client) -> dict[str, str]:
    return {"teamId": team_id(args, client)} if getattr(args, "team", None) else {}


def _byok_list(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    page = client.request("GET", "/v1/byok", query=_byok_query(args, client))
    return page["data"], BYOK_COLUMNS


def _byok_add(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    body = {"credentials": {"apiKey": _provider_key(args)}, "enabled": not args.disabled}
    path = _byok_path(args)
    return client.request("PUT", path, body, _byok_query(args, client)), BYOK_COLUMNS


def _byok_enable(enabled: bool) -> Command:
    def command(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
        path = _byok_path(args)
        reply = client.request("PATCH", path, {"enabled": enabled}, _byok_query(args, client))
        return reply, BYOK_COLUMNS

    return command


def _byok_test(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    """Test the stored credential, or (``--key-env`` / ``--stdin``) a key before saving it."""
    body = {"credentials": {"apiKey": _provider_key(args)}} if args.key_env or args.stdin else {}
    path = _byok_path(args) + "/test"
    reply = client.request("POST", path, body, _byok_query(args, client))
    return reply, BYOK_TEST_COLUMNS


def _byok_remove(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    client.request("DELETE", _byok_path(args), query=_byok_query(args, client))
    return None, ()


def _oidc_token(args: argparse.Namespace, client: Client) -> tuple[Any, tuple[str, ...]]:
    team = team_id(args, client)
    body = {"projectId": project_id(args, client, team), "teamId": team}
    reply = client.request("POST", "/v1/oidc/token", body)
    if args.output == "table":
        print(reply["token"])  # just the token: TOKEN=$(tollgate oidc token --project web)
        return None, ()
    return reply, ()


# -- parser ---------------------------------------------------------------------------------------


def connection_options() -> argparse.ArgumentParser:
    """Options every admin command takes (also accepted before the command)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url", default=argparse.SUPPRESS, help="Tollgate's URL (env TOLLGATE_BASE_URL)"
    )
    common.add_argument(
        "--api-key", default=argparse.SUPPRESS, help="API key (env TOLLGATE_API_KEY)"
    )
    common.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        default=argparse.SUPPRESS,
        help="output format (default: table)",
    )
    return common


def leaf(
    group: Any, name: str, help_: str, func: Command, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_, parents=[common])
    parser.set_defaults(func=run(func))
    return parser


def _team_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--team", help="team id or slug (default: the key's team)")


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    leaf(commands, "me", "who the API key is", _me, common)

    teams = commands.add_parser("teams", help="teams").add_subparsers(dest="action", required=True)
    leaf(teams, "list", "teams you belong to", _teams_list, common)
    create = leaf(teams, "create", "create a team (you become its owner)", _teams_create, common)
    create.add_argument("slug")
    create.add_argument("name", nargs="?", help="display name (default: the slug)")
    delete = leaf(teams, "delete", "delete a team and its keys", _teams_delete, common)
    delete.add_argument("team", help="team id or slug")

    members = commands.add_parser("members", help="members of a team").add_subparsers(
        dest="action", required=True
    )
    _team_option(leaf(members, "list", "list members", _members_list, common))
    add = leaf(
        members, "add", "add a member (an unknown email creates the user)", _members_add, common
    )
    add.add_argument("email")
    add.add_argument("--role", choices=ROLES, default="member")
    _team_option(add)
    set_role = leaf(members, "set-role", "change a member's role", _members_set_role, common)
    set_role.add_argument("user_id")
    set_role.add_argument("role", choices=ROLES)
    _team_option(set_role)
    remove = leaf(
        members, "remove", "remove a member (your own id: leave)", _members_remove, common
    )
    remove.add_argument("user_id")
    _team_option(remove)

    projects = commands.add_parser("projects", help="projects of a team").add_subparsers(
        dest="action", required=True
    )
    _team_option(leaf(projects, "list", "list projects", _projects_list, common))
    pcreate = leaf(projects, "create", "create a project", _projects_create, common)
    pcreate.add_argument("name")
    _team_option(pcreate)
    pdelete = leaf(
        projects, "delete", "delete a project (revokes its keys)", _projects_delete, common
    )
    pdelete.add_argument("project", help="project id or name")
    _team_option(pdelete)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    klist = leaf(keys, "list", "list API keys", _keys_list, common)
    klist.add_argument("--include-revoked", action="store_true")
    _team_option(klist)
    kcreate = leaf(keys, "create", "create an API key (printed once)", _keys_create, common)
    kcreate.add_argument("name")
    kcreate.add_argument("--project", help="project id or name")
    kcreate.add_argument("--user", help="another member's user id (owners only)")
    kcreate.add_argument("--expires-at", help="ISO-8601 time, e.g. 2027-01-01T00:00:00Z")
    _team_option(kcreate)
    krevoke = leaf(keys, "revoke", "revoke an API key", _keys_revoke, common)
    krevoke.add_argument("key_id")

    byok = commands.add_parser("byok", help="BYOK provider credentials").add_subparsers(
        dest="action", required=True
    )
    _team_option(leaf(byok, "list", "list credentials (hints only)", _byok_list, common))
    badd = leaf(
        byok,
        "add",
        "add or replace a provider's key (read from stdin or --key-env)",
        _byok_add,
        common,
    )
    badd.add_argument("provider", help="provider slug, e.g. openai")
    badd.add_argument("--key-env", help="read the provider key from this environment variable")
    badd.add_argument("--disabled", action="store_true", help="store it disabled")
    _team_option(badd)
    for name, enabled in (("enable", True), ("disable", False)):
        toggle = leaf(byok, name, f"{name} a credential", _byok_enable(enabled), common)
        toggle.add_argument("provider")
        _team_option(toggle)
    btest = leaf(
        byok,
        "test",
        "a minimal real request to the provider with the stored key (or one given to try)",
        _byok_test,
        common,
    )
    btest.add_argument("provider", help="provider slug, e.g. openai")
    btest.add_argument("--key-env", help="try the key in this environment variable instead")
    btest.add_argument("--stdin", action="store_true", help="try the key read from stdin instead")
    _team_option(btest)
    bremove = leaf(byok, "remove", "remove a credential", _byok_remove, common)
    bremove.add_argument("provider")
    _team_option(bremove)

    oidc = commands.add_parser("oidc", help="OIDC tokens").add_subparsers(
        dest="action", required=True
    )
    token = leaf(oidc, "token", "print a 12-hour OIDC token for a project", _oidc_token, common)
    _add_operator_commands(commands, common)
    token.add_argument("--project", required=True, help="project id or name")
    _team_option(token)


def _add_operator_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    operators = commands.add_parser(
        "operators", help="the installation's operators (operators only)"
    ).add_subparsers(dest="action", required=True)
    leaf(operators, "list", "list the operators", _operators_list, common)
    add = leaf(operators, "add", "make a user an operator", _operators_add, common)
    add.add_argument("user_id", help="user id (user_...)")
    remove = leaf(
        operators, "remove", "take the operator privilege back", _operators_remove, common
    )
    remove.add_argument("user_id", help="user id (user_...)")


def run(func: Command) -> Callable[[argparse.Namespace], int]:
    """Run one admin command: print its answer, or the API's error and exit 1."""

    def command(args: argparse.Namespace) -> int:
        client = Client.from_env(getattr(args, "base_url", None), getattr(args, "api_key", None))
        args.output = getattr(args, "output", "table")
        if client.api_key is None:
            print("tollgate: no API key: pass --api-key or set TOLLGATE_API_KEY", file=sys.stderr)
            return 1
        try:
            value, columns = func(args, client)
        except ApiError as exc:
            print(f"tollgate: {exc}", file=sys.stderr)
            return 1
        if value is not None:
            show(value, columns, args.output, sys.stdout)
        return 0

    return command
