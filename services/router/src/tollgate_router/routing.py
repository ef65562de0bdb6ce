"""Which providers to try for a generation, in which order, and which to skip (never called)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tollgate_router.catalog import ModelInfo, ProviderOffer
from tollgate_router.credentials import SystemCredential, SystemCredentials
from tollgate_router.domain import Attempt, RoutingOptions
from tollgate_router.providers import Adapters, ProviderAdapter, ProviderError


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


def ordered_offers(model: ModelInfo, options: RoutingOptions) -> list[ProviderOffer]:
    """The model's providers filtered by ``only``, those named in ``order`` first (in that
    order), the rest in catalog order."""
    offers = [o for o in model.providers if not options.only or o.provider in options.only]
    rank = {provider: index for index, provider in enumerate(options.order)}
    return sorted(offers, key=lambda offer: rank.get(offer.provider, len(rank)))


def plan(
    models: Sequence[ModelInfo],
    options: RoutingOptions,
    credentials: SystemCredentials,
    adapters: Adapters,
) -> Plan:
    """Candidates for ``models`` (the primary one, then the fallback models)."""
    candidates: list[Candidate] = []
    skipped: list[Attempt] = []
    for model in models:
        for offer in ordered_offers(model, options):
            reason = ""
            credential = credentials.get(offer.provider)
            adapter = adapters.for_provider(offer.provider, offer.wire_protocol)
            if credential is None:
                reason = "skipped: no credentials for this provider"
            elif adapter is None:
                reason = "skipped: no adapter for this provider's API"
            elif not offer.billable:
                reason = "skipped: no list price in the catalog"
            if reason or credential is None or adapter is None:
                skipped.append(
                    Attempt(
                        provider=offer.provider,
                        provider_model_id=offer.provider_model_id,
                        success=False,
                        error_message=reason,
                        skipped=True,
                    )
                )
                continue
            candidates.append(Candidate(model, offer, credential, adapter))
    return Plan(tuple(candidates), tuple(skipped))


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
