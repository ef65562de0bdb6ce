"""Facts the auth service publishes (via its outbox): activity, key revocations, role changes,
BYOK credential changes.

Subjects and payloads are in docs/internal-contracts.md ("Events"). Activity facts name the
actor: the API key a change was made with (its user in ``details.userId``), else the user, else
the system.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.events.v1 import activity_pb2, auth_pb2
from tollgate_common.bus import ACTIVITY_RECORDED
from tollgate_common.ids import new_id
from tollgate_common.outbox import Fact, Outbox
from tollgate_common.revocations import KEY_REVOKED, MEMBERSHIP_CHANGED

from tollgate_auth.domain import Principal

__all__ = ["BYOK_CHANGED", "KEY_REVOKED", "MEMBERSHIP_CHANGED", "ActivityType", "AuthEvents"]

BYOK_CHANGED: Final = "tollgate.auth.byok_changed.v1"


class ActivityType:
    """The activity log's event types for changes made here (docs/admin-api.md)."""

    TEAM_CREATED: Final = "team-created"
    TEAM_NAME_UPDATE: Final = "team-name-update"
    TEAM_SLUG_UPDATE: Final = "team-slug-update"
    TEAM_DELETE: Final = "team-delete"
    TEAM_MEMBER_ADD: Final = "team-member-add"
    TEAM_MEMBER_ROLE_UPDATE: Final = "team-member-role-update"
    TEAM_MEMBER_DELETE: Final = "team-member-delete"
    TEAM_MEMBER_LEAVE: Final = "team-member-leave"
    PROJECT_CREATED: Final = "project-created"
    PROJECT_DELETE: Final = "project-delete"
    API_KEY_CREATED: Final = "api-key-created"
    API_KEY_REVOKED: Final = "api-key-revoked"
    BYOK_CREDENTIAL_ADDED: Final = "byok-credential-added"
    BYOK_CREDENTIAL_UPDATED: Final = "byok-credential-updated"
    BYOK_CREDENTIAL_REMOVED: Final = "byok-credential-removed"
    BYOK_CREDENTIAL_TESTED: Final = "byok-credential-tested"
    OIDC_ISSUER_ADDED: Final = "oidc-issuer-added"
    OIDC_ISSUER_REMOVED: Final = "oidc-issuer-removed"
    OPERATOR_ADDED: Final = "operator-added"
    OPERATOR_REMOVED: Final = "operator-removed"


def _timestamp(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at.astimezone(UTC))
    return ts


def actor_of(caller: Principal) -> activity_pb2.Actor:
    if caller.key_id:
        return activity_pb2.Actor(id=caller.key_id, type=activity_pb2.ACTOR_TYPE_API_KEY)
    if caller.user_id:
        return activity_pb2.Actor(id=caller.user_id, type=activity_pb2.ACTOR_TYPE_USER)
    return activity_pb2.Actor(type=activity_pb2.ACTOR_TYPE_SYSTEM)


class AuthEvents:
    """Builds the auth service's facts and hands them to the outbox (never blocks)."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def activity(
        self,
        caller: Principal,
        team_id: str,
        type_: str,
        target: tuple[str, str] | None,
        details: Mapping[str, str] | None = None,
        *,
        project_id: str = "",
        at: datetime | None = None,
    ) -> None:
        all_details = dict(details or {})
        if caller.key_id and caller.user_id:
            all_details.setdefault("userId", caller.user_id)
        event_id = new_id("evt")
        fact = activity_pb2.ActivityRecorded(
            event_id=event_id,
            team_id=team_id,
            project_id=project_id,
            type=type_,
            actor=actor_of(caller),
            target=activity_pb2.Target(type=target[0], id=target[1]) if target else None,
            details=all_details,
            occurred_at=_timestamp(at or datetime.now(UTC)),
        )
        self._outbox.put(Fact(ACTIVITY_RECORDED, event_id, fact.SerializeToString()))

    def key_revoked(self, key_id: str, team_id: str, reason: str, at: datetime) -> None:
        event_id = new_id("evt")
        fact = auth_pb2.KeyRevoked(
            event_id=event_id,
            key_id=key_id,
            team_id=team_id,
            reason=reason,
            revoked_at=_timestamp(at),
        )
        self._outbox.put(Fact(KEY_REVOKED, event_id, fact.SerializeToString()))

    def membership_changed(self, team_id: str, user_id: str, at: datetime) -> None:
        event_id = new_id("evt")
        fact = auth_pb2.MembershipChanged(
            event_id=event_id, team_id=team_id, user_id=user_id, changed_at=_timestamp(at)
        )
        self._outbox.put(Fact(MEMBERSHIP_CHANGED, event_id, fact.SerializeToString()))

    def byok_changed(self, team_id: str, provider: str, at: datetime) -> None:
        """``provider`` empty: every credential of the team (the team is gone)."""
        event_id = new_id("evt")
        fact = auth_pb2.ByokChanged(
            event_id=event_id, team_id=team_id, provider=provider, changed_at=_timestamp(at)
        )
        self._outbox.put(Fact(BYOK_CHANGED, event_id, fact.SerializeToString()))
