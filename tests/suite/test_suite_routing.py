"""Routing as an OpenAI SDK user sees it through the whole suite: `order`, `only`, both
together, fallback models and provider failover, each visible in
`provider_metadata.gateway.routing` and in which fake provider received the request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig

from tests.support.upstreams import Upstream, fake_openai

OPENAI_KEY = "sk-routing-openai"
GROQ_KEY = "gsk-routing-groq"
PRICE = {"input": "0.000001", "output": "0.000002"}
CATALOG = {
    "version": "suite-routing",
    "models": [
        {
            "id": "acme/duo",
            "providers": [
                {"provider": "openai", "provider_model_id": "duo-openai", "pricing": PRICE},
                {"provider": "groq", "provider_model_id": "duo-groq", "pricing": PRICE},
            ],
        },
        {
            "id": "acme/openai-only",
            "providers": [
                {"provider": "openai", "provider_model_id": "only-openai", "pricing": PRICE}
            ],
        },
        {
            "id": "acme/groq-only",
            "providers": [{"provider": "groq", "provider_model_id": "only-groq", "pricing": PRICE}],
        },
    ],
}


@pytest.fixture(scope="module")
def two_providers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Stack, Upstream, Upstream]]:
    data_dir = tmp_path_factory.mktemp("tollgate-routing")
    catalog = Path(data_dir) / "catalog-override.json"
    catalog.write_text(json.dumps(CATALOG))
    with (
        fake_openai(OPENAI_KEY) as openai_fake,
        fake_openai(GROQ_KEY) as groq_fake,
        Stack(
            StackConfig(
                data_dir=data_dir,
                ports=Ports.free(),
                env={
                    "TOLLGATE_CATALOG_FILE": str(catalog),
                    "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{openai_fake.url}/v1",
                    "TOLLGATE_PROVIDER_OPENAI_API_KEY": OPENAI_KEY,
                    "TOLLGATE_PROVIDER_GROQ_BASE_URL": f"{groq_fake.url}/v1",
                    "TOLLGATE_PROVIDER_GROQ_API_KEY": GROQ_KEY,
                },
            )
        ) as stack,
    ):
        yield stack, openai_fake, groq_fake


@pytest.fixture
def suite(
    two_providers: tuple[Stack, Upstream, Upstream],
) -> tuple[openai.OpenAI, Upstream, Upstream]:
    stack, openai_fake, groq_fake = two_providers
    openai_fake.reset()
    groq_fake.reset()
    client = openai.OpenAI(base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0)
    return client, openai_fake, groq_fake


def ask(
    client: openai.OpenAI, model: str = "acme/duo", **gateway: Any
) -> tuple[str, dict[str, Any]]:
    """The model that served and the routing metadata of one non-streaming completion."""
    extra: dict[str, Any] = {"providerOptions": {"gateway": gateway}} if gateway else {}
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "route me"}], extra_body=extra
    )
    message = completion.choices[0].message
    assert message.content == "Echo: route me"
    metadata = (message.model_extra or {})["provider_metadata"]["gateway"]
    assert metadata["generationId"] == completion.id
    return completion.model, metadata["routing"]


def sent_models(fake: Upstream) -> list[str]:
    return [r["body"]["model"] for r in fake.requests()]  # type: ignore[index]


def test_order_sends_the_request_to_the_first_provider_named(suite: Any) -> None:
    client, openai_fake, groq_fake = suite

    _, routing = ask(client, order=["groq", "openai"])

    assert routing["finalProvider"] == routing["resolvedProvider"] == "groq"
    assert routing["fallbacksAvailable"] == ["openai"]
    assert sent_models(groq_fake) == ["duo-groq"] and sent_models(openai_fake) == []


def test_only_restricts_the_providers(suite: Any) -> None:
    client, openai_fake, _groq_fake = suite

    _, routing = ask(client, only=["groq"])

    assert routing["finalProvider"] == "groq"
    assert routing["fallbacksAvailable"] == []
    assert [a["provider"] for a in routing["attempts"]] == ["groq"]
    assert sent_models(openai_fake) == []


def test_only_filters_and_order_orders_what_is_left(suite: Any) -> None:
    client, _openai_fake, groq_fake = suite

    _, routing = ask(client, only=["openai"], order=["groq", "openai"])

    assert routing["finalProvider"] == "openai"
    assert sent_models(groq_fake) == []
    assert "only openai" in routing["planningReasoning"]


def test_only_matching_no_provider_is_a_400_naming_the_allowed_ones(suite: Any) -> None:
    client, openai_fake, groq_fake = suite

    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, only=["anthropic"])

    error = raised.value.body
    assert isinstance(error, dict)
    assert error["param"] == "providerOptions.gateway.only"
    assert "groq, openai" in error["message"]
    assert sent_models(openai_fake) == [] and sent_models(groq_fake) == []


def test_a_failing_provider_is_failed_over_and_shown_in_attempts(suite: Any) -> None:
    client, openai_fake, groq_fake = suite
    openai_fake.script(status=500)

    _, routing = ask(client, order=["openai", "groq"])

    failed, served = routing["attempts"]
    assert (failed["provider"], failed["success"], failed["statusCode"]) == ("openai", False, 500)
    assert failed["error"].startswith("HTTP 500")
    assert failed["credentialType"] == "system"
    assert failed["startTime"] <= failed["endTime"]
    assert (served["provider"], served["success"]) == ("groq", True)
    assert routing["totalProviderAttemptCount"] == 2
    assert sent_models(openai_fake) == ["duo-openai"] and sent_models(groq_fake) == ["duo-groq"]


def test_a_fallback_model_serves_when_the_primary_model_fails(suite: Any) -> None:
    client, openai_fake, groq_fake = suite
    openai_fake.script(status=503)

    completion = client.chat.completions.create(
        model="acme/openai-only",
        messages=[{"role": "user", "content": "route me"}],
        extra_body={"models": ["acme/groq-only"]},
    )

    assert completion.model == "acme/groq-only"  # the model that actually served
    routing = (completion.choices[0].message.model_extra or {})["provider_metadata"]["gateway"][
        "routing"
    ]
    assert routing["originalModelId"] == "acme/openai-only"
    assert routing["modelAttemptCount"] == 2
    primary, fallback = routing["modelAttempts"]
    assert (primary["modelId"], primary["success"], primary["providerAttemptCount"]) == (
        "acme/openai-only",
        False,
        1,
    )
    assert (fallback["modelId"], fallback["success"]) == ("acme/groq-only", True)
    assert sent_models(groq_fake) == ["only-groq"]


def test_streaming_carries_the_routing_on_the_last_content_chunk(suite: Any) -> None:
    client, _openai_fake, groq_fake = suite

    chunks = list(
        client.chat.completions.create(
            model="acme/duo",
            messages=[{"role": "user", "content": "route me"}],
            stream=True,
            extra_body={"providerOptions": {"gateway": {"order": ["groq"]}}},
        )
    )

    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    [last] = finishing
    metadata = (last.choices[0].delta.model_extra or {})["provider_metadata"]["gateway"]
    assert metadata["routing"]["finalProvider"] == "groq"
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: route me"
    )
    assert sent_models(groq_fake) == ["duo-groq"]


def test_a_request_byok_key_is_used_first_and_charged_nothing(suite: Any) -> None:
    client, _openai_fake, _groq_fake = suite

    completion = client.chat.completions.create(
        model="acme/duo",
        messages=[{"role": "user", "content": "route me"}],
        extra_body={
            "providerOptions": {
                "gateway": {"only": ["groq"], "byok": {"groq": [{"apiKey": GROQ_KEY}]}}
            }
        },
    )

    gateway = (completion.choices[0].message.model_extra or {})["provider_metadata"]["gateway"]
    [attempt] = gateway["routing"]["attempts"]
    assert (attempt["provider"], attempt["credentialType"], attempt["success"]) == (
        "groq",
        "byok",
        True,
    )
    assert gateway["cost"] == "0"
    assert float(gateway["marketCost"]) > 0


def test_a_failing_byok_key_falls_back_to_the_system_credential(suite: Any) -> None:
    client, _openai_fake, _groq_fake = suite

    completion = client.chat.completions.create(
        model="acme/duo",
        messages=[{"role": "user", "content": "route me"}],
        extra_body={
            "providerOptions": {
                "gateway": {"only": ["groq"], "byok": {"groq": [{"apiKey": "gsk-wrong"}]}}
            }
        },
    )

    gateway = (completion.choices[0].message.model_extra or {})["provider_metadata"]["gateway"]
    byok, system = gateway["routing"]["attempts"]
    assert (byok["credentialType"], byok["success"], byok["statusCode"]) == ("byok", False, 401)
    assert (system["credentialType"], system["success"]) == ("system", True)
    assert gateway["cost"] == gateway["marketCost"]
    assert "gsk-wrong" not in str(gateway)


def test_malformed_byok_is_a_400(suite: Any) -> None:
    client, openai_fake, groq_fake = suite

    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="acme/duo",
            messages=[{"role": "user", "content": "route me"}],
            extra_body={"providerOptions": {"gateway": {"byok": {"groq": [{"key": "x"}]}}}},
        )

    assert isinstance(raised.value.body, dict)
    assert raised.value.body["param"] == "providerOptions.gateway.byok.groq"
    assert sent_models(openai_fake) == [] and sent_models(groq_fake) == []
