"""The router's in-memory BYOK credentials: request keys, then the team's stored key, then the
system key; one load per team, dropped on a change fact, short-lived while not following
changes, sealed in memory, and a failing auth does not fail routing."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from tollgate_router.catalog.catalog import build_catalog
from tollgate_router.credentials.system import load_system_credentials
from tollgate_router.credentials.team import TeamCredentialStore
from tollgate_router.domain import ByokKey, RoutingOptions
from tollgate_router.providers import Adapters
from tollgate_router.routing.planning import plan

CATALOG = build_catalog(
    {
        "version": "v",
        "models": [
            {
                "id": "acme/m",
                "providers": [
                    {"provider": p, "pricing": {"input": "0.000001", "output": "0.000002"}}
                    for p in ("groq", "mistral")
                ],
            }
        ],
    }
)


class _Adapter:
    async def open(self, call: Any) -> Any:
        raise NotImplementedError


class _Auth:
    """Stands in for auth's ListByokSecrets: counts loads, may fail or wait."""

    def __init__(self, stored: dict[str, dict[str, dict[str, str]]]) -> None:
        self.stored = stored
        self.loads: list[str] = []
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, team_id: str) -> Mapping[str, Mapping[str, str]]:
        self.loads.append(team_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("auth is down")
        return self.stored.get(team_id, {})


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_teams_stored_key_comes_between_request_keys_and_the_system_key() -> None:
    auth = _Auth({"team_a": {"groq": {"apiKey": "stored-groq"}}})
    store = TeamCredentialStore(auth)
    model = CATALOG.resolve("acme/m")
    assert model is not None
    credentials = load_system_credentials(CATALOG.providers(), {"GROQ_API_KEY": "system-groq"})
    options = RoutingOptions(only=("groq",), byok=(ByokKey("groq", "request-groq"),))

    result = plan(
        [model], options, credentials, Adapters(openai_chat=_Adapter()), None,
        await store.for_team("team_a"),
    )  # fmt: skip

    tried = [(c.credential_type, c.credential.api_key) for c in result.candidates]
    assert tried == [("byok", "request-groq"), ("byok", "stored-groq"), ("system", "system-groq")]
    other = await store.for_team("team_b")  # another team's keys are never in its plan
    assert other.api_key("groq") is None and auth.loads == ["team_a", "team_b"]


async def test_one_load_per_team_until_a_change_names_it() -> None:
    auth = _Auth({"t": {"mistral": {"apiKey": "k1"}}})
    store = TeamCredentialStore(auth)
    store._follower._live = True  # following change facts
    auth.gate = asyncio.Event()
    waiting = [asyncio.create_task(store.for_team("t")) for _ in range(5)]
    await asyncio.sleep(0)
    auth.gate.set()
    assert {(await w).api_key("mistral") for w in waiting} == {"k1"}
    assert (await store.for_team("t")).api_key("mistral") == "k1"
    assert auth.loads == ["t"]

    auth.stored["t"] = {}  # disabled at auth ...
    store.invalidate("t")  # ... and the fact arrived
    assert (await store.for_team("t")).api_key("mistral") is None
    assert auth.loads == ["t", "t"]


async def test_a_change_during_a_load_is_not_missed() -> None:
    auth = _Auth({"t": {"groq": {"apiKey": "old"}}})
    store = TeamCredentialStore(auth)
    store._follower._live = True
    auth.gate = asyncio.Event()
    loading = asyncio.create_task(store.for_team("t"))
    await asyncio.sleep(0)
    store.invalidate("t")  # removed while the old answer was on its way
    auth.gate.set()
    await loading
    auth.gate, auth.stored["t"] = None, {}
    assert (await store.for_team("t")).api_key("groq") is None


async def test_while_not_following_changes_credentials_live_a_second() -> None:
    clock = _Clock()
    auth = _Auth({"t": {"groq": {"apiKey": "k"}}})
    store = TeamCredentialStore(auth, offline_max_age=1.0, clock=clock)
    await store.for_team("t")
    clock.now = 0.5
    await store.for_team("t")
    clock.now = 1.6
    await store.for_team("t")
    assert auth.loads == ["t", "t"]


async def test_auth_down_means_system_credentials_and_a_retry_later() -> None:
    clock = _Clock()
    auth = _Auth({"t": {"groq": {"apiKey": "k"}}})
    store = TeamCredentialStore(auth, retry_seconds=1.0, clock=clock)
    store._follower._live = True
    auth.fail = True
    assert (await store.for_team("t")).providers() == frozenset()
    await store.for_team("t")
    assert auth.loads == ["t"]  # not asked again at once
    auth.fail, clock.now = False, 1.5
    assert (await store.for_team("t")).api_key("groq") == "k"


async def test_keys_are_sealed_in_memory_and_never_in_a_repr() -> None:
    store = TeamCredentialStore(_Auth({"t": {"groq": {"apiKey": "sk-very-secret"}}}))
    held = await store.for_team("t")
    assert "sk-very-secret" not in repr(held)
    assert all(b"sk-very-secret" not in sealed for sealed in held._sealed.values())
    assert held.api_key("groq") == "sk-very-secret"


@pytest.mark.parametrize("max_teams", [2])
async def test_the_oldest_team_goes_first(max_teams: int) -> None:
    auth = _Auth({})
    store = TeamCredentialStore(auth, max_teams=max_teams)
    store._follower._live = True
    for team in ("a", "b", "c", "b"):
        await store.for_team(team)
    assert store.cached("a") is None and auth.loads == ["a", "b", "c"]
