"""Typed values the auth service passes between its layers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

Clock = Callable[[], datetime]
"""Where a service reads the time (tests pass their own)."""


# The bootstrap key's user (docs/admin-api.md): an operator, owner of the bootstrap team.
BOOTSTRAP_EMAIL = "admin@localhost"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    """A user's role inside a team (docs/permissions.md)."""

    OWNER = "owner"
    MEMBER = "member"
    VIEWER = "viewer"


class AuthMethod(StrEnum):
    """How the caller proved who it is; the value is the ``x-tollgate-auth-method`` header."""

    API_KEY = "api-key"
    OIDC = "oidc"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, in which team."""

    team_id: str
    team_slug: str
    user_id: str
    role: Role
    auth_method: AuthMethod
    key_id: str = ""
    project_id: str = ""
    # An operator of the installation (docs/permissions.md); never an OIDC token.
    operator: bool = False

    @classmethod
    def of_oidc_token(cls, team_id: str, team_slug: str, project_id: str) -> Principal:
        """Who an OIDC token acts as: its team (and project) with a member's rights, no user."""
        return cls(
            team_id=team_id,
            team_slug=team_slug,
            user_id="",
            role=Role.MEMBER,
            auth_method=AuthMethod.OIDC,
            project_id=project_id,
        )


@dataclass(frozen=True, slots=True)
class Authenticated:
    """A credential that was accepted: whom it acts for, and when it stops working by itself
    (a key's expiry, a token's ``exp``; ``None``: never). Revocations come on top of that."""

    principal: Principal
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as stored: its hash, whom it acts for, and whether it still may."""

    key_hash: str
    principal: Principal
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key to insert: only its hash and its 12-character prefix are stored."""

    key_id: str
    team_id: str
    user_id: str
    name: str
    prefix: str
    key_hash: str
    created_at: datetime
    project_id: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BootstrapOwner:
    """The first team, its owner and the owner's key (``TOLLGATE_BOOTSTRAP_API_KEY``, else generated)."""

    team_slug: str
    team_name: str
    email: str
    key_name: str
    prefix: str
    key_hash: str


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A freshly created key: ``key`` is shown once and never stored."""

    key_id: str
    key: str
    prefix: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    slug: str
    name: str
    created_at: datetime
    free_tier: bool = True


@dataclass(frozen=True, slots=True)
class TeamMembership:
    """A team as one of its members sees it: the team and that member's role."""

    team: Team
    role: Role


@dataclass(frozen=True, slots=True)
class Operator:
    """A user with the operator privilege; ``bootstrap``: the bootstrap key's user, who always
    stays one."""

    user_id: str
    email: str
    bootstrap: bool


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    email: str
    role: Role
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    team_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """An API key as listed: everything but the key (only its 12-character prefix)."""

    id: str
    prefix: str
    name: str
    team_id: str
    user_id: str
    created_at: datetime
    project_id: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A key just created: its listing and the key itself (shown once, never stored)."""

    info: ApiKeyInfo
    key: str


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``limit`` items after the item whose sort key is ``after`` (empty: from the start)."""

    limit: int
    after: str = ""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    # The sort key of the last item when more follow; empty on the last page.
    next_after: str = ""


@dataclass(frozen=True, slots=True)
class ByokTest:
    """The outcome of the last test of a BYOK credential."""

    ok: bool
    status_code: int
    message: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ByokCredential:
    """A team's credential for one provider, as listed: never the secret, only a hint."""

    team_id: str
    provider: str
    enabled: bool
    hint: str
    created_at: datetime
    updated_at: datetime
    last_test: ByokTest | None = None


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An external OIDC issuer a team trusts, and how its tokens map to the team."""

    id: str
    team_id: str
    team_slug: str
    issuer: str
    audience: str
    team_claim_kind: str  # "teamId" or "teamSlug": what the team claim's value must equal
    team_claim: str
    created_at: datetime
    jwks_uri: str | None = None
    jwks_json: str | None = None
    project_claim: str | None = None
