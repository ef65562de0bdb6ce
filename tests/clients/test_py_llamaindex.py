"""LlamaIndex's Vercel AI Gateway LLM (``llama-index-llms-vercel-ai-gateway``) pointed at Tollgate
by its ``api_base`` and ``api_key`` (nothing else): chat, complete, streaming (sync and async),
and a tool call with its follow-up turn. The package has no embedding model."""

from __future__ import annotations

from typing import Any

from tests.support.py_clients import (
    CHAT_MODEL,
    QUESTION,
    Gateway,
    activity_row,
    call_arguments,
    gateway,
    sent,
    tool_results,
)
from tests.support.upstreams import Upstream

__all__ = ["gateway"]


def llm(gateway: Gateway) -> Any:
    from llama_index.llms.vercel_ai_gateway import VercelAIGateway

    return VercelAIGateway(
        model=CHAT_MODEL, api_base=gateway.base_url, api_key=gateway.api_key, max_retries=0
    )


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}, 24 °C"


def test_chat_and_complete_answer_with_the_providers_reply(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from llama_index.core.llms import ChatMessage

    model = llm(gateway)
    chatted = model.chat([ChatMessage(role="user", content="Hello from LlamaIndex")])
    completed = model.complete("Complete this")

    assert chatted.message.content == "Echo: Hello from LlamaIndex"
    assert completed.text == "Echo: Complete this"
    first, _ = sent(fresh_upstream, "/chat/completions")
    assert first["model"] == "gpt-4o"
    assert first["messages"] == [{"role": "user", "content": "Hello from LlamaIndex"}]
    # The integration's attribution headers (x-title, http-referer) name the app in activity.
    recorded = activity_row(gateway, chatted.raw.id)
    assert recorded["appTitle"] == "LlamaIndex"
    assert recorded["appReferer"] == "https://www.llamaindex.ai/"
    assert recorded["model"] == CHAT_MODEL and recorded["inputTokens"] == 3


def test_stream_chat_yields_the_reply_piece_by_piece(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    from llama_index.core.llms import ChatMessage

    chunks = list(llm(gateway).stream_chat([ChatMessage(role="user", content="one two three")]))

    assert "".join(c.delta or "" for c in chunks) == "Echo: one two three"
    assert chunks[-1].message.content == "Echo: one two three"
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["stream"] is True


async def test_async_stream_complete(gateway: Gateway, fresh_upstream: Upstream) -> None:
    pieces = [c.delta or "" async for c in await llm(gateway).astream_complete("four five")]

    assert "".join(pieces) == "Echo: four five"


def test_tool_call_and_the_follow_up_turn(gateway: Gateway, fresh_upstream: Upstream) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.core.tools import FunctionTool

    fresh_upstream.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    fresh_upstream.script(reply="It is sunny in Paris.")
    model, tool = llm(gateway), FunctionTool.from_defaults(fn=get_weather)

    asked = model.chat_with_tools([tool], user_msg=QUESTION)
    [selection] = model.get_tool_calls_from_response(asked, error_on_no_tool_call=True)

    assert selection.tool_name == "get_weather" and selection.tool_kwargs == {"city": "Paris"}
    result = tool.call(**selection.tool_kwargs)
    answer = model.chat(
        [
            ChatMessage(role="user", content=QUESTION),
            asked.message,
            ChatMessage(
                role="tool",
                content=str(result),
                additional_kwargs={"tool_call_id": selection.tool_id, "name": "get_weather"},
            ),
        ]
    )

    assert answer.message.content == "It is sunny in Paris."
    first, follow_up = sent(fresh_upstream, "/chat/completions")
    [declared] = first["tools"]
    assert declared["function"]["name"] == "get_weather"
    assert declared["function"]["parameters"]["properties"]["city"]["type"] == "string"
    assert call_arguments(follow_up) == [("get_weather", {"city": "Paris"})]
    assert tool_results(follow_up) == [(selection.tool_id, "sunny in Paris, 24 °C")]


def test_structured_prediction_through_function_calling(
    gateway: Gateway, fresh_upstream: Upstream
) -> None:
    """``is_function_calling_model=True`` (an OpenAILike setting, whatever the endpoint) lets
    LlamaIndex's programs and agents call tools; without it ``structured_predict`` sends a
    ``tool_choice`` without ``tools``, which OpenAI and Tollgate refuse alike."""
    from llama_index.core.prompts import PromptTemplate
    from llama_index.llms.vercel_ai_gateway import VercelAIGateway
    from pydantic import BaseModel

    class Capital(BaseModel):
        city: str

    fresh_upstream.script(tool_calls=[{"name": "Capital", "arguments": {"city": "Paris"}}])
    model = VercelAIGateway(
        model=CHAT_MODEL,
        api_base=gateway.base_url,
        api_key=gateway.api_key,
        max_retries=0,
        is_function_calling_model=True,
    )

    capital = model.structured_predict(
        Capital, PromptTemplate("The capital of {country}?"), country="France"
    )

    assert capital == Capital(city="Paris")
    [body] = sent(fresh_upstream, "/chat/completions")
    assert [t["function"]["name"] for t in body["tools"]] == ["Capital"]
