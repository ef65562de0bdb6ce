"""Tools, tool_choice, response_format and reasoning translated by each chat adapter into its
provider's request fields (OpenAI as is; Anthropic tools / tool_choice / forced answer tool /
thinking; Gemini functionDeclarations / toolConfig / responseJsonSchema / thinkingConfig)."""

from __future__ import annotations

from typing import Any

import pytest
from tollgate_router.domain import (
    FunctionTool,
    GenerationParams,
    Message,
    Reasoning,
    ReasoningDetail,
    ResponseFormat,
    ToolCall,
    ToolChoice,
    ToolOptions,
)
from tollgate_router.providers import (
    ProviderError,
    UpstreamCall,
    anthropic_wire,
    gemini_wire,
    openai_wire,
)

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER = FunctionTool("get_weather", "Current weather in a city", SCHEMA, True)
CLOCK = FunctionTool("get_time")
USER = (Message("user", "Weather in Paris?"),)
ANSWER = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def call(params: GenerationParams, messages: tuple[Message, ...] = USER) -> UpstreamCall:
    return UpstreamCall(
        base_url="http://upstream",
        api_key="k",
        provider_model_id="model-x",
        messages=messages,
        params=params,
        stream=False,
        max_output_tokens=8000,
    )


def tools(choice: ToolChoice | None = None, parallel: bool | None = None) -> GenerationParams:
    return GenerationParams(tools=ToolOptions((WEATHER, CLOCK), choice, parallel))


# -- OpenAI: as is ----------------------------------------------------------------------------


def test_openai_tools_are_sent_as_openai_defines_them() -> None:
    body = openai_wire.request_body(call(tools(ToolChoice("required"), parallel=False)))
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city",
                "parameters": SCHEMA,
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "get_time"}},
    ]
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False


def test_openai_named_tool_choice_and_defaults() -> None:
    body = openai_wire.request_body(call(tools(ToolChoice(function="get_time"))))
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}
    assert "parallel_tool_calls" not in body
    plain = openai_wire.request_body(call(GenerationParams()))
    assert not {"tools", "tool_choice", "response_format", "reasoning_effort"} & set(plain)


@pytest.mark.parametrize(
    ("fmt", "sent"),
    [
        (
            ResponseFormat("json_schema", "answer", "The answer", ANSWER, True),
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "description": "The answer",
                    "schema": ANSWER,
                    "strict": True,
                },
            },
        ),
        (ResponseFormat("json_object"), {"type": "json_object"}),
        (ResponseFormat("text"), {"type": "text"}),
    ],
)
def test_openai_response_format(fmt: ResponseFormat, sent: dict[str, Any]) -> None:
    body = openai_wire.request_body(call(GenerationParams(response_format=fmt)))
    assert body["response_format"] == sent


@pytest.mark.parametrize(
    ("reasoning", "effort"),
    [
        (Reasoning(effort="high"), "high"),
        (Reasoning(enabled=True), "medium"),
        (Reasoning(max_tokens=1000), "low"),
        (Reasoning(max_tokens=8000), "medium"),
        (Reasoning(max_tokens=30000), "high"),
        (Reasoning(enabled=False), None),
        (Reasoning(effort="none"), "none"),
        (Reasoning(effort="xhigh"), "xhigh"),
    ],
)
def test_openai_reasoning_effort(reasoning: Reasoning, effort: str | None) -> None:
    body = openai_wire.request_body(call(GenerationParams(reasoning=reasoning)))
    assert body.get("reasoning_effort") == effort


# -- Anthropic --------------------------------------------------------------------------------


def test_anthropic_tools_use_input_schema() -> None:
    body = anthropic_wire.request_body(call(tools(ToolChoice("required"), parallel=False)))
    assert body["tools"] == [
        {"name": "get_weather", "description": "Current weather in a city", "input_schema": SCHEMA},
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        (ToolChoice("auto"), {"type": "auto"}),
        (ToolChoice("none"), {"type": "none"}),
        (ToolChoice(function="get_time"), {"type": "tool", "name": "get_time"}),
        (None, None),
    ],
)
def test_anthropic_tool_choice(choice: ToolChoice | None, sent: dict[str, Any] | None) -> None:
    body = anthropic_wire.request_body(call(tools(choice)))
    assert body.get("tool_choice") == sent


