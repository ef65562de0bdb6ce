"""langchain-openai pointed at Tollgate (``base_url`` and ``api_key``, nothing else): ``ChatOpenAI``
invoke, stream and ``bind_tools`` (whole and streamed calls, the tool result's follow-up turn),
and ``OpenAIEmbeddings`` as configured by default, which tokenizes with tiktoken and sends token
arrays."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.embedding_vectors import fake_vector
from tests.support.catalog import EMBEDDING_MODEL as SUITE_EMBEDDING_MODEL
from tests.support.py_clients import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    QUESTION,
    WEATHER_TOOL,
    Gateway,
    bundled_tiktoken_cache,
    call_arguments,
    gateway,
    sent,
    tool_results,
)
from tests.support.upstreams import Upstream

__all__ = ["gateway"]


def chat_model(gateway: Gateway) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=CHAT_MODEL, base_url=gateway.base_url, api_key=gateway.api_key, max_retries=0
    )


def test_invoke_answers_with_the_providers_reply(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    answer = chat_model(gateway).invoke("Hello from LangChain")

    assert answer.content == "Echo: Hello from LangChain"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == 3
    assert answer.usage_metadata["output_tokens"] == 4
    assert answer.response_metadata["finish_reason"] == "stop"
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o"
    assert body["messages"] == [{"role": "user", "content": "Hello from LangChain"}]


def test_stream_yields_the_reply_piece_by_piece(gateway: Gateway, fresh_upstream: Upstream) -> None:
    chunks = list(chat_model(gateway).stream("count one two three", stream_usage=True))

    assert "".join(str(c.content) for c in chunks) == "Echo: count one two three"
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk
    assert whole.response_metadata["finish_reason"] == "stop"
    # stream_usage asks for the usage chunk (stream_options.include_usage).
    assert whole.usage_metadata is not None
    assert whole.usage_metadata["input_tokens"] == 4
    assert whole.usage_metadata["output_tokens"] == 5
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["stream"] is True


async def test_async_invoke_and_stream(gateway: Gateway, fresh_upstream: Upstream) -> None:
    llm = chat_model(gateway)

    answer = await llm.ainvoke("async hello")
    pieces = [str(chunk.content) async for chunk in llm.astream("async stream")]

    assert answer.content == "Echo: async hello"
    assert "".join(pieces) == "Echo: async stream"


def test_structured_output_parses_the_json_the_model_wrote(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str
        temperature_c: int

    fresh_upstream.script(reply='{"city":"Paris","temperature_c":24}')

    weather = chat_model(gateway).with_structured_output(Weather).invoke(QUESTION)

    assert weather == Weather(city="Paris", temperature_c=24)
    [body] = sent(fresh_upstream, "/chat/completions")
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Weather"
    assert response_format["json_schema"]["schema"]["required"] == ["city", "temperature_c"]


def test_bound_tool_is_called_and_its_result_answered(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from langchain_core.messages import HumanMessage, ToolMessage

    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    fresh_upstream.script(reply="It is sunny in Paris.")
    llm = chat_model(gateway).bind_tools([{"type": "function", "function": WEATHER_TOOL}])

    question = HumanMessage(QUESTION)
    asked = llm.invoke([question])

    assert asked.content == ""
    [call] = asked.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}
    assert call["id"]
    answer = llm.invoke([question, asked, ToolMessage("sunny, 24 °C", tool_call_id=call["id"])])

    assert answer.content == "It is sunny in Paris."
    first, follow_up = sent(fresh_upstream, "/chat/completions")
    assert first["tools"] == [{"type": "function", "function": WEATHER_TOOL}]
    assert call_arguments(follow_up) == [("get_weather", {"city": "Paris"})]
    assert tool_results(follow_up) == [(call["id"], "sunny, 24 °C")]


def test_streamed_tool_calls_accumulate(gateway: Gateway, fresh_upstream: Upstream) -> None:
    fresh_upstream.script(
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": {"city": "Rome"}},
        ]
    )
    llm = chat_model(gateway).bind_tools([{"type": "function", "function": WEATHER_TOOL}])

    chunks = list(llm.stream(QUESTION))
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk

    assert [(c["name"], c["args"]) for c in whole.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert len({c["id"] for c in whole.tool_calls}) == 2


def test_gateway_routing_options_go_in_extra_body(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    import openai
    from langchain_openai import ChatOpenAI

    def routed(only: list[str]) -> Any:
        return ChatOpenAI(
            model=CHAT_MODEL,
            base_url=gateway.base_url,
            api_key=gateway.api_key,
            max_retries=0,
            extra_body={"providerOptions": {"gateway": {"only": only}}},
        )

    with pytest.raises(openai.BadRequestError, match="only"):
        routed(["anthropic"]).invoke("Hello")
    assert routed(["openai"]).invoke("Hello").content == "Echo: Hello"
    assert len(sent(fresh_upstream, "/chat/completions")) == 1


def test_default_embeddings_send_token_arrays_and_get_the_providers_vectors(
    gateway: Gateway, fresh_upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(bundled_tiktoken_cache()))
    import tiktoken
    from langchain_openai import OpenAIEmbeddings

    embeddings = OpenAIEmbeddings(
        model=EMBEDDING_MODEL, base_url=gateway.base_url, api_key=gateway.api_key, max_retries=0
    )
    texts = ["the quick brown fox", "jumps over the lazy dog"]

    vectors = embeddings.embed_documents(texts)
    query = embeddings.embed_query("lazy dog")

    encoding = tiktoken.get_encoding("cl100k_base")
    tokens = [encoding.encode_ordinary(t) for t in texts]
    # LangChain averages each text's chunks and normalizes: one chunk comes back as it was.
    assert vectors == [pytest.approx(fake_vector(t, 1536), abs=1e-6) for t in tokens]
    assert query == pytest.approx(fake_vector(encoding.encode_ordinary("lazy dog"), 1536), abs=1e-6)
    documents, asked = sent(fresh_upstream, "/embeddings")
    assert documents["input"] == tokens and documents["model"] == "text-embedding-3-small"
    assert asked["input"] == [encoding.encode_ordinary("lazy dog")]


def test_token_array_embeddings_skip_a_provider_that_embeds_text_only(
    gateway: Gateway,
    fresh_upstream: Upstream,
    fresh_gemini: Upstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The suite's embedding model is served by the OpenAI fake and the Gemini fake; the Gemini
    API takes text only, so LangChain's token arrays go to OpenAI even when Gemini ranks first
    (Tollgate's routing options reach it through ``model_kwargs``' ``extra_body``)."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(bundled_tiktoken_cache()))
    from langchain_openai import OpenAIEmbeddings

    google_first = {"providerOptions": {"gateway": {"order": ["google", "openai"]}}}
    embeddings = OpenAIEmbeddings(
        model=SUITE_EMBEDDING_MODEL,
        base_url=gateway.base_url,
        api_key=gateway.api_key,
        max_retries=0,
        model_kwargs={"extra_body": google_first},
    )

    [vector] = embeddings.embed_documents(["the quick brown fox"])

    [body] = sent(fresh_upstream, "/embeddings")
    [tokens] = body["input"]
    assert vector == pytest.approx(fake_vector(tokens, 1536), abs=1e-6)
    assert fresh_gemini.requests() == []


def test_a_text_only_model_takes_text_when_langchain_is_told_to_send_it(
    gateway: Gateway, fresh_gemini: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model only Gemini serves cannot embed token ids (they are another tokenizer's): the
    default is a clear 400, and ``check_embedding_ctx_length=False`` sends the text."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(bundled_tiktoken_cache()))
    import openai
    from langchain_openai import OpenAIEmbeddings

    def embeddings(**options: Any) -> Any:
        return OpenAIEmbeddings(
            model="google/gemini-embedding-001",
            base_url=gateway.base_url,
            api_key=gateway.api_key,
            max_retries=0,
            **options,
        )

    with pytest.raises(openai.BadRequestError, match="token arrays") as refused:
        embeddings().embed_query("lazy dog")
    vector = embeddings(check_embedding_ctx_length=False).embed_query("lazy dog")

    assert refused.value.status_code == 400
    assert vector == pytest.approx(fake_vector("lazy dog", len(vector)), abs=1e-6)
    [request] = fresh_gemini.requests()
    assert str(request["path"]).endswith(":batchEmbedContents")
