"""Who may do what: the one table of docs/permissions.md.

Team roles allow the actions of :data:`ALLOWED`; the operator privilege, installation-wide,
adds :data:`OPERATOR_ACTIONS` (granting credit, managing operators), which no role allows.

Every admin RPC asks :func:`require` before it changes or reveals anything; ext_authz asks
:func:`allows` for inference paths and hands the edge the caller's permitted actions
(``x-tollgate-permissions``) so the edge never keeps a table of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from tollgate_auth.domain import Role
from tollgate_auth.errors import Forbidden


class Action(StrEnum):
    """Something a role may or may not do; the value is what ``x-tollgate-permissions`` lists."""

    CALL_INFERENCE = "inference"
    READ = "read"
    CREATE_TEAM = "team:create"
    MANAGE_OWN_API_KEYS = "api-keys:own"
    ISSUE_OIDC_TOKENS = "oidc-tokens"
    MANAGE_ANY_API_KEYS = "api-keys:any"
    MANAGE_MEMBERS = "members"
    MANAGE_PROJECTS = "projects"
    MANAGE_BYOK = "byok"
    MANAGE_OIDC_ISSUERS = "oidc-issuers"
    TOP_UP_CREDITS = "credits:top-up"
    MANAGE_BUDGETS = "budgets"
    UPDATE_TEAM = "team:update"
    DELETE_TEAM = "team:delete"
    MANAGE_OPERATORS = "operators"


_ALL: Final = frozenset(Role)
_WRITERS: Final = frozenset({Role.OWNER, Role.MEMBER})
_OWNERS: Final = frozenset({Role.OWNER})
_NOBODY: Final[frozenset[Role]] = frozenset()

ALLOWED: Final[Mapping[Action, frozenset[Role]]] = MappingProxyType(
    {
        Action.CALL_INFERENCE: _WRITERS,
        Action.READ: _ALL,
        Action.CREATE_TEAM: _WRITERS,
        Action.MANAGE_OWN_API_KEYS: _WRITERS,
        Action.ISSUE_OIDC_TOKENS: _WRITERS,
        Action.MANAGE_ANY_API_KEYS: _OWNERS,
        Action.MANAGE_MEMBERS: _OWNERS,
        Action.MANAGE_PROJECTS: _OWNERS,
        Action.MANAGE_BYOK: _OWNERS,
        Action.MANAGE_OIDC_ISSUERS: _OWNERS,
        Action.TOP_UP_CREDITS: _NOBODY,
        Action.MANAGE_BUDGETS: _OWNERS,
        Action.UPDATE_TEAM: _OWNERS,
        Action.DELETE_TEAM: _OWNERS,
        Action.MANAGE_OPERATORS: _NOBODY,
    }
)

# Granting credit is the operator's alone, for any team: a team owner could otherwise mint
# credit for their own team.
OPERATOR_ACTIONS: Final = frozenset({Action.TOP_UP_CREDITS, Action.MANAGE_OPERATORS})

_DESCRIPTIONS: Final[Mapping[Action, str]] = MappingProxyType(
    {
        Action.CALL_INFERENCE: "call inference",
        Action.READ: "read this team's data",
        Action.CREATE_TEAM: "create teams",
        Action.MANAGE_OWN_API_KEYS: "create or revoke API keys",
        Action.ISSUE_OIDC_TOKENS: "issue OIDC tokens",
        Action.MANAGE_ANY_API_KEYS: "manage other members' API keys",
        Action.MANAGE_MEMBERS: "manage members and roles",
        Action.MANAGE_PROJECTS: "manage projects",
        Action.MANAGE_BYOK: "manage BYOK credentials",
        Action.MANAGE_OIDC_ISSUERS: "manage trusted OIDC issuers",
        Action.TOP_UP_CREDITS: "grant credit",
        Action.MANAGE_BUDGETS: "set budgets",
        Action.UPDATE_TEAM: "rename the team",
        Action.DELETE_TEAM: "delete the team",
        Action.MANAGE_OPERATORS: "manage operators",
    }
)

# Paths only callers allowed to run inference reach (ext_authz refuses the others with 403).
# /v1/ai/config (/v3/ai/config for ai 6) lists models (a read); the rest of the AI SDK
# protocol generates.
INFERENCE_PATHS: Final = (
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/responses",
)
INFERENCE_PREFIXES: Final = ("/v1/ai/", "/v3/ai/")
INFERENCE_EXCEPTIONS: Final = frozenset({"/v1/ai/config", "/v3/ai/config"})


def allows(role: Role, action: Action) -> bool:
    return role in ALLOWED[action]


def permitted_actions(role: Role, operator: bool = False) -> tuple[Action, ...]:
    """Everything ``role`` (and, for an ``operator``, the operator) may do, in table order."""
    return tuple(
        action
        for action in Action
        if role in ALLOWED[action] or (operator and action in OPERATOR_ACTIONS)
    )


def require(role: Role, action: Action) -> None:
    """Raise :class:`Forbidden` (403) unless ``role`` may do ``action``."""
    if role not in ALLOWED[action]:
        raise Forbidden(f"a team {role.value} may not {_DESCRIPTIONS[action]}")


def require_operator(operator: bool, action: Action) -> None:
    """Raise :class:`Forbidden` (403) unless the caller is an operator (``action`` is one of
    :data:`OPERATOR_ACTIONS`)."""
    if not operator:
        raise Forbidden(f"only an operator may {_DESCRIPTIONS[action]}")


def is_inference_path(path: str) -> bool:
    """Whether the request path (query string and all) is an inference endpoint."""
    path = path.partition("?")[0].rstrip("/")
    if path in INFERENCE_PATHS:
        return True
    return path.startswith(INFERENCE_PREFIXES) and path not in INFERENCE_EXCEPTIONS
