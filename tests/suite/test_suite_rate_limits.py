"""Rate limits through the whole suite, with two router processes behind one edge: a key's
requests per minute hold exactly whichever router serves each request (429
``rate_limit_exceeded`` naming the limit, with Retry-After and the ``x-ratelimit-*`` headers,
nothing sent upstream); concurrent requests free their slot at the end; tokens per minute
refuse as ``tokens``; owners set limits, members read them, another team's ids are 404, bad
input is a 400 that changes nothing, every change is in the activity log, the CLI does it all;
a provider's own 429 is ``provider_rate_limited``.

Counts are kept per UTC minute, so a test that counts requests starts early in a minute.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack
from tollgate_common.testing import free_port

from tests.suite.test_suite_aisdk_protocol import call as aisdk_call
from tests.support.admin import AdminSuite, Api, Secrets, Tenant, new_tenant
from tests.support.billing import billing_suite, priced_catalog
from tests.support.cli import ok as cli
from tests.support.polling import eventually
from tests.support.replicas import Routers, first_router_env, two_routers
from tests.support.upstreams import Upstream

CHEAP = "test/cheap"
CATALOG = priced_catalog(
    CHEAP, "A model so cheap that money is never the limit.", Decimal("0.000001"), Decimal(0)
)


@pytest.fixture(scope="module")
def routers(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routers]:
    """The suite with a second router process on the same database."""
    tmp = tmp_path_factory.mktemp("rate-limits")
    metrics = f"127.0.0.1:{free_port()}"
    with (
        billing_suite(upstream, tmp, CATALOG, first_router_env(metrics)) as stack,
        two_routers(stack, tmp, metrics, CHEAP) as both,
    ):
        yield both


@pytest.fixture
def tenant(routers: Routers) -> Tenant:
    return new_tenant(AdminSuite(routers.stack, "sqlite", Secrets()), "limits")


def _client(stack: Stack, api: Api) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=stack.base_url, api_key=api.key, max_retries=0, timeout=60)


def _sync(stack: Stack, api: Api) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=api.key, max_retries=0, timeout=60)


def _hello(client: openai.OpenAI, text: str = "hi") -> Any:
    return client.chat.completions.create(model=CHEAP, messages=[{"role": "user", "content": text}])


async def _burst(
    stack: Stack, api: Api, count: int
) -> tuple[list[Any], list[openai.APIStatusError]]:
    """``count`` chat completions at once: those served and those refused."""
    served: list[Any] = []
    refused: list[openai.APIStatusError] = []
    client = _client(stack, api)

    async def one(i: int) -> None:
        try:
            served.append(
                await client.chat.completions.with_raw_response.create(
                    model=CHEAP, messages=[{"role": "user", "content": f"hello {i}"}]
                )
            )
        except openai.APIStatusError as exc:
            refused.append(exc)

    async with client:
        await asyncio.gather(*(one(i) for i in range(count)))
    return served, refused


def _streamed_headers(stack: Stack, api: Api) -> dict[str, str]:
    """The headers of a streamed chat completion (read to its end)."""
    with _sync(stack, api).chat.completions.with_streaming_response.create(
        model=CHEAP, messages=[{"role": "user", "content": "stream"}], stream=True
    ) as streamed:
        assert streamed.status_code == 200
        list(streamed.iter_lines())
        return dict(streamed.headers)


def _early_in_a_minute() -> None:
    """Counts start again each UTC minute: wait for a fresh minute unless 40 s are left."""
    second = dt.datetime.now(dt.UTC).second
    if second > 20:
        time.sleep(60.5 - second)


def test_a_key_limit_holds_exactly_across_two_routers(
    routers: Routers, tenant: Tenant, upstream: Upstream
) -> None:
    owner = tenant.owner
    key_id = tenant.key_ids["owner"]
    limit = owner.ok("PUT", f"/v1/rate-limits/key/{key_id}", 201, json={"requestsPerMinute": 10})
    assert (limit["scope"], limit["id"], limit["requestsPerMinute"]) == ("key", key_id, 10)
    assert (limit["tokensPerMinute"], limit["concurrentRequests"]) == (None, None)
    upstream.reset()
    upstream.script(latency_ms=200, times=40)
    handled_before = routers.generations_handled()
    _early_in_a_minute()

    served, refused = asyncio.run(_burst(routers.stack, owner, 40))

    assert len(served) == 10
    assert len(upstream.requests()) == 10  # nothing sent upstream for a 429
    handled = [
        after - before
        for after, before in zip(routers.generations_handled(), handled_before, strict=True)
    ]
    assert all(count > 0 for count in handled), handled  # both routers served the key
    assert sum(handled) == 40
    assert {e.status_code for e in refused} == {429}
    error = refused[0]
    body = error.body
    assert isinstance(body, dict)
    assert (body["type"], body["code"], body["param"]) == (
        "requests",
        "rate_limit_exceeded",
        "requestsPerMinute",
    )
    assert f"key {key_id}" in body["message"]
    assert 1 <= int(error.response.headers["retry-after"]) <= 60
    assert error.response.headers["x-ratelimit-limit-requests"] == "10"
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert error.response.headers["x-ratelimit-reset-requests"].endswith("s")
    # Every served answer says what is left; each admission took exactly one of the ten.
    assert {r.headers["x-ratelimit-limit-requests"] for r in served} == {"10"}
    remaining = sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in served)
    assert remaining == list(range(10))
    assert all(r.headers["x-ratelimit-reset-requests"].endswith("s") for r in served)
    # Another key of the team is not limited, and its answers carry no such headers.
    unlimited = _sync(routers.stack, tenant.member).chat.completions.with_raw_response.create(
        model=CHEAP, messages=[{"role": "user", "content": "hi"}]
    )
    assert not [h for h in unlimited.headers if h.startswith("x-ratelimit-")]


def test_concurrency_slots_free_at_the_end_and_tokens_refuse_as_tokens(
    routers: Routers, tenant: Tenant, upstream: Upstream
) -> None:
    owner = tenant.owner
    path = f"/v1/rate-limits/team/{tenant.team_id}"
    owner.ok("PUT", path, 201, json={"concurrentRequests": 2})
    upstream.reset()
    upstream.script(latency_ms=3000, times=2)  # the two admitted hold their slots meanwhile

    served, refused = asyncio.run(_burst(routers.stack, tenant.member, 12))

    assert len(served) == 2
    assert len(refused) == 10
    params = {(e.body["type"], e.body["param"]) for e in refused if isinstance(e.body, dict)}
    assert params == {("requests", "concurrentRequests")}
    # The slots were given back: one more request, alone, is served.
    again, none = asyncio.run(_burst(routers.stack, tenant.member, 1))
    assert (len(again), none) == (1, [])
    # No per-minute limit applies yet: a streamed answer has no x-ratelimit-* headers.
    assert not [h for h in _streamed_headers(routers.stack, tenant.member) if "ratelimit" in h]

    replaced = owner.ok("PUT", path, 200, json={"tokensPerMinute": 200})
    assert (replaced["tokensPerMinute"], replaced["concurrentRequests"]) == (200, None)
    upstream.reset()
    _early_in_a_minute()
    client = _client(routers.stack, tenant.member)

    async def until_refused() -> tuple[int, openai.APIStatusError]:
        async with client:
            for count in range(50):
                try:
                    await client.chat.completions.create(
                        model=CHEAP, messages=[{"role": "user", "content": "count my tokens"}]
                    )
                except openai.APIStatusError as exc:
                    return count, exc
        raise AssertionError("never refused")

    streamed_headers = _streamed_headers(routers.stack, tenant.member)
    assert streamed_headers["x-ratelimit-limit-tokens"] == "200"
    _, error = asyncio.run(until_refused())
    assert error.status_code == 429
    body = error.body
    assert isinstance(body, dict) and (body["type"], body["param"]) == ("tokens", "tokensPerMinute")
    assert error.response.headers["x-ratelimit-limit-tokens"] == "200"


def test_owners_set_limits_members_read_them_other_teams_ids_are_404(
    routers: Routers, tenant: Tenant, upstream: Upstream
) -> None:
    stack = routers.stack
    owner, member, viewer = tenant.owner, tenant.member, tenant.viewer
    path = f"/v1/rate-limits/team/{tenant.team_id}"
    owner.ok("PUT", path, 201, json={"requestsPerMinute": 1000, "tokensPerMinute": 100000})
    key = tenant.key_ids["member"]
    owner.ok("PUT", f"/v1/rate-limits/key/{key}", 201, json={"requestsPerMinute": 1})
    for reader in (owner, member, viewer):
        listed = reader.ok("GET", "/v1/rate-limits")["data"]
        assert [(r["scope"], r["id"]) for r in listed] == [("team", tenant.team_id), ("key", key)]
    for other in (member, viewer):
        reply = other.call("PUT", path, json={"requestsPerMinute": 1})
        assert reply.status_code == 403 and reply.json()["error"]["type"] == "forbidden"
        assert other.call("DELETE", path).status_code == 403

    stranger = new_tenant(AdminSuite(stack, "sqlite", Secrets()), "stranger")
    for scope, scope_id in (
        ("project", stranger.project_id),
        ("key", stranger.key_ids["owner"]),
        ("team", stranger.team_id),
        ("key", "key_nope"),
    ):
        reply = owner.call(
            "PUT", f"/v1/rate-limits/{scope}/{scope_id}", json={"requestsPerMinute": 1}
        )
        assert reply.status_code == 404, (scope, reply.text)
    assert stranger.owner.ok("GET", "/v1/rate-limits")["data"] == []

    for body, param in (
        ({}, "requestsPerMinute"),
        ({"requestsPerMinute": 0}, "requestsPerMinute"),
        ({"tokensPerMinute": -5}, "tokensPerMinute"),
        ({"concurrentRequests": "8"}, "concurrentRequests"),
        ({"concurrentRequests": True}, "concurrentRequests"),
        ({"requestsPerMinute": 1.5}, "requestsPerMinute"),
        ({"requestsPerMinute": 1, "burst": 2}, "burst"),
    ):
        reply = owner.call("PUT", path, json=body)
        assert reply.status_code == 400, body
        assert reply.json()["error"]["param"] == param
    assert (
        owner.call("PUT", "/v1/rate-limits/org/x", json={"requestsPerMinute": 1}).status_code == 400
    )
    assert owner.ok("GET", "/v1/rate-limits")["data"][0]["requestsPerMinute"] == 1000

    # The member's key allows one request a minute; removing its limit lifts it at once.
    upstream.reset()
    _early_in_a_minute()
    client = _sync(stack, member)
    _hello(client, "1")
    with pytest.raises(openai.RateLimitError) as refused:
        _hello(client, "2")
    assert refused.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    owner.ok("DELETE", f"/v1/rate-limits/key/{key}", 204)
    assert owner.call("DELETE", f"/v1/rate-limits/key/{key}").status_code == 404

    def served() -> bool:
        body = {"model": CHEAP, "messages": [{"role": "user", "content": "3"}]}
        return member.call("POST", "/v1/chat/completions", json=body).status_code == 200

    assert eventually(served, timeout=10)

    target = {"type": "key", "id": key}
    for type_ in ("rate-limit-created", "rate-limit-deleted"):

        def logged(t: str = type_) -> bool:
            events = owner.ok("GET", "/v1/activity", params={"type": t})["data"]
            return target in [e["target"] for e in events]

        assert eventually(logged)

    # The CLI: set, list (any member), delete.
    project = tenant.project_id
    made = cli(
        stack,
        "limits",
        "set",
        "project",
        project,
        "--rpm",
        "30",
        "--concurrent",
        "4",
        key=owner.key,
    )
    assert (made["requestsPerMinute"], made["concurrentRequests"], made["tokensPerMinute"]) == (
        30,
        4,
        None,
    )
    listed = cli(stack, "limits", "list", key=viewer.key)
    assert ("project", project) in [(r["scope"], r["id"]) for r in listed]
    cli(stack, "limits", "delete", "project", project, key=owner.key)
    assert ("project", project) not in [
        (r["scope"], r["id"]) for r in owner.ok("GET", "/v1/rate-limits")["data"]
    ]


def test_a_providers_own_429_is_provider_rate_limited(
    routers: Routers, tenant: Tenant, upstream: Upstream
) -> None:
    upstream.reset()
    upstream.script(status=429, times=1)
    try:
        with pytest.raises(openai.RateLimitError) as refused:
            _hello(_sync(routers.stack, tenant.member))
    finally:
        upstream.reset()
    body = refused.value.body
    assert isinstance(body, dict) and body["code"] == "provider_rate_limited"
    assert "openai" in body["message"]
    assert refused.value.response.headers["retry-after"]


def test_every_inference_surface_of_a_limited_key_says_its_limits(
    routers: Routers, tenant: Tenant
) -> None:
    stack, member = routers.stack, tenant.member
    limit = f"/v1/rate-limits/key/{tenant.key_ids['member']}"
    tenant.owner.ok("PUT", limit, 201, json={"requestsPerMinute": 500})
    prompt = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    message = {"model": CHEAP, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    answers = {
        "chat": httpx.post(
            f"{stack.base_url}/chat/completions",
            json={"model": CHEAP, "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {member.key}"},
        ),
        "ai sdk": aisdk_call(stack, {"prompt": prompt}, model=CHEAP, key=member.key),
        "ai sdk stream": aisdk_call(
            stack, {"prompt": prompt}, model=CHEAP, key=member.key, streaming="true"
        ),
        "messages": httpx.post(
            f"{stack.base_url}/messages", json=message, headers={"x-api-key": member.key}
        ),
        "messages stream": httpx.post(
            f"{stack.base_url}/messages",
            json={**message, "stream": True},
            headers={"x-api-key": member.key},
        ),
    }
    for surface, answer in answers.items():
        assert answer.status_code == 200, (surface, answer.text)
        assert answer.headers.get("x-ratelimit-limit-requests") == "500", surface
        assert int(answer.headers["x-ratelimit-remaining-requests"]) < 500, surface
