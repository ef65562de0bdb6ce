"""Internal trust (issue 17): a process on the same host or network that lacks the
installation's secret is refused at every internal door, and a service is refused the methods
that are not for it; nothing changes behind a refused call.

The doors: the services' gRPC ports (billing's credit, auth's stored provider keys, the
router's generations, Envoy's ext_authz check), NATS (each service has a user that may publish
its own facts only), and the edge's HTTP port (identity headers are believed only from Envoy).
Health checks stay open: they tell nobody anything."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate.router.v1 import router_pb2, router_pb2_grpc
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2
from tollgate_cli import nats_config
from tollgate_cli.stack import SERVICES, Stack
from tollgate_common.bus import USAGE_RECORDED
from tollgate_common.bus_link import with_credentials

from tests.support.admin import AdminSuite, Secrets, Tenant, new_tenant
from tests.support.cli import TOLLGATE
from tests.support.internal import Metadata, as_caller, as_stranger, from_envoy
from tests.support.upstreams import Upstream

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture(scope="module")
def tenant(stack: Stack) -> Tenant:
    return new_tenant(AdminSuite(stack, "sqlite", Secrets([stack.bootstrap_key()])), "trust")


@pytest.fixture(scope="module")
def byok_secret(tenant: Tenant) -> str:
    """A provider key the tenant stored (BYOK): what a stranger would like to read."""
    secret = f"sk-trust-{uuid.uuid4().hex}"
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": secret}})
    return secret


@pytest.fixture
def channel(stack: Stack, request: pytest.FixtureRequest) -> Iterator[grpc.Channel]:
    port = getattr(stack.config.ports, request.param)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened


def _refused(call: Any, metadata: Metadata) -> grpc.StatusCode:
    """The status a call made with ``metadata`` fails with (it must fail)."""
    with pytest.raises(grpc.RpcError) as refused:
        call(metadata)
    code: grpc.StatusCode = refused.value.code()
    return code


@pytest.mark.parametrize("channel", ["billing"], indirect=True)
def test_only_the_edge_may_top_up_credit(
    stack: Stack, tenant: Tenant, channel: grpc.Channel
) -> None:
    stub = billing_pb2_grpc.BillingServiceStub(channel)
    before = tenant.owner.ok("GET", "/v1/credits")

    def top_up(metadata: Metadata) -> Any:
        request = billing_pb2.TopUpRequest(team_id=tenant.team_id, amount="1000")
        return stub.TopUp(request, metadata=metadata, timeout=10)

    assert _refused(top_up, ()) == UNAUTHENTICATED
    assert _refused(top_up, as_stranger("edge")) == UNAUTHENTICATED
    assert _refused(top_up, as_caller(stack, "router")) == DENIED
    assert _refused(top_up, as_caller(stack, "activity")) == DENIED
    assert tenant.owner.ok("GET", "/v1/credits") == before

    # Holds are the router's: the edge may not place one either.
    def reserve(metadata: Metadata) -> Any:
        request = billing_pb2.ReserveRequest(team_id=tenant.team_id)
        return stub.Reserve(request, metadata=metadata, timeout=10)

    assert _refused(reserve, ()) == UNAUTHENTICATED
    assert _refused(reserve, as_caller(stack, "edge")) == DENIED


@pytest.mark.parametrize("channel", ["auth"], indirect=True)
def test_a_stored_provider_key_is_given_to_the_router_alone(
    stack: Stack, tenant: Tenant, byok_secret: str, channel: grpc.Channel
) -> None:
    stub = auth_pb2_grpc.AuthServiceStub(channel)
    request = auth_pb2.GetByokSecretRequest(team_id=tenant.team_id, provider="openai")

    def read(metadata: Metadata) -> Any:
        return stub.GetByokSecret(request, metadata=metadata, timeout=10)

    def read_all(metadata: Metadata) -> Any:
        listing = auth_pb2.ListByokSecretsRequest(team_id=tenant.team_id)
        return stub.ListByokSecrets(listing, metadata=metadata, timeout=10)

    for call in (read, read_all):
        assert _refused(call, ()) == UNAUTHENTICATED
        assert _refused(call, as_stranger("router")) == UNAUTHENTICATED
        assert _refused(call, as_caller(stack, "edge")) == DENIED
        assert _refused(call, as_caller(stack, "billing")) == DENIED
    # The door opens for the router, and only the installation's router token opens it.
    reply = read(as_caller(stack, "router"))
    assert reply.found and reply.credentials["apiKey"] == byok_secret


@pytest.mark.parametrize("channel", ["router"], indirect=True)
def test_only_the_edge_may_ask_the_router_for_a_generation(
    stack: Stack, tenant: Tenant, channel: grpc.Channel, fresh_upstream: Upstream
) -> None:
    stub = router_pb2_grpc.RouterServiceStub(channel)
    request = router_pb2.StreamGenerateRequest(
        caller=router_pb2.CallerContext(team_id=tenant.team_id),
        model="openai/gpt-4o-mini",
        messages=[router_pb2.ChatMessage(role="user", text="hi")],
    )

    def generate(metadata: Metadata) -> Any:
        return list(stub.StreamGenerate(request, metadata=metadata, timeout=10))

    assert _refused(generate, ()) == UNAUTHENTICATED
    assert _refused(generate, as_stranger("edge")) == UNAUTHENTICATED
    assert _refused(generate, as_caller(stack, "billing")) == DENIED
    assert fresh_upstream.requests() == []  # no provider was called


@pytest.mark.parametrize("channel", ["auth"], indirect=True)
def test_only_envoy_and_the_edge_may_ask_auth_to_check_a_request(
    stack: Stack, channel: grpc.Channel
) -> None:
    check = channel.unary_unary(
        "/envoy.service.auth.v3.Authorization/Check",
        request_serializer=external_auth_pb2.CheckRequest.SerializeToString,
        response_deserializer=external_auth_pb2.CheckResponse.FromString,
    )
    request = external_auth_pb2.CheckRequest()
    http = request.attributes.request.http
    http.method, http.path = "GET", "/v1/models"
    http.headers["authorization"] = f"Bearer {stack.bootstrap_key()}"

    def ask(metadata: Metadata) -> Any:
        return check(request, metadata=metadata, timeout=10)

    assert _refused(ask, ()) == UNAUTHENTICATED
    assert _refused(ask, as_stranger("edge")) == UNAUTHENTICATED
    assert _refused(ask, as_caller(stack, "router")) == DENIED
    # Envoy itself is let through (every admin request of the suite goes this way), and the
    # edge, which asks on a miss of its credential cache for the hot model routes.
    assert ask(as_caller(stack, "envoy")).status.code == 0
    assert ask(as_caller(stack, "edge")).status.code == 0


def test_health_checks_need_no_token(stack: Stack) -> None:
    for service in SERVICES:
        port = getattr(stack.config.ports, service)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as opened:
            stub = health_pb2_grpc.HealthStub(opened)
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service


def test_the_edge_believes_identity_headers_only_from_envoy(stack: Stack, tenant: Tenant) -> None:
    edge = f"http://127.0.0.1:{stack.config.ports.edge}"
    owner = {
        "x-tollgate-team-id": tenant.team_id,
        "x-tollgate-user-id": tenant.owner_id,
        "x-tollgate-role": "owner",
        "x-tollgate-auth-method": "api-key",
    }
    forged_envoy = {"x-tollgate-envoy-token": "0" * 64}
    for headers in (owner, {**owner, **forged_envoy}):
        reply = httpx.get(f"{edge}/v1/credits", headers=headers)
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"]["type"] == "authentication_error"
        budget = f"{edge}/v1/budgets/team/{tenant.team_id}"
        assert httpx.put(budget, json={"limit": "1"}, headers=headers).status_code == 401
    # The same headers with Envoy's token are believed (this is how Envoy forwards).
    assert httpx.get(f"{edge}/v1/credits", headers={**owner, **from_envoy(stack)}).is_success
    # Probes reach the edge directly; through Envoy a client's own key works as ever.
    assert httpx.get(f"{edge}/healthz").status_code == 200
    assert tenant.owner.call("GET", "/v1/credits").status_code == 200


def test_on_the_hot_routes_identity_headers_are_never_believed(
    stack: Stack, tenant: Tenant
) -> None:
    """The edge authenticates the model routes itself: identity headers name nobody there, not
    even with Envoy's token; only a credential does."""
    owner = {
        "x-tollgate-team-id": tenant.team_id,
        "x-tollgate-user-id": tenant.owner_id,
        "x-tollgate-role": "owner",
        "x-tollgate-auth-method": "api-key",
    }
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    edge = f"http://127.0.0.1:{stack.config.ports.edge}"
    for url, headers in (
        (f"{edge}/v1/chat/completions", {**owner, **from_envoy(stack)}),
        (f"{stack.base_url}/chat/completions", owner),  # through Envoy
    ):
        reply = httpx.post(url, json=body, headers=headers, timeout=30)
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"]["type"] == "authentication_error"
    # A viewer's key with an owner's identity headers: the key decides (viewers may not call
    # inference), directly at the edge with Envoy's token as through Envoy.
    reply = tenant.viewer.call("POST", "/v1/chat/completions", json=body, headers=owner)
    assert reply.status_code == 403, reply.text
    direct = {**owner, **from_envoy(stack), "authorization": f"Bearer {tenant.viewer.key}"}
    reply = httpx.post(f"{edge}/v1/chat/completions", json=body, headers=direct, timeout=30)
    assert reply.status_code == 403, reply.text


