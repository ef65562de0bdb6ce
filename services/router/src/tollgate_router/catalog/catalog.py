"""The model catalog: the shipped ``catalog/catalog.json`` plus ``TOLLGATE_CATALOG_FILE``.

The override file has the catalog's format (``{"version"?, "models": [...]}``); each of its
entries is merged onto the shipped entry with the same id (its keys win, ``providers`` is replaced
as a whole) or added when the id is new. Prices are USD per token (per image for ``image``),
decimal strings. The format is documented in ``docs/catalog.md``; parsing is strict: an unknown
key, a malformed price or date is a ``CatalogError`` naming the entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from tollgate_common.money import parse_usd

MODEL_TYPES = frozenset({"language", "embedding", "image"})

_MODEL_KEYS = frozenset(
    {
        "id",
        "name",
        "description",
        "creator",
        "type",
        "context_window",
        "max_output_tokens",
        "dimensions",
        "input_modalities",
        "output_modalities",
        "released",
        "tags",
        "aliases",
        "free",
        "providers",
    }
)
_OFFER_KEYS = frozenset(
    {
        "provider",
        "provider_model_id",
        "pricing",
        "free",
        "wire_protocol",
        "checked",
        "source",
        "note",
        "zero_data_retention",
        "no_prompt_training",
    }
)
_TOKEN_PRICES = ("input", "output", "input_cache_read", "input_cache_write")
_PRICING_KEYS = frozenset({*_TOKEN_PRICES, "image", "tiers"})
_TIER_KEYS = frozenset({"above_input_tokens", *_TOKEN_PRICES})


class CatalogError(ValueError):
    """The catalog (or the override file) is malformed."""


@dataclass(frozen=True, slots=True)
class PriceTier:
    """Prices for prompts of more than ``above_input_tokens`` input tokens (cached and
    cache-write tokens included): the whole generation is priced at the tier."""

    above_input_tokens: int
    input: Decimal
    output: Decimal
    input_cache_read: Decimal | None = None
    input_cache_write: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Pricing:
    input: Decimal
    output: Decimal
    input_cache_read: Decimal | None = None
    input_cache_write: Decimal | None = None
    # USD per generated image, for models that price images by the image.
    image: Decimal | None = None
    # Long-context tiers, ascending by ``above_input_tokens``.
    tiers: tuple[PriceTier, ...] = ()

    def for_prompt(self, input_tokens: int) -> Pricing:
        """The token prices that apply to a prompt of ``input_tokens`` (the highest tier it
        exceeds, else these), without tiers."""
        chosen: PriceTier | None = None
        for tier in self.tiers:
            if input_tokens > tier.above_input_tokens:
                chosen = tier
        if chosen is None:
            return replace(self, tiers=()) if self.tiers else self
        return Pricing(
            input=chosen.input,
            output=chosen.output,
            input_cache_read=chosen.input_cache_read,
            input_cache_write=chosen.input_cache_write,
            image=self.image,
        )


@dataclass(frozen=True, slots=True)
class ProviderOffer:
    """One provider serving a model, under its own model id and price."""

    provider: str
    provider_model_id: str
    pricing: Pricing | None
    free: bool = False
    # Overrides the provider directory's wire protocol (e.g. a self-hosted compatible server).
    wire_protocol: str = ""
    # When the price was last checked against ``source``, and the page it was read from.
    checked: date | None = None
    source: str = ""
    note: str = ""
    # The provider keeps no prompt or answer once it has answered (``zeroDataRetention``), and
    # does not train on them (``disallowPromptTraining``); docs/catalog.md cites the policies.
    zero_data_retention: bool = False
    no_prompt_training: bool = False

    @property
    def billable(self) -> bool:
        """Whether a generation here can be priced: a list price, or marked free."""
        return self.pricing is not None or self.free


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    name: str
    description: str
    creator: str
    type: str
    context_window: int
    max_output_tokens: int
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    released: int  # unix seconds, 0 when unknown
    providers: tuple[ProviderOffer, ...]
    tags: tuple[str, ...] = ()
    dimensions: int = 0  # embedding models: the default vector size
    # Other ``creator/model`` ids that resolve to this model (e.g. a renamed slug).
    aliases: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        return self.id.split("/", 1)[-1]


class Catalog:
    """Immutable after construction; lookups are dictionary reads (hot path)."""

    def __init__(self, models: Sequence[ModelInfo], version: str) -> None:
        self.version = version
        self._models = tuple(models)
        self._by_id = {m.id: m for m in self._models}
        for model in self._models:
            for alias in model.aliases:
                if alias in self._by_id:
                    raise CatalogError(
                        f"{model.id}.aliases: {alias!r} is already a model id or alias"
                    )
                self._by_id[alias] = model
        by_short: dict[str, list[ModelInfo]] = {}
        for name, model in self._by_id.items():
            entries = by_short.setdefault(name.split("/", 1)[-1], [])
            if model not in entries:
                entries.append(model)
        self._by_short = {name: ms[0] for name, ms in by_short.items() if len(ms) == 1}
        # The creator's own API name of a model (``claude-sonnet-4-20250514``: what Claude Code
        # and the anthropic SDKs send) resolves too, when it names one model and no short name.
        native: dict[str, list[ModelInfo]] = {}
        for model in self._models:
            creator = model.id.split("/", 1)[0]
            for offer in model.providers:
                if offer.provider == creator and offer.provider_model_id not in by_short:
                    entries = native.setdefault(offer.provider_model_id, [])
                    if model not in entries:
                        entries.append(model)
        self._by_short |= {name: ms[0] for name, ms in native.items() if len(ms) == 1 and name}

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return self._models

    def resolve(self, name: str) -> ModelInfo | None:
        """``creator/model`` (or one of a model's ``aliases``), or a bare model name (or the
        creator's own API name of the model) when exactly one model has it."""
        model = self._by_id.get(name)
        if model is None and "/" not in name:
            model = self._by_short.get(name)
        return model

    def providers(self) -> set[str]:
        return {offer.provider for model in self._models for offer in model.providers}


# -- parsing ---------------------------------------------------------------------------------


def _mapping(raw: Any, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected an object, got {type(raw).__name__}")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    return raw


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CatalogError(f"{where}: a price is a decimal string, got {value!r}")
    try:
        amount = parse_usd(str(value))
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    if amount < 0:
        raise CatalogError(f"{where}: negative price {value!r}")
    return amount


def _optional_decimal(raw: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    value = raw.get(key)
    return None if value in (None, "") else _decimal(value, f"{where}.{key}")


def _count(value: Any, where: str) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogError(f"{where}: expected a non-negative integer, got {value!r}")
    return value


def _flag(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: expected true or false, got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CatalogError(f"{where}: expected a string, got {value!r}")
    return value


def _strings(value: Any, where: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _aliases(value: Any, model_id: str) -> tuple[str, ...]:
    aliases = _strings(value, f"{model_id}.aliases")
    for alias in aliases:
        if "/" not in alias or alias.startswith("/") or alias.endswith("/") or alias == model_id:
            raise CatalogError(f"{model_id}.aliases: {alias!r} is not another 'creator/model' id")
    return aliases


def _date(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogError(f"{where}: expected a YYYY-MM-DD date, got {value!r}") from exc


def _required_prices(raw: Mapping[str, Any], where: str) -> tuple[Decimal, Decimal]:
    if "input" not in raw or "output" not in raw:
        raise CatalogError(f"{where}: pricing needs 'input' and 'output'")
    return _decimal(raw["input"], f"{where}.input"), _decimal(raw["output"], f"{where}.output")


def _tier(raw: Any, base: Pricing, where: str) -> PriceTier:
    """A tier names the prices that change above its threshold; the others stay the base's."""
    entry = _mapping(raw, where, _TIER_KEYS)
    threshold = entry.get("above_input_tokens")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold <= 0:
        raise CatalogError(f"{where}.above_input_tokens: expected a positive integer")

    named = {key: _optional_decimal(entry, key, where) for key in _TOKEN_PRICES}
    return PriceTier(
        above_input_tokens=threshold,
        input=base.input if named["input"] is None else named["input"],
        output=base.output if named["output"] is None else named["output"],
        input_cache_read=base.input_cache_read
        if named["input_cache_read"] is None
        else named["input_cache_read"],
        input_cache_write=base.input_cache_write
        if named["input_cache_write"] is None
        else named["input_cache_write"],
    )


def _pricing(raw: Any, where: str) -> Pricing | None:
    if raw is None or raw == {}:
        return None
    entry = _mapping(raw, where, _PRICING_KEYS)
    input_price, output_price = _required_prices(entry, where)
    base = Pricing(
        input=input_price,
        output=output_price,
        input_cache_read=_optional_decimal(entry, "input_cache_read", where),
        input_cache_write=_optional_decimal(entry, "input_cache_write", where),
        image=_optional_decimal(entry, "image", where),
    )
    raw_tiers = entry.get("tiers") or []
    if not isinstance(raw_tiers, list):
        raise CatalogError(f"{where}.tiers: expected a list")
    tiers = tuple(_tier(t, base, f"{where}.tiers[{i}]") for i, t in enumerate(raw_tiers))
    thresholds = [t.above_input_tokens for t in tiers]
    if thresholds != sorted(set(thresholds)):
        raise CatalogError(f"{where}.tiers: thresholds must ascend without repeats")
    return replace(base, tiers=tiers)


def _released(value: Any, where: str) -> int:
    day = _date(value, where)
    if day is None:
        return 0
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _offer(raw: Any, model_id: str, model_free: bool, where: str) -> ProviderOffer:
    entry = _mapping(raw, where, _OFFER_KEYS)
    provider = entry.get("provider")
    if not isinstance(provider, str) or not provider:
        raise CatalogError(f"{where}: needs 'provider'")
    source = _text(entry.get("source"), f"{where}.source")
    if source and not source.startswith(("https://", "http://")):
        raise CatalogError(f"{where}.source: expected a URL, got {source!r}")
    return ProviderOffer(
        provider=provider,
        provider_model_id=_text(entry.get("provider_model_id"), f"{where}.provider_model_id")
        or model_id.split("/", 1)[1],
        pricing=_pricing(entry.get("pricing"), f"{where}.pricing"),
        free=model_free or _flag(entry.get("free"), f"{where}.free"),
        wire_protocol=_text(entry.get("wire_protocol"), f"{where}.wire_protocol"),
        checked=_date(entry.get("checked"), f"{where}.checked"),
        source=source,
        note=_text(entry.get("note"), f"{where}.note"),
        zero_data_retention=_flag(entry.get("zero_data_retention"), f"{where}.zero_data_retention"),
        no_prompt_training=_flag(entry.get("no_prompt_training"), f"{where}.no_prompt_training"),
    )


def parse_model(raw: Mapping[str, Any]) -> ModelInfo:
    model_id = raw.get("id") if isinstance(raw, Mapping) else None
    if not isinstance(model_id, str) or "/" not in model_id or model_id.startswith("/"):
        raise CatalogError(f"model id must be 'creator/model': {model_id!r}")
    creator, short = model_id.split("/", 1)
    if not short:
        raise CatalogError(f"model id must be 'creator/model': {model_id!r}")
    entry = _mapping(raw, model_id, _MODEL_KEYS)
    model_type = _text(entry.get("type"), f"{model_id}.type") or "language"
    if model_type not in MODEL_TYPES:
        raise CatalogError(f"{model_id}.type: expected one of {sorted(MODEL_TYPES)}")
    model_free = _flag(entry.get("free"), f"{model_id}.free")
    raw_offers = entry.get("providers") or []
    if not isinstance(raw_offers, list):
        raise CatalogError(f"{model_id}.providers: expected a list")
    offers = tuple(
        _offer(offer, model_id, model_free, f"{model_id}.providers[{index}]")
        for index, offer in enumerate(raw_offers)
    )
    seen = [offer.provider for offer in offers]
    if len(seen) != len(set(seen)):
        raise CatalogError(f"{model_id}.providers: a provider is listed twice")
    return ModelInfo(
        id=model_id,
        name=_text(entry.get("name"), f"{model_id}.name") or short,
        description=_text(entry.get("description"), f"{model_id}.description"),
        creator=_text(entry.get("creator"), f"{model_id}.creator") or creator,
        type=model_type,
        context_window=_count(entry.get("context_window"), f"{model_id}.context_window"),
        max_output_tokens=_count(entry.get("max_output_tokens"), f"{model_id}.max_output_tokens"),
        input_modalities=_strings(
            entry.get("input_modalities"), f"{model_id}.input_modalities", ("text",)
        ),
        output_modalities=_strings(
            entry.get("output_modalities"), f"{model_id}.output_modalities", ("text",)
        ),
        released=_released(entry.get("released"), f"{model_id}.released"),
        providers=offers,
        tags=_strings(entry.get("tags"), f"{model_id}.tags"),
        dimensions=_count(entry.get("dimensions"), f"{model_id}.dimensions"),
        aliases=_aliases(entry.get("aliases"), model_id),
    )


def _entries(document: Any, where: str) -> list[Mapping[str, Any]]:
    models = document.get("models") if isinstance(document, Mapping) else None
    if not isinstance(models, list) or not all(isinstance(m, Mapping) for m in models):
        raise CatalogError(f"{where}: expected {{'models': [...]}}")
    return models


def build_catalog(base: Mapping[str, Any], override: Mapping[str, Any] | None = None) -> Catalog:
    """Merge ``override`` onto ``base`` (both in the catalog.json format) and parse the result."""
    merged: dict[str, dict[str, Any]] = {}
    for entry in _entries(base, "catalog"):
        model_id = str(entry.get("id"))
        if model_id in merged:
            raise CatalogError(f"catalog: model {model_id!r} is listed twice")
        merged[model_id] = dict(entry)
    version = str(base.get("version") or "unversioned")
    if override is not None:
        for entry in _entries(override, "catalog override"):
            model_id = str(entry.get("id"))
            merged[model_id] = {**merged.get(model_id, {}), **entry}
        tag = override.get("version") or hashlib.sha256(orjson.dumps(override)).hexdigest()[:12]
        version = f"{version}+{tag}"
    return Catalog([parse_model(entry) for entry in merged.values()], version)


def load_catalog(override_file: Path | None = None) -> Catalog:
    """The shipped catalog, with ``override_file`` merged on top when given."""
    shipped = resources.files("tollgate_router").joinpath("catalog", "catalog.json")
    base = orjson.loads(shipped.read_bytes())
    override = None
    if override_file is not None:
        try:
            override = orjson.loads(override_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise CatalogError(f"cannot read catalog override {override_file}: {exc}") from exc
    return build_catalog(base, override)
