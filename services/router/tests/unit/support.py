"""What the router's unit tests share: the failover engine built as ``app.py`` builds it (once,
for every service that routes), and a fact sink that keeps what was put."""

from __future__ import annotations

from collections.abc import Mapping

from tollgate_common.outbox import Fact
from tollgate_router.catalog.catalog import Catalog
from tollgate_router.credentials.system import load_system_credentials
from tollgate_router.providers import Adapters
from tollgate_router.routing.failover import Failover


def failover(catalog: Catalog, adapters: Adapters, env: Mapping[str, str]) -> Failover:
    """The engine over ``catalog`` and ``adapters``, with the system keys of ``env`` (fresh
    provider health, no metrics, no BYOK keys)."""
    return Failover(catalog, load_system_credentials(sorted(catalog.providers()), env), adapters)


class Facts:
    """A fact sink (the outbox's ``put`` and ``deliver``) that keeps the facts."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def put(self, fact: Fact) -> None:
        self.facts.append(fact)

    async def deliver(self, fact: Fact) -> bool:
        self.facts.append(fact)
        return True