async def _connect(url: str) -> nats.NATS:
    return await nats.connect(
        url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False
    )


def test_nats_refuses_a_client_without_credentials(stack: Stack) -> None:
    async def attempt(url: str) -> None:
        with pytest.raises(Exception, match=r"(?i)authorization"):
            await _connect(url)

    asyncio.run(attempt(stack.nats_server_url))
    asyncio.run(attempt(with_credentials(stack.nats_server_url, "router", "not-its-password")))


def test_only_the_router_may_publish_a_usage_fact(stack: Stack) -> None:
    """A service's user publishing another's fact is refused by the server (a permissions
    violation), and the usage stream does not grow."""

    async def usage_count() -> int:
        operator = await _connect(stack.nats_url)
        try:
            info = await operator.jetstream().stream_info("TOLLGATE_USAGE")
            return int(info.state.messages)
        finally:
            await operator.close()

    async def publish_as(user: str) -> list[str]:
        errors: list[str] = []

        async def record(exc: Exception) -> None:
            errors.append(str(exc))

        secret = nats_config.password(stack.internal_keys(), user)
        nc = await nats.connect(
            with_credentials(stack.nats_server_url, user, secret),
            error_cb=record,
            allow_reconnect=False,
        )
        try:
            await nc.publish(USAGE_RECORDED, b"forged usage")
            await nc.flush()
            await asyncio.sleep(0.5)  # the server's -ERR comes back asynchronously
        finally:
            await nc.close()
        return errors

    before = asyncio.run(usage_count())
    for user in ("activity", "billing", "auth"):
        errors = asyncio.run(publish_as(user))
        assert any("permissions violation" in error.lower() for error in errors), (user, errors)
    assert asyncio.run(usage_count()) == before


