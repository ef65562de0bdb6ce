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
# What ``sort`` may rank by, as ``planningReasoning`` words it.
_SORTED_BY = {
    "cost": "estimated request cost at list price (cheapest first)",
    "ttft": "observed time to first byte (fastest first, unknown last)",
    "tps": "observed output tokens per second (fastest first, unknown last)",
}
SORTS = frozenset(_SORTED_BY)
# The catalog's capability tags ``has`` may name (``!tag``: the model must not have it).
TAGS = frozenset(
    {
        "reasoning",
        "tool-use",
        "vision",
        "structured-output",
        "implicit-caching",
        "explicit-caching",
        "file-input",
        "image-generation",
    }
)


@dataclass(frozen=True, slots=True)
class Candidate:
    model: ModelInfo
    offer: ProviderOffer
    credential: SystemCredential
    adapter: ProviderAdapter
    credential_type: str = "system"
    # ``providerTimeouts`` for this provider and credential type: seconds to the first byte.
    first_byte_timeout: float | None = None


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


def estimated_cost(offer: ProviderOffer, options: RoutingOptions) -> Decimal:
    """What the request would cost at ``offer``'s list price, at its estimated size (the
    prompt's tokens, and its max tokens or a typical answer): what ``sort: "cost"`` ranks by."""
    if offer.pricing is None:
        return Decimal(0) if offer.free else _NO_PRICE
    prices = offer.pricing.for_prompt(options.input_tokens)
    return prices.input * options.input_tokens + prices.output * options.output_tokens


def _sort_key(
    offer: ProviderOffer, options: RoutingOptions, stats: ProviderStats | None
) -> Decimal | float:
    """The ``sort`` rank of an offer, lowest first; what is not known yet ranks last."""
    if options.sort == "cost":
        return estimated_cost(offer, options)
    health = stats.health(offer.provider, offer.provider_model_id) if stats else None
    if options.sort == "ttft":
        known = health.latency_ms if health else None
        return known if known is not None else float("inf")
    if options.sort == "tps":
        speed = health.tokens_per_second if health else None
        return -speed if speed is not None else float("inf")
    return 0.0


def ordered_offers(
    model: ModelInfo, options: RoutingOptions, stats: ProviderStats | None = None
) -> list[ProviderOffer]:
    """The model's providers filtered by ``only``; those named in ``order`` first (in that
    order); the rest ranked by ``sort`` when given, then by recent success rate, recent
    latency and list price (catalog order breaks the remaining ties)."""
    offers = [o for o in model.providers if not options.only or o.provider in options.only]
    rank = {provider: index for index, provider in enumerate(options.order)}

    def key(offer: ProviderOffer) -> tuple[int, Decimal | float, float, int, Decimal]:
        if offer.provider in rank:
            return (rank[offer.provider], 0.0, 0.0, 0, Decimal(0))
        health = stats.health(offer.provider, offer.provider_model_id) if stats else None
        return (
            len(rank),
            _sort_key(offer, options, stats),
            -health.success_bucket if health else -1.0,
            health.latency_bucket if health else 0,
            _list_price(offer),
        )

    return sorted(offers, key=key)


def has_tags(model: ModelInfo, has: Sequence[str]) -> bool:
    """Whether ``model`` has every tag of ``has`` and none of its ``!tag`` ones."""
    return all(
        (tag[1:] not in model.tags) if tag.startswith("!") else (tag in model.tags) for tag in has
    )


def _policy_gap(offer: ProviderOffer, options: RoutingOptions) -> str:
    """Why ``offer`` does not meet the request's data policy, or "" when it does."""
    if options.zero_data_retention and not offer.zero_data_retention:
        return "skipped: not zero data retention (zeroDataRetention)"
    if options.disallow_prompt_training and not offer.no_prompt_training:
        return "skipped: may train on prompts (disallowPromptTraining)"
    return ""