def test_anthropic_structured_output_is_a_forced_tool() -> None:
    fmt = ResponseFormat("json_schema", "answer", "", ANSWER, True)
    body = anthropic_wire.request_body(call(GenerationParams(response_format=fmt)))
    assert body["tools"] == [
        {"name": "answer", "input_schema": ANSWER, "description": "The final answer."}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}
    any_object = anthropic_wire.request_body(
        call(GenerationParams(response_format=ResponseFormat("json_object")))
    )
    assert any_object["tools"][0]["name"] == "json_response"
    assert any_object["tools"][0]["input_schema"] == {"type": "object", "properties": {}}


def test_anthropic_structured_output_beside_tools_or_thinking_is_asked_for() -> None:
    fmt = ResponseFormat("json_schema", "answer", "", ANSWER)
    body = anthropic_wire.request_body(
        call(GenerationParams(tools=ToolOptions((WEATHER,)), response_format=fmt))
    )
    assert [t["name"] for t in body["tools"]] == ["get_weather", "answer"]
    assert "tool_choice" not in body  # the model may call get_weather first
    assert "'answer' tool" in body["system"][-1]["text"]


def test_anthropic_refuses_a_non_object_schema() -> None:
    fmt = ResponseFormat("json_schema", "list", "", {"type": "array"})
    with pytest.raises(ProviderError) as failure:
        anthropic_wire.request_body(call(GenerationParams(response_format=fmt)))
    assert (failure.value.status, failure.value.param) == (400, "response_format")


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "thinking"),
    [
        (Reasoning(max_tokens=2000), 8000, 2000),
        (Reasoning(effort="low"), 8000, 1600),
        (Reasoning(effort="high"), 8000, 6400),
        (Reasoning(enabled=True), 8000, 4000),
        (Reasoning(effort="minimal"), 8000, 1024),  # Anthropic's minimum budget
    ],
)
def test_anthropic_thinking_budget(reasoning: Reasoning, max_tokens: int, thinking: int) -> None:
    body = anthropic_wire.request_body(
        call(GenerationParams(reasoning=reasoning, temperature=0.2, top_p=0.5))
    )
    assert body["thinking"] == {"type": "enabled", "budget_tokens": thinking}
    assert body["max_tokens"] == max_tokens
    assert "temperature" not in body and "top_p" not in body


def test_anthropic_thinking_budget_beyond_the_limit_raises_the_limit() -> None:
    body = anthropic_wire.request_body(
        call(GenerationParams(max_tokens=500, reasoning=Reasoning(max_tokens=3000)))
    )
    assert body["thinking"]["budget_tokens"] == 3000
    assert body["max_tokens"] == 3500  # the answer keeps its 500


def test_anthropic_raised_limit_stays_within_the_models_max_output() -> None:
    params = GenerationParams(max_tokens=4000, reasoning=Reasoning(max_tokens=6000))
    body = anthropic_wire.request_body(call(params))  # the model's max output is 8000
    assert body["max_tokens"] == 8000 and body["thinking"]["budget_tokens"] == 6000
    params = GenerationParams(max_tokens=4000, reasoning=Reasoning(max_tokens=9000))
    body = anthropic_wire.request_body(call(params))
    assert body["max_tokens"] == 8000 and body["thinking"]["budget_tokens"] == 7999


@pytest.mark.parametrize("choice", [ToolChoice("required"), ToolChoice(function="get_time")])
def test_anthropic_refuses_a_forced_tool_while_thinking(choice: ToolChoice) -> None:
    params = GenerationParams(
        tools=ToolOptions((WEATHER, CLOCK), choice), reasoning=Reasoning(effort="low")
    )
    with pytest.raises(ProviderError) as failure:
        anthropic_wire.request_body(call(params))
    assert (failure.value.status, failure.value.param) == (400, "tool_choice")


@pytest.mark.parametrize("reasoning", [Reasoning(enabled=False), Reasoning(effort="none")])
def test_anthropic_without_reasoning_has_no_thinking(reasoning: Reasoning) -> None:
    body = anthropic_wire.request_body(call(GenerationParams(reasoning=reasoning, temperature=0.2)))
    assert "thinking" not in body and body["temperature"] == 0.2


