"""A team's stored BYOK credentials in routing, as an OpenAI SDK user sees them through Envoy:
used before the system credential (`credentialType: "byok"`, cost 0, the provider sees the
team's key), a refused BYOK key falls back to the system credential, a disabled or removed
credential stops being used within a second, and a team without enough credit is still served
with its own key (and never with the system's)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig

from tests.support.admin import AdminSuite, Secrets, Tenant, new_tenant
from tests.support.upstreams import Upstream, fake_openai

SYSTEM_KEY = "sk-byok-suite-system"
PRICE = {"input": "0.000001", "output": "0.000002"}
# $1 per input token: the worst case of any prompt is more than the $5 free grant.
COSTLY_PRICE = {"input": "1", "output": "1"}
MODEL, COSTLY = "acme/byok-chat", "acme/byok-costly"
CATALOG = {
    "version": "suite-byok",
    "models": [
        {
            "id": MODEL,
            "max_output_tokens": 100,
            "providers": [
                {"provider": "openai", "provider_model_id": "byok-chat", "pricing": PRICE}
            ],
        },
        {
            "id": COSTLY,
            "max_output_tokens": 100,
            "providers": [
                {"provider": "openai", "provider_model_id": "byok-costly", "pricing": COSTLY_PRICE}
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def byok_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AdminSuite, Upstream]]:
    data_dir = tmp_path_factory.mktemp("tollgate-byok")
    catalog = Path(data_dir) / "catalog-override.json"
    catalog.write_text(json.dumps(CATALOG))
    with (
        fake_openai(SYSTEM_KEY) as fake,
        Stack(
            StackConfig(
                data_dir=data_dir,
                ports=Ports.free(),
                env={
                    "TOLLGATE_CATALOG_FILE": str(catalog),
                    "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{fake.url}/v1",
                    "TOLLGATE_PROVIDER_OPENAI_API_KEY": SYSTEM_KEY,
                },
            )
        ) as stack,
    ):
        yield AdminSuite(stack, "sqlite", Secrets([stack.bootstrap_key()])), fake


@pytest.fixture
def tenant(byok_suite: tuple[AdminSuite, Upstream]) -> Tenant:
    suite, fake = byok_suite
    fake.reset()
    return new_tenant(suite, "byok")


def _key(fake: Upstream, accepted: bool = True) -> str:
    key = f"sk-team-byok-{uuid.uuid4().hex}"
    if accepted:
        fake.accept_keys(key)
    return key


def _client(suite: AdminSuite, tenant: Tenant) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{suite.origin}/v1", api_key=tenant.member.key, max_retries=0)


def _ask(client: openai.OpenAI, model: str = MODEL) -> dict[str, Any]:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "whose key"}]
    )
    assert completion.choices[0].message.content == "Echo: whose key"
    gateway: dict[str, Any] = (completion.choices[0].message.model_extra or {})[
        "provider_metadata"
    ]["gateway"]
    return gateway


def _credential_types(gateway: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(a["credentialType"], a["success"]) for a in gateway["routing"]["attempts"]]


def _keys_seen(fake: Upstream) -> list[str]:
    return [str(r["api_key"]) for r in fake.requests()]


def _within_one_second(check: Callable[[], dict[str, Any]], done: Callable[[Any], bool]) -> Any:
    """Ask until ``done`` holds or a second has passed; the last answer."""
    deadline = time.monotonic() + 1.0
    while True:
        answer = check()
        if done(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(0.05)


def test_the_teams_stored_key_serves_first_and_costs_nothing(
    byok_suite: tuple[AdminSuite, Upstream], tenant: Tenant
) -> None:
    suite, fake = byok_suite
    key = _key(fake)
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": key}})

    gateway = _ask(_client(suite, tenant))

    assert _credential_types(gateway) == [("byok", True)]
    assert gateway["cost"] == "0"
    assert Decimal(gateway["marketCost"]) > 0
    assert _keys_seen(fake) == [key]
    assert key not in json.dumps(gateway)


def test_a_refused_stored_key_falls_back_to_the_system_credential(
    byok_suite: tuple[AdminSuite, Upstream], tenant: Tenant
) -> None:
    suite, fake = byok_suite
    refused = _key(fake, accepted=False)
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": refused}})

    gateway = _ask(_client(suite, tenant))

    byok, system = gateway["routing"]["attempts"]
    assert (byok["credentialType"], byok["success"], byok["statusCode"]) == ("byok", False, 401)
    assert (system["credentialType"], system["success"]) == ("system", True)
    assert gateway["cost"] == gateway["marketCost"] != "0"
    assert _keys_seen(fake) == [refused, SYSTEM_KEY]
    assert refused not in json.dumps(gateway)


def test_a_request_key_comes_before_the_stored_one(
    byok_suite: tuple[AdminSuite, Upstream], tenant: Tenant
) -> None:
    suite, fake = byok_suite
    stored, brought = _key(fake, accepted=False), _key(fake, accepted=False)
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": stored}})

    completion = _client(suite, tenant).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "whose key"}],
        extra_body={"providerOptions": {"gateway": {"byok": {"openai": [{"apiKey": brought}]}}}},
    )

    gateway = (completion.choices[0].message.model_extra or {})["provider_metadata"]["gateway"]
    assert _credential_types(gateway) == [("byok", False), ("byok", False), ("system", True)]
    assert _keys_seen(fake) == [brought, stored, SYSTEM_KEY]


def test_a_disabled_or_removed_credential_stops_being_used_within_a_second(
    byok_suite: tuple[AdminSuite, Upstream], tenant: Tenant
) -> None:
    suite, fake = byok_suite
    client = _client(suite, tenant)
    key = _key(fake)
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": key}})
    assert _credential_types(_ask(client)) == [("byok", True)]  # held by the router now

    tenant.owner.ok("PATCH", "/v1/byok/openai", json={"enabled": False})
    after = _within_one_second(
        lambda: _ask(client), lambda g: _credential_types(g) == [("system", True)]
    )
    assert _credential_types(after) == [("system", True)]

    tenant.owner.ok("PATCH", "/v1/byok/openai", json={"enabled": True})
    again = _within_one_second(
        lambda: _ask(client), lambda g: _credential_types(g) == [("byok", True)]
    )
    assert _credential_types(again) == [("byok", True)]

    tenant.owner.ok("DELETE", "/v1/byok/openai", 204)
    removed = _within_one_second(
        lambda: _ask(client), lambda g: _credential_types(g) == [("system", True)]
    )
    assert _credential_types(removed) == [("system", True)]
    assert _keys_seen(fake)[-1] == SYSTEM_KEY


def test_a_team_without_enough_credit_is_served_with_its_own_key(
    byok_suite: tuple[AdminSuite, Upstream], tenant: Tenant
) -> None:
    suite, fake = byok_suite
    poor = new_tenant(suite, "no-byok")
    with pytest.raises(openai.APIStatusError) as refused:
        _ask(_client(suite, poor), COSTLY)
    assert refused.value.status_code == 402
    assert fake.requests() == []  # nothing went upstream

    key = _key(fake)
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": key}})
    gateway = _ask(_client(suite, tenant), COSTLY)

    assert _credential_types(gateway) == [("byok", True)]
    assert gateway["cost"] == "0" and Decimal(gateway["marketCost"]) > 0
    assert _keys_seen(fake) == [key]


def test_without_credit_a_refused_key_does_not_fall_back_to_the_system_credential(
    byok_suite: tuple[AdminSuite, Upstream], tenant: Tenant
) -> None:
    suite, fake = byok_suite
    refused = _key(fake, accepted=False)
    tenant.owner.ok("PUT", "/v1/byok/openai", 201, json={"credentials": {"apiKey": refused}})

    with pytest.raises(openai.APIStatusError) as failed:
        _ask(_client(suite, tenant), COSTLY)

    assert failed.value.status_code >= 400
    assert refused not in failed.value.response.text
    assert _keys_seen(fake) == [refused]  # the system key was never spent on it
