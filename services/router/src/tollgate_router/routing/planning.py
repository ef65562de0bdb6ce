"""Which providers to try for a generation, in which order, and which to skip (never called)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tollgate_common.errors import InvalidArgument

from tollgate_router.catalog.catalog import ModelInfo, ProviderOffer
from tollgate_router.credentials.system import SystemCredential, SystemCredentials
from tollgate_router.credentials.team import NO_CREDENTIALS, TeamCredentials
from tollgate_router.domain import Attempt, RoutingOptions
from tollgate_router.errors import ProviderFailed, ProviderRejected
from tollgate_router.providers import Adapters, ProviderAdapter, ProviderError
from tollgate_router.routing.provider_stats import ProviderStats

# Sorts after every priced offer.
_NO_PRICE = Decimal("Infinity")


@dataclass(frozen=True, slots=True)
class Candidate:
    model: ModelInfo
    offer: ProviderOffer
    credential: SystemCredential
    adapter: ProviderAdapter
    credential_type: str = "system"


@dataclass(frozen=True, slots=True)
class Plan:
    candidates: tuple[Candidate, ...]
    skipped: tuple[Attempt, ...]
    reasoning: str = ""


def _list_price(offer: ProviderOffer) -> Decimal:
    """Input + output price per token: the tie-break between equally healthy providers."""
    if offer.pricing is None:
        return Decimal(0) if offer.free else _NO_PRICE
    return offer.pricing.input + offer.pricing.output


def ordered_offers(
    model: ModelInfo, options: RoutingOptions, stats: ProviderStats | None = None
) -> list[ProviderOffer]:
    """The model's providers filtered by ``only``; those named in ``order`` first (in that
    order); the rest ranked by recent success rate, then recent latency, then list price
    (catalog order breaks the remaining ties)."""
    offers = [o for o in model.providers if not options.only or o.provider in options.only]
    rank = {provider: index for index, provider in enumerate(options.order)}

    def key(offer: ProviderOffer) -> tuple[int, float, int, Decimal]:
        if offer.provider in rank:
            return (rank[offer.provider], 0.0, 0, Decimal(0))
        health = stats.health(offer.provider, offer.provider_model_id) if stats else None
        return (
            len(rank),
            -health.success_bucket if health else -1.0,
            health.latency_bucket if health else 0,
            _list_price(offer),
        )

    return sorted(offers, key=key)


def _credentials_for(
    provider: str,
    options: RoutingOptions,
    credentials: SystemCredentials,
    stored: TeamCredentials,
) -> list[tuple[SystemCredential, str]]:
    """The credentials to try at ``provider``, in order: the request's own BYOK keys, the
    team's enabled stored BYOK credential, then the system credential (a BYOK key that fails
    falls back to the next)."""
    found: list[tuple[SystemCredential, str]] = []
    for byok in options.byok:
        if byok.provider == provider and (key := credentials.with_key(provider, byok.api_key)):
            found.append((key, "byok"))
    if (team_key := stored.api_key(provider)) and (key := credentials.with_key(provider, team_key)):
        found.append((key, "byok"))
    if (system := credentials.get(provider)) is not None:
        found.append((system, "system"))
    return found


def _reasoning(models: Sequence[ModelInfo], options: RoutingOptions) -> str:
    """One sentence on how the candidates were chosen, for ``routing.planningReasoning``."""
    parts = []
    if options.only:
        parts.append(f"only {', '.join(options.only)}")
    if options.order:
        parts.append(f"order {', '.join(options.order)} first")
    parts.append("other providers by recent success rate, latency, then list price")
    text = "; ".join(parts)
    if len(models) > 1:
        text += f"; fallback models {', '.join(m.id for m in models[1:])}"
    return text


def skipped_offer(model: ModelInfo, offer: ProviderOffer, reason: str) -> Attempt:
    """A provider of ``model`` left out of the plan (never called), and why."""
    return Attempt(
        provider=offer.provider,
        provider_model_id=offer.provider_model_id,
        success=False,
        error_message=reason,
        skipped=True,
        model_id=model.id,
    )


def plan(
    models: Sequence[ModelInfo],
    options: RoutingOptions,
    credentials: SystemCredentials,
    adapters: Adapters,
    stats: ProviderStats | None = None,
    stored: TeamCredentials = NO_CREDENTIALS,
) -> Plan:
    """Candidates for ``models`` (the primary one, then the fallback models); ``stored``: the
    calling team's BYOK credentials."""
    candidates: list[Candidate] = []
    skipped: list[Attempt] = []
    for model in models:
        for offer in ordered_offers(model, options, stats):
            keys = _credentials_for(offer.provider, options, credentials, stored)
            adapter = adapters.for_provider(offer.provider, offer.wire_protocol)
            reason = ""
            if not keys:
                reason = "skipped: no credentials for this provider"
            elif adapter is None:
                reason = "skipped: no adapter for this provider's API"
            elif not offer.billable:
                reason = "skipped: no list price in the catalog"
            if reason or adapter is None:
                skipped.append(skipped_offer(model, offer, reason))
                continue
            candidates += [Candidate(model, offer, key, adapter, kind) for key, kind in keys]
    return Plan(tuple(candidates), tuple(skipped), _reasoning(models, options))


# Statuses after which the next provider is tried: no answer, an overloaded or failing
# provider, or a problem with our credential or the model at that provider.
_FALLBACK_STATUSES = frozenset({0, 401, 403, 404, 408, 409, 429})
# A provider's 4xx the caller may see as is; the others are the gateway's problem.
_HIDDEN_STATUSES = frozenset({401, 403, 408, 429})


def falls_back(error: ProviderError) -> bool:
    return error.status in _FALLBACK_STATUSES or error.status >= 500


def passes_through(error: ProviderError) -> bool:
    return 400 <= error.status < 500 and error.status not in _HIDDEN_STATUSES


def describe(error: ProviderError) -> str:
    """A provider error for the routing metadata, without what may echo our credential."""
    if error.status in (401, 403):
        return f"HTTP {error.status}: {error.code or error.type or 'rejected the credential'}"
    prefix = f"HTTP {error.status}: " if error.status else ""
    return prefix + error.message[:300]


def as_provider_error(exc: BaseException) -> ProviderError:
    """What a failed attempt raised, as a ProviderError (a timeout or an empty answer too)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, TimeoutError):
        return ProviderError(0, "no response from the provider in time", type="timeout")
    return ProviderError(0, "empty response")


def final_error(error: ProviderError) -> ProviderRejected | ProviderFailed:
    """The caller's error once no candidate is left: the provider's own 4xx, else a 502."""
    if passes_through(error):
        return ProviderRejected(
            error.status, error.message, type=error.type, code=error.code, param=error.param
        )
    return ProviderFailed(f"no provider could serve the request ({describe(error)})")


def check_only(models: Sequence[ModelInfo], options: RoutingOptions) -> None:
    """``only`` naming none of the providers that serve the requested models is the caller's
    mistake (INVALID_ARGUMENT), not an outage."""
    if not options.only:
        return
    serving = sorted({offer.provider for model in models for offer in model.providers})
    if not set(options.only) & set(serving):
        raise InvalidArgument(
            f"none of the providers in 'only' ({', '.join(options.only)}) serves "
            f"{models[0].id!r}; allowed providers: {', '.join(serving)}",
            metadata={"param": "providerOptions.gateway.only"},
        )
