"""System provider credentials (``TOLLGATE_PROVIDER_<SLUG>_API_KEY``, docs/routing.md), read once at startup and passed down.

For provider ``<slug>`` (upper-cased, ``-`` → ``_``): the key is ``TOLLGATE_PROVIDER_<SLUG>_API_KEY``,
else the provider's usual variable (``OPENAI_API_KEY``, ...); the base URL is
``TOLLGATE_PROVIDER_<SLUG>_BASE_URL``, else the provider's documented default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tollgate_router.providers.directory import provider_info


@dataclass(frozen=True, slots=True)
class SystemCredential:
    """A key and the base URL to use it at (the gateway's own, or one a team brought)."""

    provider: str
    base_url: str
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class SystemCredentials:
    by_provider: Mapping[str, SystemCredential]
    # Every provider's base URL (override or documented default), with a key or not: where a
    # BYOK key is sent.
    base_urls: Mapping[str, str] = field(default_factory=dict)

    def get(self, provider: str) -> SystemCredential | None:
        return self.by_provider.get(provider)

    def with_key(self, provider: str, api_key: str) -> SystemCredential | None:
        """``api_key`` at ``provider``'s base URL (None when no base URL is known)."""
        base_url = self.base_urls.get(provider)
        return SystemCredential(provider, base_url, api_key) if base_url else None

    def __repr__(self) -> str:  # never the keys
        return f"SystemCredentials(providers={sorted(self.by_provider)})"


def env_slug(provider: str) -> str:
    return provider.upper().replace("-", "_")


def load_system_credentials(
    providers: Iterable[str], environ: Mapping[str, str]
) -> SystemCredentials:
    """The usable system credential of each of ``providers`` (a key and a base URL are needed)."""
    found: dict[str, SystemCredential] = {}
    base_urls: dict[str, str] = {}
    for provider in providers:
        info = provider_info(provider)
        prefix = f"TOLLGATE_PROVIDER_{env_slug(provider)}_"
        key = environ.get(prefix + "API_KEY", "").strip()
        if not key and info is not None:
            key = environ.get(info.key_env, "").strip()
        base_url = environ.get(prefix + "BASE_URL", "").strip()
        if not base_url and info is not None:
            base_url = info.base_url
        if base_url:
            base_urls[provider] = base_url.rstrip("/")
        if key and base_url:
            found[provider] = SystemCredential(provider, base_url.rstrip("/"), key)
    return SystemCredentials(found, base_urls)
