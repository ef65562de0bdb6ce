"""The Vercel routing options as a user sees them through Envoy, with one model served by the
OpenAI, Anthropic and Gemini fakes (and a provider without credentials): `sort`, `has`,
`providerTimeouts`, `zeroDataRetention` / `disallowPromptTraining`, `routing.attempts` listing
only the providers called (the others in `routing.skipped`), the OpenAI `user` field in the
spend report, and observability without `since`/`until` (the API and `tollgate
observability`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig

from tests.support.cli import ok, tollgate
from tests.support.polling import eventually
from tests.support.upstreams import ANTHROPIC_KEY, GEMINI_KEY, UPSTREAM_KEY, Upstream

MODEL = "acme/tri"
THINKER = "acme/thinker"
EMBEDDER = "acme/embed-tri"
CATALOG = {
    "version": "suite-routing-options",
    "models": [
        {
            "id": MODEL,
            "tags": ["tool-use", "vision"],
            "providers": [
                # No credentials in this suite: passed over, never called.
                {
                    "provider": "groq",
                    "provider_model_id": "tri-groq",
                    "pricing": {"input": "0.00000001", "output": "0.00000001"},
                },
                {
                    "provider": "openai",
                    "provider_model_id": "tri-openai",
                    "pricing": {"input": "0.000003", "output": "0.000015"},
                    "no_prompt_training": True,
                },
                {
                    "provider": "anthropic",
                    "provider_model_id": "claude-sonnet-4-20250514",
                    "pricing": {"input": "0.000002", "output": "0.00001"},
                    "zero_data_retention": True,
                },
                {
                    "provider": "google",
                    "provider_model_id": "gemini-2.5-flash",
                    "pricing": {"input": "0.0000001", "output": "0.0000004"},
                },
            ],
        },
        {
            "id": THINKER,
            "tags": ["reasoning", "tool-use"],
            "providers": [
                {
                    "provider": "anthropic",
                    "provider_model_id": "claude-sonnet-4-20250514",
                    "pricing": {"input": "0.000003", "output": "0.000015"},
                }
            ],
        },
        *(
            {
                "id": f"acme/{name}",
                "providers": [
                    {
                        "provider": provider,
                        "provider_model_id": f"{name}-{provider}",
                        "pricing": {"input": "0.000001", "output": "0.000001"},
                    }
                    for provider in ("openai", "anthropic", "google")
                ],
            }
            for name in ("fresh-ttft", "fresh-tps")
        ),
        {
            "id": EMBEDDER,
            "type": "embedding",
            "dimensions": 1536,
            "providers": [
                {
                    "provider": "google",
                    "provider_model_id": "gemini-embedding-001",
                    "pricing": {"input": "0.00000001", "output": "0"},
                },
                {
                    "provider": "openai",
                    "provider_model_id": "text-embedding-3-small",
                    "pricing": {"input": "0.00000002", "output": "0"},
                    "no_prompt_training": True,
                },
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def options_stack(
    upstream: Upstream,
    anthropic_upstream: Upstream,
    gemini_upstream: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("tollgate-routing-options")
    catalog = Path(data_dir) / "catalog-override.json"
    catalog.write_text(json.dumps(CATALOG))
    config = StackConfig(
        data_dir=data_dir,
        ports=Ports.free(),
        env={
            "TOLLGATE_CATALOG_FILE": str(catalog),
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
            "TOLLGATE_PROVIDER_ANTHROPIC_BASE_URL": f"{anthropic_upstream.url}/v1",
            "TOLLGATE_PROVIDER_ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "TOLLGATE_PROVIDER_GOOGLE_BASE_URL": f"{gemini_upstream.url}/v1beta",
            "TOLLGATE_PROVIDER_GOOGLE_API_KEY": GEMINI_KEY,
        },
    )
    with Stack(config) as running:
        yield running


@pytest.fixture
def fakes(
    upstream: Upstream, anthropic_upstream: Upstream, gemini_upstream: Upstream
) -> dict[str, Upstream]:
    for fake in (upstream, anthropic_upstream, gemini_upstream):
        fake.reset()
    return {"openai": upstream, "anthropic": anthropic_upstream, "google": gemini_upstream}


@pytest.fixture
def client(options_stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=options_stack.base_url, api_key=options_stack.bootstrap_key(), max_retries=0
    )


def ask(
    client: openai.OpenAI, model: str = MODEL, *, stream: bool = False, **gateway: Any
) -> tuple[str, dict[str, Any]]:
    """The reply and the routing metadata of one completion with ``gateway`` options."""
    extra = {"providerOptions": {"gateway": gateway}}
    messages: Any = [{"role": "user", "content": "route me"}]
    if not stream:
        completion = client.chat.completions.create(
            model=model, messages=messages, extra_body=extra
        )
        message = completion.choices[0].message
        metadata = (message.model_extra or {})["provider_metadata"]["gateway"]
        return message.content or "", metadata["routing"]
    text, routing = "", None
    for chunk in client.chat.completions.create(
        model=model, messages=messages, extra_body=extra, stream=True
    ):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        found = (delta.model_extra or {}).get("provider_metadata")
        if found:
            routing = found["gateway"]["routing"]
    assert routing is not None
    return text, routing


def called(fakes: dict[str, Upstream]) -> list[str]:
    return [name for name, fake in fakes.items() if fake.requests()]


def refused(client: openai.OpenAI, model: str = MODEL, **gateway: Any) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "x"}],
            extra_body={"providerOptions": {"gateway": gateway}},
        )
    body = caught.value.body
    assert isinstance(body, dict)
    return body


def test_sort_by_cost_sends_the_request_to_the_cheapest_provider_first(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    text, routing = ask(client, sort="cost")

    assert text == "Echo: route me"
    assert routing["finalProvider"] == routing["resolvedProvider"] == "google"
    assert routing["fallbacksAvailable"] == ["anthropic", "openai"]
    assert "estimated request cost" in routing["planningReasoning"]
    assert called(fakes) == ["google"]


def test_sort_by_cost_after_order_and_an_unknown_sort_is_a_400(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    _, routing = ask(client, stream=True, sort="cost", order=["openai"])

    assert routing["finalProvider"] == "openai"
    assert routing["fallbacksAvailable"] == ["google", "anthropic"]
    body = refused(client, sort="cheapest")
    assert body["param"] == "providerOptions.gateway.sort" and "cost" in body["message"]
    assert called(fakes) == ["openai"]


def test_sort_by_ttft_and_tps_rank_observed_providers_before_unknown_ones(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    """Models of their own, so that only the calls here are observed: google is the one
    provider with figures (by default it would go last, as untried providers go first)."""
    ask(client, "acme/fresh-ttft", order=["google"])
    fakes["google"].script(chunk_delay_ms=30)
    ask(client, "acme/fresh-tps", stream=True, order=["google"])
    _, default = ask(client, "acme/fresh-tps")  # not streamed: openai gets no tps figure

    _, ttft = ask(client, "acme/fresh-ttft", sort="ttft")
    _, tps = ask(client, "acme/fresh-tps", sort="tps")

    assert default["resolvedProvider"] == "openai"
    assert ttft["resolvedProvider"] == ttft["finalProvider"] == "google"
    assert ttft["fallbacksAvailable"] == ["openai", "anthropic"]
    assert tps["resolvedProvider"] == tps["finalProvider"] == "google"
    assert "tokens per second" in tps["planningReasoning"]


def test_sort_by_ttft_prefers_the_provider_observed_fastest(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    fakes["openai"].script(latency_ms=400)
    ask(client, order=["openai"])  # openai: slow
    ask(client, order=["anthropic"])  # anthropic: fast
    ask(client, order=["google"])  # google: fast

    _, routing = ask(client, sort="ttft")

    assert routing["finalProvider"] in {"anthropic", "google"}
    assert routing["fallbacksAvailable"][-1] == "openai"
    assert "time to first byte" in routing["planningReasoning"]


def test_has_routes_to_the_fallback_model_with_the_capability(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    text, routing = ask(client, has=["reasoning"], models=[THINKER])

    assert text == "Echo: route me"
    assert routing["canonicalSlug"] == THINKER and routing["finalProvider"] == "anthropic"
    assert [a["provider"] for a in routing["attempts"]] == ["anthropic"]
    assert {s["provider"] for s in routing["skipped"]} == {"groq", "openai", "anthropic", "google"}
    assert called(fakes) == ["anthropic"]
    _, negated = ask(client, has=["!reasoning", "vision"], only=["google"])
    assert negated["canonicalSlug"] == MODEL and negated["finalProvider"] == "google"


def test_has_that_nothing_meets_or_does_not_know_is_a_400(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    none = refused(client, has=["reasoning"])
    unknown = refused(client, has=["telepathy"])

    assert none["param"] == unknown["param"] == "providerOptions.gateway.has"
    assert MODEL in none["message"] and "telepathy" in unknown["message"]
    assert called(fakes) == []


@pytest.mark.parametrize(
    ("slow", "then"), [("openai", "anthropic"), ("anthropic", "google"), ("google", "openai")]
)
def test_a_provider_timeout_fails_over_when_the_first_byte_is_late(
    client: openai.OpenAI, fakes: dict[str, Upstream], slow: str, then: str
) -> None:
    fakes[slow].script(latency_ms=3000)

    text, routing = ask(
        client,
        stream=True,
        order=[slow, then],
        providerTimeouts={"system": {slow: 300}},
    )

    assert text == "Echo: route me"
    assert routing["finalProvider"] == then
    late, served = routing["attempts"]
    assert (late["provider"], late["success"]) == (slow, False)
    assert "providerTimeouts (300 ms)" in late["error"]
    assert served["provider"] == then and served["success"] is True
    assert routing["totalProviderAttemptCount"] == 2


def test_malformed_provider_timeouts_are_a_400(client: openai.OpenAI) -> None:
    for bad, param in (
        ({"openai": 100}, "providerTimeouts"),
        ({"system": {"openai": -5}}, "providerTimeouts.system"),
        ({"byok": {"openai": "fast"}}, "providerTimeouts.byok"),
    ):
        body = refused(client, providerTimeouts=bad)
        assert body["param"] == f"providerOptions.gateway.{param}"


def test_zero_data_retention_and_no_training_keep_the_qualifying_providers(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    _, zdr = ask(client, zeroDataRetention=True, order=["google", "openai"])
    _, no_training = ask(client, disallowPromptTraining=True, order=["google", "anthropic"])

    assert zdr["finalProvider"] == "anthropic" and zdr["fallbacksAvailable"] == []
    assert no_training["finalProvider"] == "openai"
    reasons = {s["provider"]: s["error"] for s in zdr["skipped"]}
    assert "zeroDataRetention" in reasons["google"] and "zeroDataRetention" in reasons["openai"]
    assert sorted(called(fakes)) == ["anthropic", "openai"]


def test_zero_data_retention_with_no_qualifying_provider_is_a_400(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    body = refused(client, zeroDataRetention=True, only=["openai", "google"])

    assert body["param"] == "providerOptions.gateway.zeroDataRetention"
    assert "zeroDataRetention" in body["message"]
    assert called(fakes) == []


def test_attempts_list_only_the_providers_called_in_call_order(
    client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    fakes["openai"].script(status=503)

    _, routing = ask(client, order=["groq", "openai", "google"])

    assert [(a["provider"], a["success"]) for a in routing["attempts"]] == [
        ("openai", False),
        ("google", True),
    ]
    assert not any(a.get("skipped") for a in routing["attempts"])
    [groq] = [s for s in routing["skipped"] if s["provider"] == "groq"]
    assert groq["skipped"] is True and "no credentials" in groq["error"]
    assert routing["totalProviderAttemptCount"] == 2
    assert "groq" not in routing["fallbacksAvailable"]


def test_embeddings_follow_disallow_prompt_training(
    options_stack: Stack, client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    reply = httpx.post(
        f"{options_stack.base_url}/embeddings",
        json={
            "model": EMBEDDER,
            "input": "hello",
            "providerOptions": {"gateway": {"disallowPromptTraining": True}},
        },
        headers={"authorization": f"Bearer {options_stack.bootstrap_key()}"},
    )

    assert reply.status_code == 200, reply.text
    routing = reply.json()["providerMetadata"]["gateway"]["routing"]
    assert routing["finalProvider"] == "openai"
    assert [s["provider"] for s in routing["skipped"]] == ["google"]
    assert called(fakes) == ["openai"]


def test_the_ai_sdk_path_takes_the_routing_options(
    options_stack: Stack, fakes: dict[str, Upstream]
) -> None:
    headers = {
        "authorization": f"Bearer {options_stack.bootstrap_key()}",
        "ai-gateway-protocol-version": "0.0.1",
        "ai-gateway-auth-method": "api-key",
        "ai-language-model-specification-version": "2",
        "ai-language-model-streaming": "false",
        "ai-language-model-id": MODEL,
    }
    prompt = [{"role": "user", "content": [{"type": "text", "text": "route me"}]}]
    origin = options_stack.base_url.removesuffix("/v1")

    def generate(gateway: dict[str, Any]) -> httpx.Response:
        body = {"prompt": prompt, "providerOptions": {"gateway": gateway}}
        return httpx.post(
            f"{origin}/v1/ai/language-model",
            content=orjson.dumps(body),
            headers=headers,
            timeout=30,
        )

    reply = generate({"sort": "cost", "has": ["vision"]})
    bad = generate({"sort": "slowest"})

    assert reply.status_code == 200, reply.text
    routing = reply.json()["providerMetadata"]["gateway"]["routing"]
    assert routing["finalProvider"] == "google"
    assert bad.status_code == 400
    assert called(fakes) == ["google"]


def test_the_openai_user_field_feeds_the_spend_report(
    options_stack: Stack, client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    for user, gateway in (("carol", {}), ("carol", {"user": "dave"})):
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            user=user,
            extra_body={"providerOptions": {"gateway": gateway}},
        )
    today = dt.datetime.now(dt.UTC).date().isoformat()

    def by_user() -> dict[str, int] | None:
        reply = httpx.get(
            f"{options_stack.base_url}/report",
            params={"start_date": today, "end_date": today, "group_by": "user"},
            headers={"authorization": f"Bearer {options_stack.bootstrap_key()}"},
        )
        reply.raise_for_status()
        rows = {r["user"]: r["request_count"] for r in reply.json()["results"]}
        return rows if rows.get("carol") and rows.get("dave") else None

    counts = eventually(by_user)
    assert counts["carol"] == 1 and counts["dave"] == 1


@pytest.mark.parametrize(
    ("granularity", "window"),
    [
        ("minute", dt.timedelta(hours=6)),
        ("hour", dt.timedelta(days=7)),
        ("day", dt.timedelta(days=28)),
        (None, dt.timedelta(days=7)),
    ],
)
def test_observability_without_since_or_until_answers_a_default_window(
    options_stack: Stack, granularity: str | None, window: dt.timedelta
) -> None:
    params = {"granularity": granularity} if granularity else {}
    reply = httpx.get(
        f"{options_stack.base_url}/observability",
        params=params,
        headers={"authorization": f"Bearer {options_stack.bootstrap_key()}"},
    )

    assert reply.status_code == 200, reply.text
    answer = reply.json()
    since = dt.datetime.fromisoformat(answer["since"])
    until = dt.datetime.fromisoformat(answer["until"])
    # The range is aligned to whole buckets: at most one bucket more than the window.
    assert window <= until - since <= window + dt.timedelta(days=1)
    assert until >= dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def test_the_cli_shows_observability_without_a_time_range(
    options_stack: Stack, client: openai.OpenAI, fakes: dict[str, Upstream]
) -> None:
    ask(client, only=["google"])

    def minutes() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = ok(options_stack, "observability", "--granularity", "minute")
        return [r for r in rows if r["model"] == MODEL] or None

    rows = eventually(minutes)
    assert sum(r["value"] for r in rows) >= 1
    table = tollgate(options_stack, "observability", "--metric", "tokens", "--granularity", "day")
    assert table.returncode == 0, table.stderr
    assert MODEL in table.stdout and " in / " in table.stdout
