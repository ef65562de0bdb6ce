"""Request-scoped BYOK (`providerOptions.gateway.byok`): the request's own key is tried first,
charged nothing, and a failing key falls back to the system credential."""

from __future__ import annotations

from decimal import Decimal

from tollgate.router.v1 import router_pb2 as pb

from .support import GROQ_KEY, RouterUnderTest


def request(*byok: tuple[str, str], **routing: list[str]) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(team_id="team_byok", request_id="req-byok"),
        model="acme/echo-1",
        messages=[pb.ChatMessage(role="user", text="bring your own key")],
        stream=True,
        routing=pb.RoutingOptions(
            byok=[pb.ByokCredential(provider=p, api_key=k) for p, k in byok], **routing
        ),
    )


async def test_the_requests_own_key_serves_and_is_charged_nothing(router: RouterUnderTest) -> None:
    # The fake groq accepts only GROQ_KEY: a request that brings it is served with it.
    responses = await router.generate(request(("groq", GROQ_KEY), order=["groq"]))

    gateway = responses[-1].finished.provider_metadata.gateway
    [attempt] = gateway.routing.attempts
    assert (attempt.provider, attempt.credential_type, attempt.success) == ("groq", "byok", True)
    assert gateway.cost == "0"
    assert Decimal(gateway.market_cost) > 0
    _, fact = await router.usage_fact(responses[0].started.generation_id)
    assert (fact.credential_type, fact.cost) == ("byok", "0")
    assert Decimal(fact.market_cost) == Decimal(gateway.market_cost)


async def test_a_rejected_key_falls_back_to_the_system_credential(router: RouterUnderTest) -> None:
    responses = await router.generate(request(("groq", "gsk-not-valid"), only=["groq"]))

    gateway = responses[-1].finished.provider_metadata.gateway
    byok, system = gateway.routing.attempts
    assert (byok.provider, byok.credential_type, byok.success, byok.status_code) == (
        "groq",
        "byok",
        False,
        401,
    )
    assert "gsk-not-valid" not in byok.error_message
    assert (system.provider, system.credential_type, system.success) == ("groq", "system", True)
    assert Decimal(gateway.cost) == Decimal(gateway.market_cost) > 0  # the system key is billed
    assert list(gateway.routing.fallbacks_available) == ["groq"]
    sent = [r["authorized"] for r in router.groq.requests]
    assert sent == [False, True]
