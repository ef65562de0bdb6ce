"""``ai`` 5 with ``@ai-sdk/gateway`` 2 (``/v1/ai``) and ``ai`` 6 with ``@ai-sdk/gateway`` 3
(``/v3/ai``), unchanged but for ``createGateway({baseURL: '<suite>/v1/ai', apiKey})``, against the whole suite (Envoy → edge → router → fake providers):
``generateText`` / ``streamText``, tool calls (run by the SDK and answered in a second step),
reasoning, ``embed`` / ``embedMany``, ``getAvailableModels()``, the generation id of
``providerMetadata.gateway`` found again with ``getGenerationInfo()`` (``GET /v1/generation``), and
the client's typed errors. Skips, saying so, without ``node``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tollgate_cli.stack import Stack

from tests.fakes.embedding_vectors import fake_vector
from tests.support.catalog import ANTHROPIC_MODEL, ANTHROPIC_PRICE, EMBEDDING_MODEL, GEMINI_MODEL
from tests.support.node_clients import NodeClient, node_client, ok
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

OPENAI_MODEL = "openai/gpt-4o-mini"
# Served by the OpenAI fake only (the suite's own embedding model may fail over to Gemini's).
EMBEDDINGS = "openai/text-embedding-3-small"
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
CALLS = [{"city": "Paris"}, {"city": "Rome"}]


@pytest.fixture(params=["5", "6"], ids=["ai5", "ai6"])
def sdk(request: pytest.FixtureRequest) -> str:
    """The major version of ``ai`` (5: gateway protocol V2 at /v1/ai; 6: V3 at /v3/ai)."""
    version: str = request.param
    return version


@pytest.fixture
def gateway(stack: Stack, sdk: str) -> NodeClient:
    return node_client("gateway.mjs", env={"TOLLGATE_AI_SDK": sdk})(stack)


def generation_info(gateway: NodeClient, generation_id: str) -> dict[str, Any] | None:
    """``getGenerationInfo`` once billing has recorded the generation (404 until then)."""
    found = gateway("generation-info", id=generation_id)
    return None if "error" in found else found


def gateway_metadata(result: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = result["providerMetadata"]["gateway"]
    assert metadata["generationId"].startswith("gen_")
    return metadata


def test_generate_text_and_find_the_generation(
    stack: Stack, gateway: NodeClient, fresh_upstream: Upstream
) -> None:
    result = ok(
        gateway("generate", model=OPENAI_MODEL, system="Be brief.", prompt="hello there gateway")
    )

    assert result["text"] == "Echo: hello there gateway"
    assert result["finishReason"] == "stop"
    [sent] = fresh_upstream.requests()
    body: Any = sent["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there gateway"},
    ]
    # The fake counts words: 5 in, 4 out ("Echo:", "hello", "there", "gateway").
    assert result["usage"]["inputTokens"] == 5 and result["usage"]["outputTokens"] == 4
    assert result["usage"]["totalTokens"] == 9
    metadata = gateway_metadata(result)
    assert metadata["routing"]["finalProvider"] == "openai"
    assert Decimal(metadata["cost"]) > 0

    info = eventually(lambda: generation_info(gateway, metadata["generationId"]))
    assert info is not None, "getGenerationInfo never found the generation"
    assert info["id"] == metadata["generationId"] and info["model"] == OPENAI_MODEL
    assert info["providerName"] == "openai" and info["streamed"] is False
    assert info["promptTokens"] == 5 and info["completionTokens"] == 4
    assert Decimal(str(info["totalCost"])) == Decimal(metadata["cost"])


def test_stream_text_arrives_in_pieces(
    stack: Stack, gateway: NodeClient, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(chunk_delay_ms=20)  # one word per read, not all in one
    result = ok(gateway("stream", model=OPENAI_MODEL, prompt="stream these words please"))

    assert result["errors"] == []
    assert result["text"] == "Echo: stream these words please"
    assert len(result["deltas"]) > 1 and "".join(result["deltas"]) == result["text"]
    assert result["finishReason"] == "stop"
    assert result["usage"]["outputTokens"] == 5
    assert "error" not in result["parts"]
    [sent] = fresh_upstream.requests()
    assert sent["body"]["stream"] is True  # type: ignore[index]
    metadata = gateway_metadata(result)
    info = eventually(lambda: generation_info(gateway, metadata["generationId"]))
    assert info is not None and info["streamed"] is True


def script_calls(provider: str, upstream: Upstream, calls: list[dict[str, Any]]) -> None:
    """The fake answers by calling ``weather`` with each of ``calls``, in its own wire format."""
    if provider == "openai":
        upstream.script(tool_calls=[{"name": "weather", "arguments": c} for c in calls])
    elif provider == "anthropic":
        upstream.script(reply="", tool_use=[{"name": "weather", "input": c} for c in calls])
    else:
        upstream.script(reply="", function_call=[{"name": "weather", "args": c} for c in calls])


PROVIDERS = [
    ("openai", OPENAI_MODEL, "fresh_upstream"),
    ("anthropic", ANTHROPIC_MODEL, "fresh_anthropic"),
    ("google", GEMINI_MODEL, "fresh_gemini"),
]


@pytest.fixture(params=PROVIDERS, ids=[p[0] for p in PROVIDERS])
def provider(request: pytest.FixtureRequest) -> tuple[str, str, Upstream]:
    name, model, fixture = request.param
    return name, model, request.getfixturevalue(fixture)


@pytest.mark.parametrize("command", ["tools", "tools-stream"])
def test_tool_calls_are_run_by_the_sdk(
    stack: Stack, gateway: NodeClient, provider: tuple[str, str, Upstream], command: str
) -> None:
    name, model, upstream = provider
    script_calls(name, upstream, CALLS)

    result = ok(
        gateway(command, model=model, prompt="Weather in Paris and Rome?", toolChoice="required")
    )

    assert result["finishReason"] == "tool-calls"
    calls = result["toolCalls"]
    assert [(c["name"], c["input"]) for c in calls] == [("weather", c) for c in CALLS]
    assert len({c["id"] for c in calls}) == 2
    if command == "tools":  # generateText ran the tool (`execute`) on each call
        assert [r["output"] for r in result["toolResults"]] == [
            {"city": "Paris", "forecast": "sunny"},
            {"city": "Rome", "forecast": "sunny"},
        ]
    [sent] = upstream.requests()
    body: Any = sent["body"]
    if name == "openai":
        assert body["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "weather",
                    "description": "Current weather in a city",
                    "parameters": SCHEMA,
                },
            }
        ]
        assert body["tool_choice"] == "required"
    elif name == "anthropic":
        assert body["tools"][0]["name"] == "weather"
        assert body["tools"][0]["input_schema"] == SCHEMA
        assert body["tool_choice"] == {"type": "any"}
    else:
        assert body["tools"][0]["functionDeclarations"][0]["name"] == "weather"


def test_a_tool_result_goes_back_to_the_model(
    stack: Stack, gateway: NodeClient, provider: tuple[str, str, Upstream]
) -> None:
    name, model, upstream = provider
    script_calls(name, upstream, CALLS[:1])
    upstream.script(reply="Sunny in Paris.")

    result = ok(gateway("tools-round-trip", model=model, prompt="Weather in Paris?"))

    assert result["steps"] == 2
    assert result["text"] == "Sunny in Paris." and result["finishReason"] == "stop"
    _first, second = upstream.requests()
    body: Any = second["body"]
    if name == "openai":
        call, answer = body["messages"][-2:]
        assert (
            call["role"] == "assistant" and call["tool_calls"][0]["function"]["name"] == "weather"
        )
        assert answer["role"] == "tool" and answer["tool_call_id"] == call["tool_calls"][0]["id"]
        assert answer["content"] == '{"city":"Paris","forecast":"sunny"}'
    elif name == "anthropic":
        call, answer = body["messages"][-2:]
        assert call["content"][-1]["type"] == "tool_use"
        assert answer["content"][0]["type"] == "tool_result"
        assert answer["content"][0]["tool_use_id"] == call["content"][-1]["id"]
    else:
        response = body["contents"][-1]["parts"][0]["functionResponse"]
        assert response["name"] == "weather"


THOUGHT = "Check divisors up to four"


@pytest.mark.parametrize("command", ["generate", "stream"])
def test_claude_thinking_comes_back_as_reasoning(
    stack: Stack, gateway: NodeClient, fresh_anthropic: Upstream, command: str
) -> None:
    fresh_anthropic.script(reply="Yes.", thinking=THOUGHT)

    result = ok(
        gateway(
            command,
            model=ANTHROPIC_MODEL,
            prompt="Is 17 prime?",
            providerOptions={"anthropic": {"thinking": {"type": "enabled", "budgetTokens": 2000}}},
        )
    )

    assert result["text"] == "Yes."
    assert result["reasoningText"] == THOUGHT
    [sent] = fresh_anthropic.requests()
    assert sent["body"]["thinking"] == {"type": "enabled", "budget_tokens": 2000}  # type: ignore[index]


def test_signed_thinking_goes_back_with_the_tool_result(
    stack: Stack, gateway: NodeClient, fresh_anthropic: Upstream
) -> None:
    """The reasoning's ``providerMetadata.gateway`` comes back as its ``providerOptions``: Claude
    gets its thinking block, signature intact, before the tool use it answers (the fake rejects
    a missing or forged one, as Anthropic does)."""
    fresh_anthropic.script(
        reply="", thinking=THOUGHT, tool_use={"name": "weather", "input": {"city": "Paris"}}
    )
    fresh_anthropic.script(reply="Sunny in Paris.")

    result = ok(
        gateway(
            "tools-round-trip",
            model=ANTHROPIC_MODEL,
            prompt="Weather in Paris?",
            providerOptions={"anthropic": {"thinking": {"type": "enabled", "budgetTokens": 2000}}},
        )
    )

    assert result["steps"] == 2 and result["text"] == "Sunny in Paris."
    _first, second = fresh_anthropic.requests()
    call = second["body"]["messages"][-2]  # type: ignore[index]
    assert [block["type"] for block in call["content"]] == ["thinking", "tool_use"]
    assert call["content"][0]["thinking"] == THOUGHT and call["content"][0]["signature"]


def test_embed_and_embed_many(stack: Stack, gateway: NodeClient, fresh_upstream: Upstream) -> None:
    one = ok(gateway("embed", model=EMBEDDINGS, value="the quick brown fox"))
    many = ok(gateway("embed-many", model=EMBEDDINGS, values=["first input", "second one"]))

    assert one["embedding"] == pytest.approx(fake_vector("the quick brown fox", 1536))
    assert one["usage"] == {"tokens": 4}
    assert gateway_metadata(one)["routing"]["finalProvider"] == "openai"
    assert many["embeddings"] == [
        pytest.approx(fake_vector("first input", 1536)),
        pytest.approx(fake_vector("second one", 1536)),
    ]
    assert many["usage"] == {"tokens": 4}
    sent = [r["body"] for r in fresh_upstream.requests()]
    assert sent[0]["input"] == "the quick brown fox"  # type: ignore[index]
    assert sent[1]["input"] == ["first input", "second one"]  # type: ignore[index]


def test_embedding_dimensions_from_the_provider_options(
    stack: Stack, gateway: NodeClient, fresh_upstream: Upstream
) -> None:
    result = ok(
        gateway(
            "embed",
            model=EMBEDDINGS,
            value="short vector",
            providerOptions={"openai": {"dimensions": 256}},
        )
    )

    assert result["embedding"] == pytest.approx(fake_vector("short vector", 256))
    [sent] = fresh_upstream.requests()
    assert sent["body"]["dimensions"] == 256  # type: ignore[index]


def test_available_models_list_the_catalog_with_prices(
    stack: Stack, gateway: NodeClient, sdk: str
) -> None:
    result = ok(gateway("models"))

    models = {m["id"]: m for m in result["models"]}
    claude = models[ANTHROPIC_MODEL]
    assert claude["name"] == "Claude (suite tests)"
    assert claude["modelType"] == "language"
    assert claude["specification"] == {
        "specificationVersion": "v2" if sdk == "5" else "v3",
        "provider": "anthropic",
        "modelId": "claude-suite-test",
    }
    assert claude["pricing"] == {
        "input": ANTHROPIC_PRICE["input"],
        "output": ANTHROPIC_PRICE["output"],
        "cachedInputTokens": ANTHROPIC_PRICE["input_cache_read"],
        "cacheCreationInputTokens": ANTHROPIC_PRICE["input_cache_write"],
    }
    assert models[EMBEDDING_MODEL]["modelType"] == "embedding"
    assert OPENAI_MODEL in models


def test_generate_object_asks_for_the_schema(
    stack: Stack, gateway: NodeClient, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply='{"city": "Paris"}')

    result = ok(gateway("object", model=OPENAI_MODEL, prompt="A city?", schema=SCHEMA))

    assert result["object"] == {"city": "Paris"} and result["finishReason"] == "stop"
    [sent] = fresh_upstream.requests()
    response_format = sent["body"]["response_format"]  # type: ignore[index]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == SCHEMA


def test_credits(stack: Stack, gateway: NodeClient) -> None:
    result = ok(gateway("credits"))

    assert Decimal(result["balance"]) >= 0 and Decimal(result["totalUsed"]) >= 0


def test_errors_are_the_clients_own_classes(stack: Stack, gateway: NodeClient) -> None:
    missing = gateway("generate", model="nobody/no-such-model", prompt="hi")["error"]
    assert missing["name"] == "GatewayModelNotFoundError"
    assert missing["statusCode"] == 404 and missing["modelId"] == "nobody/no-such-model"

    invalid = gateway("generate", model=OPENAI_MODEL, prompt="hi", temperature=5)["error"]
    assert invalid["name"] == "GatewayInvalidRequestError" and invalid["statusCode"] == 400
    assert "temperature" in invalid["message"]

    embedding = gateway("embed", model=EMBEDDING_MODEL, value="")["error"]
    assert embedding["name"] == "GatewayInvalidRequestError"


def test_a_wrong_key_is_an_authentication_error(stack: Stack, sdk: str) -> None:
    wrong = node_client("gateway.mjs", "tg_not-a-real-key", {"TOLLGATE_AI_SDK": sdk})(stack)

    generating = wrong("generate", model=OPENAI_MODEL, prompt="hi")["error"]
    listing = wrong("models")["error"]

    # The client writes the message itself (and generateText rewords it again).
    assert generating["name"] == "GatewayAuthenticationError"
    assert listing["name"] == "GatewayAuthenticationError" and listing["statusCode"] == 401