def test_the_edges_nats_user_only_follows_revocations(stack: Stack) -> None:
    """The edge's user may subscribe to the facts that take access away and publish nothing: it
    cannot revoke a key, nor read usage."""

    async def try_as_edge() -> list[str]:
        errors: list[str] = []

        async def record(exc: Exception) -> None:
            errors.append(str(exc))

        secret = nats_config.password(stack.internal_keys(), "edge")
        nc = await nats.connect(
            with_credentials(stack.nats_server_url, "edge", secret),
            error_cb=record,
            allow_reconnect=False,
        )
        try:
            await nc.subscribe("tollgate.auth.key_revoked.v1")
            await nc.flush()
            await asyncio.sleep(0.5)
            assert errors == []
            await nc.publish("tollgate.auth.key_revoked.v1", b"forged revocation")
            await nc.subscribe(USAGE_RECORDED)
            await nc.flush()
            await asyncio.sleep(0.5)  # the server's -ERR comes back asynchronously
        finally:
            await nc.close()
        return errors

    errors = [error.lower() for error in asyncio.run(try_as_edge())]
    assert any("publish" in e and "permissions violation" in e for e in errors), errors
    assert any("subscription" in e and "permissions violation" in e for e in errors), errors


def test_tollgate_facts_connects_as_the_operator_of_the_data_dir(stack: Stack) -> None:
    """An operator on the machine of ``tollgate up`` needs no NATS password of their own: the
    CLI derives the operator's from the data dir's secret; without it NATS refuses the CLI."""
    env = {**os.environ, "TOLLGATE_NATS_URL": stack.nats_server_url}
    env.pop("TOLLGATE_NATS_USER", None)
    env.pop("TOLLGATE_NATS_PASSWORD", None)
    argv = [TOLLGATE, "facts", "dead-letters", "-o", "json"]
    run = functools.partial(subprocess.run, argv, capture_output=True, text=True, timeout=60)
    listed = run(env={**env, "TOLLGATE_DATA_DIR": str(stack.config.data_dir)})
    assert listed.returncode == 0, listed.stderr
    refused = run(env={**env, "TOLLGATE_DATA_DIR": str(stack.config.data_dir / "elsewhere")})
    assert refused.returncode == 1 and "authorization" in refused.stderr.lower()