def _timeout(provider: str, kind: str, options: RoutingOptions) -> float | None:
    return (options.byok_timeouts if kind == "byok" else options.system_timeouts).get(provider)


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
    if options.has:
        parts.append(f"models with {', '.join(options.has)}")
    if options.zero_data_retention:
        parts.append("zero data retention providers only")
    if options.disallow_prompt_training:
        parts.append("providers that do not train on prompts only")
    if options.order:
        parts.append(f"order {', '.join(options.order)} first")
    if options.sort:
        parts.append(f"other providers by {_SORTED_BY.get(options.sort, options.sort)}")
        parts.append("ties by recent success rate, latency, then list price")
    else:
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
            if not has_tags(model, options.has):
                reason = f"skipped: the model does not match has {', '.join(options.has)}"
            elif gap := _policy_gap(offer, options):
                reason = gap
            elif not keys:
                reason = "skipped: no credentials for this provider"
            elif adapter is None:
                reason = "skipped: no adapter for this provider's API"
            elif not offer.billable:
                reason = "skipped: no list price in the catalog"
            if reason or adapter is None:
                skipped.append(skipped_offer(model, offer, reason))
                continue
            candidates += [
                Candidate(model, offer, key, adapter, kind, _timeout(offer.provider, kind, options))
                for key, kind in keys
            ]
    return Plan(tuple(candidates), tuple(skipped), _reasoning(models, options))


# Statuses after which the next provider is tried: no answer, an overloaded or failing
# provider, or a problem with our credential or the model at that provider.
_FALLBACK_STATUSES = frozenset({0, 401, 403, 404, 408, 409, 429})
# A provider's 4xx the caller may see as is; the others are the gateway's problem.
_HIDDEN_STATUSES = frozenset({401, 403, 408, 429})


def falls_back(error: ProviderError) -> bool:
    """Whether the next candidate is tried: no answer, our credential refused, the model or
    capacity missing there, a redirect (not followed: the provider's base URL is wrong), or
    the provider's own failure."""
    return error.status in _FALLBACK_STATUSES or 300 <= error.status < 400 or error.status >= 500


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


def last_provider(attempts: Sequence[Attempt]) -> str:
    """The provider of the last attempt that was tried (not skipped), "" when none was."""
    tried = [attempt.provider for attempt in attempts if not attempt.skipped]
    return tried[-1] if tried else ""


def final_error(error: ProviderError, provider: str = "") -> ProviderRejected | ProviderFailed:
    """The caller's error once no candidate is left: the provider's own 4xx, else a 502. A
    provider's own rate limit (its 429, named: ``provider_rate_limited``) is not Tollgate's
    (``rate_limit_exceeded``): the caller may retry later or route elsewhere."""
    if error.status == 429:
        who = f"the provider {provider}" if provider else "the provider"
        return ProviderRejected(
            429,
            f"{who} is rate limiting requests (HTTP 429); retry later or route to another provider",
            type="rate_limit_exceeded",
            code="provider_rate_limited",
            param="",
        )
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


def check_requirements(models: Sequence[ModelInfo], options: RoutingOptions) -> None:
    """``has``, ``zeroDataRetention`` and ``disallowPromptTraining`` that no provider of the
    requested models meets are the caller's to change (INVALID_ARGUMENT), named in the error."""
    unknown = sorted({tag for tag in options.has if tag.removeprefix("!") not in TAGS})
    if unknown:
        raise InvalidArgument(
            f"unknown capability in 'has': {', '.join(unknown)}; "
            f"known: {', '.join(sorted(TAGS))} (negate with '!')",
            metadata={"param": "providerOptions.gateway.has"},
        )
    if options.sort and options.sort not in SORTS:
        raise InvalidArgument(
            f"'sort' must be one of {', '.join(sorted(SORTS))}",
            metadata={"param": "providerOptions.gateway.sort"},
        )
    matching = [m for m in models if has_tags(m, options.has)]
    if not matching:
        raise InvalidArgument(
            f"no requested model matches has {', '.join(options.has)} "
            f"({', '.join(m.id for m in models)})",
            metadata={"param": "providerOptions.gateway.has"},
        )
    offers = [
        o for m in matching for o in m.providers if not options.only or o.provider in options.only
    ]
    for wanted, param, attribute in (
        (options.zero_data_retention, "zeroDataRetention", "zero_data_retention"),
        (options.disallow_prompt_training, "disallowPromptTraining", "no_prompt_training"),
    ):
        if wanted and not any(getattr(o, attribute) for o in offers):
            raise InvalidArgument(
                f"no provider of {models[0].id!r} meets {param}: the catalog marks none of its "
                "providers as qualifying",
                metadata={"param": f"providerOptions.gateway.{param}"},
            )
