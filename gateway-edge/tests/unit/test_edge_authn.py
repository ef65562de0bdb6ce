"""The edge's credential cache and its authenticator (tollgate_edge.authn), against a fake of
auth's Check: what is cached, for how long, what a revocation drops, one question per
credential at a time."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2 as pb
from tollgate_common.revocations import RevocationFollower
from tollgate_edge.authn.cache import IdentityCache, Refusal
from tollgate_edge.authn.check import AuthUnavailable, answer_of
from tollgate_edge.authn.gate import Authenticator, credential_of
from tollgate_edge.identity import Caller


def caller(key_id: str = "key_1", team_id: str = "team_1", user_id: str = "user_1") -> Caller:
    return Caller(team_id, "default", user_id, key_id, "", "member", "api-key")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_known_callers_last_their_ttl_but_never_past_their_expiry() -> None:
    clock = Clock()
    cache = IdentityCache(ttl=60, negative_ttl=2, clock=clock)
    cache.put(b"a", caller(), cache.generation)
    cache.put(b"b", caller("key_2"), cache.generation, lifetime=5)
    cache.put(b"c", caller("key_3"), cache.generation, lifetime=-1)  # expired already
    assert cache.get(b"c") is None
    clock.now += 5
    assert cache.get(b"a") == caller() and cache.get(b"b") is None
    clock.now += 55
    assert cache.get(b"a") is None


def test_refusals_are_kept_briefly_and_apart() -> None:
    clock = Clock()
    cache = IdentityCache(
        ttl=60, negative_ttl=2, max_entries=10, max_negative_entries=2, clock=clock
    )
    cache.put(b"known", caller(), cache.generation)
    for name in (b"x", b"y", b"z"):
        cache.put(name, Refusal("invalid API key", "invalid_api_key"), cache.generation)
    # A flood of refusals pushes out refusals only.
    assert cache.get(b"x") is None and cache.get(b"z") == Refusal(
        "invalid API key", "invalid_api_key"
    )
    assert cache.get(b"known") == caller()
    clock.now += 2
    assert cache.get(b"z") is None


def test_revocations_drop_what_they_name() -> None:
    cache = IdentityCache()
    cache.put(b"k1", caller("key_1"), cache.generation)
    cache.put(b"k2", caller("key_2", user_id="user_2"), cache.generation)
    cache.put(b"k3", caller("key_3", team_id="team_2"), cache.generation)
    oidc = Caller("team_2", "", "", "", "prj_1", "member", "oidc")
    cache.put(b"t", oidc, cache.generation)
    assert cache.invalidate_key("key_1") == 1 and cache.get(b"k1") is None
    assert cache.invalidate_member("team_1", "user_2") == 1 and cache.get(b"k2") is None
    # A whole team (a project or an issuer went): its tokens too.
    assert cache.invalidate_member("team_2", "") == 2 and len(cache) == 0


def test_an_answer_that_raced_a_revocation_is_dropped() -> None:
    cache = IdentityCache()
    generation = cache.generation
    cache.invalidate_key("key_1")  # the fact arrives while auth is being asked
    cache.put(b"k1", caller(), generation)
    assert cache.get(b"k1") is None


def test_right_after_a_revocation_answers_are_kept_briefly() -> None:
    """Another auth replica may not have applied the fact yet: what the edge learns in the
    next seconds is asked again soon."""
    clock = Clock()
    cache = IdentityCache(ttl=60, settle=2, clock=clock)
    cache.invalidate_member("team_1", "")
    cache.put(b"k", caller(), cache.generation)
    clock.now += 2
    assert cache.get(b"k") is None
    cache.put(b"k", caller(), cache.generation)
    clock.now += 30
    assert cache.get(b"k") == caller()


def test_while_facts_may_be_missed_known_callers_are_trusted_briefly() -> None:
    clock = Clock()
    cache = IdentityCache(clock=clock)
    cache.put(b"k", caller(), cache.generation)
    clock.now += 1.5
    assert cache.get(b"k") == caller()
    assert cache.get(b"k", max_age=1.0) is None


def _ok(key_id: str, expires_at: float | None = None) -> pb.CheckResponse:
    headers = {
        "x-tollgate-team-id": "team_1",
        "x-tollgate-team-slug": "default",
        "x-tollgate-user-id": "user_1",
        "x-tollgate-key-id": key_id,
        "x-tollgate-role": "owner",
        "x-tollgate-auth-method": "api-key",
        "x-tollgate-operator": "true",
    }
    response = pb.CheckResponse(
        status=pb.Status(code=0),
        ok_response=pb.OkHttpResponse(
            headers=[
                pb.HeaderValueOption(header=pb.HeaderValue(key=k, value=v))
                for k, v in headers.items()
            ]
        ),
    )
    if expires_at is not None:
        response.dynamic_metadata["expiresAt"] = expires_at
    return response


def _denied() -> pb.CheckResponse:
    body = '{"error":{"message":"invalid API key","type":"authentication_error","param":null,"code":"invalid_api_key"}}'
    return pb.CheckResponse(
        status=pb.Status(code=16),
        denied_response=pb.DeniedHttpResponse(status=pb.HttpStatus(code=401), body=body),
    )


def test_auths_answers_are_read_whole() -> None:
    answer = answer_of(_ok("key_9", expires_at=1030.0), now=1000.0)
    assert answer.found == Caller(
        "team_1", "default", "user_1", "key_9", "", "owner", "api-key", operator=True
    )
    assert answer.lifetime == pytest.approx(30.0)
    assert answer_of(_ok("key_9")).lifetime is None
    assert answer_of(_denied()).found == Refusal("invalid API key", "invalid_api_key")
    with pytest.raises(AuthUnavailable):
        answer_of(pb.CheckResponse(status=pb.Status(code=14)))


class FakeCheck:
    """Auth's Check: ``known`` credentials are owners; the rest are refused."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = known
        self.asked: list[dict[str, str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.down = False

    async def Check(self, request: pb.CheckRequest, **_: Any) -> pb.CheckResponse:
        headers = dict(request.attributes.request.http.headers)
        self.asked.append(headers)
        assert request.attributes.request.http.path == "/"  # no inference path: who, not what
        await self.gate.wait()
        if self.down:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata()
            )
        value = next(iter(headers.values()), "")
        key_id = self.known.get(value)
        return _ok(key_id) if key_id else _denied()


def _authenticator(fake: FakeCheck, **kwargs: Any) -> Authenticator:
    cache = IdentityCache()
    return Authenticator(fake, cache, RevocationFollower(cache), 2.0, **kwargs)  # type: ignore[arg-type]


async def test_one_question_per_credential_then_the_cache() -> None:
    fake = FakeCheck({"Bearer tg_good": "key_1"})
    authn = _authenticator(fake)
    fake.gate.clear()
    headers = {"authorization": "Bearer tg_good"}
    waiting = [asyncio.ensure_future(authn.identify(headers)) for _ in range(5)]
    await asyncio.sleep(0.01)
    fake.gate.set()
    found = await asyncio.gather(*waiting)
    assert {c.key_id for c in found if isinstance(c, Caller)} == {"key_1"}
    assert len(fake.asked) == 1
    # Hits: no further question; a revocation fact drops it, the next request asks again.
    await authn.identify(headers)
    assert len(fake.asked) == 1
    authn.cache.invalidate_key("key_1")
    await authn.identify(headers)
    assert len(fake.asked) == 2


async def test_wrong_keys_cost_one_question_each_while_refused() -> None:
    fake = FakeCheck({})
    authn = _authenticator(fake)
    for _ in range(10):
        assert isinstance(await authn.identify({"x-api-key": "tg_wrong"}), Refusal)
    assert fake.asked == [{"x-api-key": "tg_wrong"}]


async def test_questions_in_flight_are_bounded() -> None:
    fake = FakeCheck({})
    authn = _authenticator(fake, max_in_flight=2)
    fake.gate.clear()
    waiting = [asyncio.ensure_future(authn.identify({"x-api-key": f"tg_{n}"})) for n in range(6)]
    await asyncio.sleep(0.05)
    assert len(fake.asked) == 2
    fake.gate.set()
    await asyncio.gather(*waiting)
    assert len(fake.asked) == 6


async def test_auth_down_known_callers_stay_and_unknown_are_unavailable() -> None:
    fake = FakeCheck({"tg_known": "key_1"})
    authn = _authenticator(fake)
    assert isinstance(await authn.identify({"x-api-key": "tg_known"}), Caller)
    fake.down = True
    assert isinstance(await authn.identify({"x-api-key": "tg_known"}), Caller)
    with pytest.raises(AuthUnavailable):
        await authn.identify({"x-api-key": "tg_unknown"})
    fake.down = False  # not remembered as refused: asked again once auth is back
    assert isinstance(await authn.identify({"x-api-key": "tg_unknown"}), Refusal)


def test_the_credential_auth_decides_on_and_its_digest() -> None:
    assert credential_of({"x-api-key": "a", "authorization": "Bearer b"}) == ("x-api-key", "a")
    assert credential_of({"authorization": "Bearer b"}) == ("authorization", "Bearer b")
    assert credential_of({}) is None
    cache = IdentityCache()
    one = Authenticator(FakeCheck({}), cache, RevocationFollower(cache), 2.0)  # type: ignore[arg-type]
    digest = one.digest(("x-api-key", "tg_secret"))
    assert b"tg_secret" not in digest and len(digest) == 32
    assert digest != one.digest(("authorization", "tg_secret"))
