"""The model catalog: the shipped ``catalog/catalog.json`` plus ``TOLLGATE_CATALOG_FILE``.

The override file has the catalog's format (``{"version"?, "models": [...]}``); each of its
entries is merged onto the shipped entry with the same id (its keys win, ``providers`` is replaced
as a whole) or added when the id is new. Prices are USD per token, decimal strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from tollgate_common.money import parse_usd


class CatalogError(ValueError):
    """The catalog (or the override file) is malformed."""


@dataclass(frozen=True, slots=True)
class Pricing:
    input: Decimal
    output: Decimal
    input_cache_read: Decimal | None = None
    input_cache_write: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ProviderOffer:
    """One provider serving a model, under its own model id and price."""

    provider: str
    provider_model_id: str
    pricing: Pricing | None
    free: bool = False
    # Overrides the provider directory's wire protocol (e.g. a self-hosted compatible server).
    wire_protocol: str = ""

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

    @property
    def short_name(self) -> str:
        return self.id.split("/", 1)[-1]


class Catalog:
    """Immutable after construction; lookups are dictionary reads (hot path)."""

    def __init__(self, models: Sequence[ModelInfo], version: str) -> None:
        self.version = version
        self._models = tuple(models)
        self._by_id = {m.id: m for m in self._models}
        by_short: dict[str, list[ModelInfo]] = {}
        for model in self._models:
            by_short.setdefault(model.short_name, []).append(model)
        self._by_short = {name: ms[0] for name, ms in by_short.items() if len(ms) == 1}

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return self._models

    def resolve(self, name: str) -> ModelInfo | None:
        """``creator/model``, or a bare model name when exactly one creator has it."""
        model = self._by_id.get(name)
        if model is None and "/" not in name:
            model = self._by_short.get(name)
        return model

    def providers(self) -> set[str]:
        return {offer.provider for model in self._models for offer in model.providers}


def _decimal(value: Any, where: str) -> Decimal:
    try:
        amount = parse_usd(str(value))
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    if amount < 0:
        raise CatalogError(f"{where}: negative price {value!r}")
    return amount


def _pricing(raw: Any, where: str) -> Pricing | None:
    if not raw:
        return None
    if not isinstance(raw, Mapping) or "input" not in raw or "output" not in raw:
        raise CatalogError(f"{where}: pricing needs 'input' and 'output'")

    def optional(key: str) -> Decimal | None:
        value = raw.get(key)
        return None if value in (None, "") else _decimal(value, f"{where}.{key}")

    return Pricing(
        input=_decimal(raw["input"], f"{where}.input"),
        output=_decimal(raw["output"], f"{where}.output"),
        input_cache_read=optional("input_cache_read"),
        input_cache_write=optional("input_cache_write"),
    )


def _released(value: Any) -> int:
    if not value:
        return 0
    try:
        day = date.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogError(f"bad release date {value!r}") from exc
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def parse_model(raw: Mapping[str, Any]) -> ModelInfo:
    model_id = raw.get("id")
    if not isinstance(model_id, str) or "/" not in model_id:
        raise CatalogError(f"model id must be 'creator/model': {model_id!r}")
    model_free = bool(raw.get("free", False))
    offers = []
    for index, entry in enumerate(raw.get("providers") or ()):
        where = f"{model_id}.providers[{index}]"
        if not isinstance(entry, Mapping) or not entry.get("provider"):
            raise CatalogError(f"{where}: needs 'provider'")
        offers.append(
            ProviderOffer(
                provider=str(entry["provider"]),
                provider_model_id=str(entry.get("provider_model_id") or model_id.split("/", 1)[1]),
                pricing=_pricing(entry.get("pricing"), f"{where}.pricing"),
                free=model_free or bool(entry.get("free", False)),
                wire_protocol=str(entry.get("wire_protocol") or ""),
            )
        )
    return ModelInfo(
        id=model_id,
        name=str(raw.get("name") or model_id.split("/", 1)[1]),
        description=str(raw.get("description") or ""),
        creator=str(raw.get("creator") or model_id.split("/", 1)[0]),
        type=str(raw.get("type") or "language"),
        context_window=int(raw.get("context_window") or 0),
        max_output_tokens=int(raw.get("max_output_tokens") or 0),
        input_modalities=tuple(raw.get("input_modalities") or ("text",)),
        output_modalities=tuple(raw.get("output_modalities") or ("text",)),
        released=_released(raw.get("released")),
        providers=tuple(offers),
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
        merged[str(entry.get("id"))] = dict(entry)
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
