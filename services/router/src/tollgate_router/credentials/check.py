"""``TestCredential``: a minimal real request to one provider with a team's credential.

The request is the cheapest thing the provider's own adapter can send: one user message
(``ping``) and a one-token answer, to the cheapest language model of that provider in the
catalog, not streamed. The outcome is an answer, not an error: ``ok``, the provider's HTTP
status, a message, and what was sent and what came back (JSON, never the credential; a 401/403
is described by its status and code only, since providers may echo part of the key).
Nothing is charged or recorded as usage: the team's own key pays the provider.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from tollgate_common.errors import InvalidArgument, NotFound

from tollgate_router.catalog.catalog import ModelInfo, ProviderOffer
from tollgate_router.domain import GenerationParams, Message
from tollgate_router.events import FinishReason, ResponseStart, TextDelta, UsageReport
from tollgate_router.providers import ProviderAdapter, UpstreamCall
from tollgate_router.routing import planning
from tollgate_router.routing.failover import Failover, Unserved, Watch, run_candidates
from tollgate_router.routing.planning import Candidate

PROMPT: Final = "ping"
MAX_TOKENS: Final = 1
TIMEOUT_SECONDS: Final = 20.0  # within the CLI's 30 s

# (team id, provider) → the stored credential's fields, enabled or not; None when none.
StoredSecret = Callable[[str, str], Awaitable[Mapping[str, str] | None]]


class StoredCredentialNotFound(NotFound):
    reason = "BYOK_CREDENTIAL_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("no BYOK credential for this provider", metadata={"param": "provider"})


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    ok: bool
    status_code: int
    message: str
    request: dict[str, Any]
    response: dict[str, Any]


def _price(offer: ProviderOffer) -> Decimal:
    if offer.pricing is None:
        return Decimal(0) if offer.free else Decimal("Infinity")
    return offer.pricing.input + offer.pricing.output


class CredentialTester:
    """Tests a team's credential with the catalog, base URLs and adapters of ``failover`` (the
    process's engine). The one attempt runs outside its health and metrics: a team's key under
    test says nothing about the provider."""

    def __init__(self, failover: Failover, stored_secret: StoredSecret) -> None:
        self._failover = failover
        self._stored_secret = stored_secret

    def target(self, provider: str) -> tuple[ModelInfo, ProviderOffer, ProviderAdapter]:
        """The cheapest language model ``provider`` serves with an adapter we have."""
        found = []
        for model in self._failover.catalog.models:
            if model.type != "language":
                continue
            for offer in model.providers:
                if offer.provider != provider:
                    continue
                adapter = self._failover.adapters.for_provider(provider, offer.wire_protocol)
                if adapter is not None:
                    found.append((_price(offer), model.id, model, offer, adapter))
        if not found:
            raise InvalidArgument(
                f"provider {provider[:40]!r} cannot be tested: no language model of the catalog "
                "is served by it through an API the router speaks",
                metadata={"param": "provider"},
            )
        _, _, model, offer, adapter = min(found, key=lambda item: (item[0], item[1]))
        return model, offer, adapter

    async def test(self, team_id: str, provider: str, given: Mapping[str, str]) -> CheckOutcome:
        model, offer, adapter = self.target(provider)
        fields = given or await self._stored_secret(team_id, provider)
        if not fields:
            raise StoredCredentialNotFound()
        api_key = fields.get("apiKey", "").strip()
        if not api_key:
            raise InvalidArgument(
                "`credentials.apiKey` is required", metadata={"param": "credentials.apiKey"}
            )
        credential = self._failover.credentials.with_key(provider, api_key)
        if credential is None:
            raise InvalidArgument(
                f"no base URL is known for provider {provider!r}", metadata={"param": "provider"}
            )
        sent = {
            "provider": provider,
            "model": model.id,
            "providerModelId": offer.provider_model_id,
            "baseUrl": credential.base_url,
            "messages": [{"role": "user", "content": PROMPT}],
            "maxTokens": MAX_TOKENS,
            "stream": False,
        }
        call = UpstreamCall(
            base_url=credential.base_url,
            api_key=credential.api_key,
            provider_model_id=offer.provider_model_id,
            messages=(Message(role="user", content=PROMPT),),
            params=GenerationParams(max_tokens=MAX_TOKENS),
            stream=False,
            timeout=TIMEOUT_SECONDS,
            max_output_tokens=model.max_output_tokens,
        )
        candidate = Candidate(model, offer, credential, adapter, "byok")
        run = await run_candidates(
            (candidate,),
            lambda tried: _answer(tried.adapter, call),
            attempts=[],
            seconds=lambda tried: TIMEOUT_SECONDS,
            watch=Watch(operation="the credential test"),
        )
        if isinstance(run, Unserved):
            error = run.error
            message = planning.describe(error)
            body = {"error": {"type": error.type, "code": error.code, "message": message}}
            return CheckOutcome(False, error.status, message, sent, body)
        return CheckOutcome(True, 200, f"{provider} accepted the credential", sent, run.result)


async def _answer(adapter: ProviderAdapter, call: UpstreamCall) -> dict[str, Any]:
    stream = await adapter.open(call)
    received: dict[str, Any] = {"text": ""}
    try:
        async with contextlib.aclosing(stream.events()) as events:
            async for event in events:
                match event:
                    case ResponseStart():
                        received.update(id=event.response_id, model=event.model)
                    case TextDelta(text=text):
                        received["text"] += text
                    case FinishReason(reason=reason):
                        received["finishReason"] = reason
                    case UsageReport():
                        received["usage"] = {
                            "inputTokens": event.prompt_tokens,
                            "outputTokens": event.completion_tokens,
                        }
                    case _:
                        pass
    finally:
        await stream.aclose()
    return received