def test_anthropic_gets_its_signed_thinking_back_before_the_tool_use() -> None:
    messages = (
        *USER,
        Message(
            "assistant",
            None,
            tool_calls=(ToolCall("toolu_1", "get_weather", '{"city":"Paris"}'),),
            reasoning_details=(
                ReasoningDetail("reasoning.text", "Check it.", "sig", "", "anthropic-claude-v1"),
                ReasoningDetail("reasoning.encrypted", data="blob", format="anthropic-claude-v1"),
                ReasoningDetail("reasoning.text", "not Claude's", "s2", "", "google-gemini-v1"),
            ),
        ),
        Message("tool", "sunny", tool_call_id="toolu_1"),
    )
    body = anthropic_wire.request_body(call(GenerationParams(), messages))
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Check it.", "signature": "sig"},
            {"type": "redacted_thinking", "data": "blob"},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}],
    }


# -- Gemini -----------------------------------------------------------------------------------


def test_gemini_tools_are_function_declarations() -> None:
    body = gemini_wire.request_body(call(tools(ToolChoice("required"), parallel=False)))
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather in a city",
                    "parametersJsonSchema": SCHEMA,
                },
                {"name": "get_time"},
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        (ToolChoice("auto"), {"mode": "AUTO"}),
        (ToolChoice("none"), {"mode": "NONE"}),
        (ToolChoice(function="get_time"), {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
    ],
)
def test_gemini_tool_choice(choice: ToolChoice, config: dict[str, Any]) -> None:
    body = gemini_wire.request_body(call(tools(choice)))
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_gemini_structured_output() -> None:
    fmt = ResponseFormat("json_schema", "answer", "", ANSWER, True)
    config = gemini_wire.request_body(call(GenerationParams(response_format=fmt)))[
        "generationConfig"
    ]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": ANSWER}
    config = gemini_wire.request_body(
        call(GenerationParams(response_format=ResponseFormat("json_object")))
    )["generationConfig"]
    assert config == {"responseMimeType": "application/json"}
    assert "generationConfig" not in gemini_wire.request_body(
        call(GenerationParams(response_format=ResponseFormat("text")))
    )


@pytest.mark.parametrize(
    ("reasoning", "thinking"),
    [
        (Reasoning(max_tokens=2000), {"thinkingBudget": 2000, "includeThoughts": True}),
        (Reasoning(effort="low"), {"thinkingBudget": 1024, "includeThoughts": True}),
        (
            Reasoning(effort="high", exclude=True),
            {"thinkingBudget": 24576, "includeThoughts": False},
        ),
        (Reasoning(enabled=False), {"thinkingBudget": 0}),
        (Reasoning(effort="none"), {"thinkingBudget": 0}),
    ],
)
def test_gemini_thinking_config(reasoning: Reasoning, thinking: dict[str, Any]) -> None:
    config = gemini_wire.request_body(call(GenerationParams(reasoning=reasoning)))[
        "generationConfig"
    ]
    assert config["thinkingConfig"] == thinking


def test_gemini_gets_its_thought_signature_back_on_the_first_function_call() -> None:
    messages = (
        *USER,
        Message(
            "assistant",
            None,
            tool_calls=(
                ToolCall("call_1", "get_weather", '{"city":"Paris"}'),
                ToolCall("call_2", "get_weather", '{"city":"Rome"}'),
            ),
            reasoning_details=(
                ReasoningDetail("reasoning.text", "", "claude-sig", "", "anthropic-claude-v1"),
                ReasoningDetail("reasoning.text", "", "gemini-sig", "", "google-gemini-v1"),
            ),
        ),
        Message("tool", "sunny", tool_call_id="call_1"),
        Message("tool", "rainy", tool_call_id="call_2"),
    )
    body = gemini_wire.request_body(call(GenerationParams(), messages))
    first, second = body["contents"][1]["parts"]
    assert first["thoughtSignature"] == "gemini-sig"
    assert "thoughtSignature" not in second


@pytest.mark.parametrize("choice", [ToolChoice("none"), ToolChoice("auto")])
def test_a_tool_choice_without_tools_is_not_sent(choice: ToolChoice) -> None:
    params = GenerationParams(tools=ToolOptions((), choice, False))
    assert "tool_choice" not in openai_wire.request_body(call(params))
    assert "parallel_tool_calls" not in openai_wire.request_body(call(params))
    assert "tool_choice" not in anthropic_wire.request_body(call(params))
    assert "toolConfig" not in gemini_wire.request_body(call(params))
