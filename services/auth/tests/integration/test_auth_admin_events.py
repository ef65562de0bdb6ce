"""Admin RPCs on real auth servers sharing one database and one NATS: revocations and role
changes reach every replica's key cache within a second, and every change is an activity fact."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import nats
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from tollgate.auth.v1 import auth_pb2
from tollgate.events.v1 import activity_pb2
from tollgate.events.v1 import auth_pb2 as auth_events_pb2
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate_auth.events import MEMBERSHIP_CHANGED
from tollgate_auth.settings import AuthSettings
from tollgate_common.bus import ACTIVITY_RECORDED
from tollgate_common.errors import error_details

BOOTSTRAP_KEY = "bootstrap-secret-for-admin-events"


def _check(key: str, path: str = "/v1/chat/completions") -> pb.CheckRequest:
    return pb.CheckRequest(
        attributes=pb.AttributeContext(
            request=pb.AttributeContext.Request(
                http=pb.AttributeContext.HttpRequest(
                    method="POST", path=path, headers={"x-api-key": key}
                )
            )
        )
    )


async def _live(server: Any) -> None:
    for _ in range(200):
        if server.app.listener.live:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the auth server never subscribed to key revocations")


async def _within_one_second(probe: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Call ``probe`` until ``done(answer)`` or one second has passed; the last answer."""
    deadline = time.monotonic() + 1.0
    while True:
        answer = await probe()
        if done(answer) or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(0.02)


async def _principal(server: Any, key: str) -> auth_pb2.Principal:
    reply = await server.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=key))
    return reply.principal


async def test_revocation_and_role_changes_reach_every_replica(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    settings = make_settings(bootstrap_api_key=BOOTSTRAP_KEY)
    first = await auth_servers.start(settings)
    second = await auth_servers.start(settings)
    await asyncio.gather(_live(first), _live(second))
    admin = await _principal(first, BOOTSTRAP_KEY)

    created = await first.auth.CreateApiKey(
        auth_pb2.CreateApiKeyRequest(caller=admin, name="shared")
    )
    key = created.key
    for server in (first, second):  # now cached by both
        assert (await server.ext_authz.Check(_check(key))).status.code == 0

    await first.auth.RevokeApiKey(
        auth_pb2.RevokeApiKeyRequest(caller=admin, key_id=created.api_key.id)
    )
    answer = await _within_one_second(
        lambda: second.ext_authz.Check(_check(key)), lambda a: a.status.code != 0
    )
    assert answer.denied_response.status.code == 401

    # A member demoted to viewer on one replica may no longer call inference on the other.
    member = await first.auth.AddMember(
        auth_pb2.AddMemberRequest(
            caller=admin, team_id=admin.team_id, email="dora@example.com", role=auth_pb2.ROLE_MEMBER
        )
    )
    doras = await first.auth.CreateApiKey(
        auth_pb2.CreateApiKeyRequest(caller=admin, name="dora", user_id=member.member.user_id)
    )
    assert (await second.ext_authz.Check(_check(doras.key))).status.code == 0
    await first.auth.UpdateMember(
        auth_pb2.UpdateMemberRequest(
            caller=admin,
            team_id=admin.team_id,
            user_id=member.member.user_id,
            role=auth_pb2.ROLE_VIEWER,
        )
    )
    answer = await _within_one_second(
        lambda: second.ext_authz.Check(_check(doras.key)), lambda a: a.status.code != 0
    )
    assert answer.denied_response.status.code == 403
    # Reads stay allowed, with the new role in the identity headers.
    read = await second.ext_authz.Check(_check(doras.key, "/v1/models"))
    headers = {h.header.key: h.header.value for h in read.ok_response.headers}
    assert headers["x-tollgate-role"] == "viewer"
    assert headers["x-tollgate-permissions"] == "read"


async def test_every_change_is_an_activity_fact(
    make_settings: Callable[..., AuthSettings], auth_servers: Any, nats_url: str
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    await _live(server)
    admin = await _principal(server, BOOTSTRAP_KEY)
    nc = await nats.connect(nats_url)
    facts: list[activity_pb2.ActivityRecorded] = []

    async def collect(msg: Any) -> None:
        fact = activity_pb2.ActivityRecorded.FromString(msg.data)
        if fact.actor.id == admin.key_id:
            facts.append(fact)

    await nc.subscribe(ACTIVITY_RECORDED, cb=collect)
    try:
        auth = server.auth
        team = (
            await auth.CreateTeam(auth_pb2.CreateTeamRequest(caller=admin, slug="facts", name="F"))
        ).team
        await auth.UpdateTeam(auth_pb2.UpdateTeamRequest(caller=admin, team_id=team.id, name="G"))
        member = (
            await auth.AddMember(
                auth_pb2.AddMemberRequest(
                    caller=admin,
                    team_id=team.id,
                    email="eve@example.com",
                    role=auth_pb2.ROLE_VIEWER,
                )
            )
        ).member
        await auth.UpdateMember(
            auth_pb2.UpdateMemberRequest(
                caller=admin, team_id=team.id, user_id=member.user_id, role=auth_pb2.ROLE_MEMBER
            )
        )
        project = (
            await auth.CreateProject(
                auth_pb2.CreateProjectRequest(caller=admin, team_id=team.id, name="web")
            )
        ).project
        key = (
            await auth.CreateApiKey(
                auth_pb2.CreateApiKeyRequest(caller=admin, name="k", team_id=team.id)
            )
        ).api_key
        await auth.RevokeApiKey(auth_pb2.RevokeApiKeyRequest(caller=admin, key_id=key.id))
        await auth.DeleteProject(
            auth_pb2.DeleteProjectRequest(caller=admin, team_id=team.id, project_id=project.id)
        )
        await auth.RemoveMember(
            auth_pb2.RemoveMemberRequest(caller=admin, team_id=team.id, user_id=member.user_id)
        )
        await auth.DeleteTeam(auth_pb2.DeleteTeamRequest(caller=admin, team_id=team.id))
        expected = [
            ("team-created", "team", team.id),
            ("team-name-update", "team", team.id),
            ("team-member-add", "user", member.user_id),
            ("team-member-role-update", "user", member.user_id),
            ("project-created", "project", project.id),
            ("api-key-created", "api-key", key.id),
            ("api-key-revoked", "api-key", key.id),
            ("project-delete", "project", project.id),
            ("team-member-delete", "user", member.user_id),
            ("team-delete", "team", team.id),
        ]
        for _ in range(100):
            if len(facts) >= len(expected):
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    # Published in batches (not necessarily in order): compare what, not when.
    assert sorted((f.type, f.target.type, f.target.id) for f in facts) == sorted(expected)
    for fact in facts:
        assert fact.team_id == team.id
        assert fact.actor.type == activity_pb2.ACTOR_TYPE_API_KEY
        assert fact.details["userId"] == admin.user_id
        assert fact.event_id.startswith("evt_") and fact.HasField("occurred_at")
    role_update = next(f for f in facts if f.type == "team-member-role-update")
    assert dict(role_update.details) == {"from": "viewer", "to": "member", "userId": admin.user_id}


async def test_an_admin_call_for_another_team_is_not_found(
    make_settings: Callable[..., AuthSettings], auth_servers: Any
) -> None:
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    admin = await _principal(server, BOOTSTRAP_KEY)
    stranger = auth_pb2.Principal(
        team_id="team_other", user_id="user_stranger", key_id="key_x", role=auth_pb2.ROLE_OWNER
    )
    for call, request in [
        (server.auth.GetTeam, auth_pb2.GetTeamRequest(caller=stranger, team_id=admin.team_id)),
        (
            server.auth.ListMembers,
            auth_pb2.ListMembersRequest(caller=stranger, team_id=admin.team_id),
        ),
        (
            server.auth.RevokeApiKey,
            auth_pb2.RevokeApiKeyRequest(caller=stranger, key_id=admin.key_id),
        ),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request)
        assert error_details(caught.value).code is grpc.StatusCode.NOT_FOUND
    # The role a caller claims does not matter: the database's does.
    viewer = await server.auth.AddMember(
        auth_pb2.AddMemberRequest(
            caller=admin, team_id=admin.team_id, email="val@example.com", role=auth_pb2.ROLE_VIEWER
        )
    )
    claims_owner = auth_pb2.Principal(
        team_id=admin.team_id, user_id=viewer.member.user_id, role=auth_pb2.ROLE_OWNER
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.auth.CreateProject(
            auth_pb2.CreateProjectRequest(caller=claims_owner, team_id=admin.team_id, name="p")
        )
    assert error_details(caught.value).code is grpc.StatusCode.PERMISSION_DENIED


async def test_a_deleted_team_project_or_issuer_drops_the_whole_teams_identities(
    make_settings: Callable[..., AuthSettings], auth_servers: Any, nats_url: str
) -> None:
    """OIDC tokens name no key: the caches that hold them (the edge's) learn of a deleted
    project, trusted issuer or team from a MembershipChanged naming the team and no user."""
    server = await auth_servers.start(make_settings(bootstrap_api_key=BOOTSTRAP_KEY))
    await _live(server)
    admin = await _principal(server, BOOTSTRAP_KEY)
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = {**ECAlgorithm.to_jwk(key, as_dict=True), "kid": "k-1"}
    nc = await nats.connect(nats_url)
    changed: list[tuple[str, str]] = []

    async def collect(msg: Any) -> None:
        fact = auth_events_pb2.MembershipChanged.FromString(msg.data)
        changed.append((fact.team_id, fact.user_id))

    await nc.subscribe(MEMBERSHIP_CHANGED, cb=collect)
    try:
        auth = server.auth
        team = (
            await auth.CreateTeam(auth_pb2.CreateTeamRequest(caller=admin, slug="gone", name="G"))
        ).team
        project = (
            await auth.CreateProject(
                auth_pb2.CreateProjectRequest(caller=admin, team_id=team.id, name="web")
            )
        ).project
        issuer = (
            await auth.AddOidcIssuer(
                auth_pb2.AddOidcIssuerRequest(
                    caller=admin,
                    team_id=team.id,
                    issuer=auth_pb2.OidcIssuer(
                        issuer="https://issuer.example",
                        jwks_json=json.dumps({"keys": [jwk]}),
                        audience="tollgate",
                        team_claim_kind="teamId",
                        team_claim="tid",
                    ),
                )
            )
        ).issuer
        await auth.DeleteProject(
            auth_pb2.DeleteProjectRequest(caller=admin, team_id=team.id, project_id=project.id)
        )
        await auth.DeleteOidcIssuer(
            auth_pb2.DeleteOidcIssuerRequest(caller=admin, team_id=team.id, issuer_id=issuer.id)
        )
        await auth.DeleteTeam(auth_pb2.DeleteTeamRequest(caller=admin, team_id=team.id))
        for _ in range(100):
            if len(changed) >= 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    assert changed == [(team.id, "")] * 3
