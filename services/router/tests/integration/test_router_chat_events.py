"""StreamGenerate with tools, response_format and reasoning: the proto fields reach the
provider (fake OpenAI) and tool calls / reasoning come back as ``tool_call_delta`` /
``reasoning_delta`` events, in order, streamed and batched."""

from __future__ import annotations

import orjson
import pytest
from tollgate.router.v1 import router_pb2 as pb

from .support import RouterUnderTest

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}


def request(stream: bool, **kwargs: object) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(team_id="team_1", request_id="req-1"),
        model="openai/gpt-4o-mini",
        messages=[pb.ChatMessage(role="user", text="weather?")],
        stream=stream,
        **kwargs,  # type: ignore[arg-type]
    )


def events(responses: list[pb.StreamGenerateResponse]) -> list[pb.StreamGenerateResponse]:
    flat: list[pb.StreamGenerateResponse] = []
    for response in responses:
        flat.extend(response.batch.events if response.HasField("batch") else [response])
    return flat


@pytest.mark.parametrize("stream", [True, False])
async def test_tool_calls_come_back_as_events(router: RouterUnderTest, stream: bool) -> None:
    # Some OpenAI-compatible APIs finish with "stop" after calling tools.
    router.openai.script(
        tool_calls=[
            {"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris"}},
            {"id": "call_b", "name": "get_weather", "arguments": {"city": "Rome"}},
        ],
        finish_reason="stop",
    )

    responses = events(
        await router.generate(
            request(
                stream,
                tools=[pb.FunctionTool(name="get_weather", parameters_json=orjson.dumps(SCHEMA))],
                tool_choice=pb.ToolChoice(mode="required"),
                parallel_tool_calls=True,
            )
        )
    )

    deltas = [r.tool_call_delta for r in responses if r.HasField("tool_call_delta")]
    assert {(d.index, d.id, d.name) for d in deltas if d.id} == {
        (0, "call_a", "get_weather"),
        (1, "call_b", "get_weather"),
    }
    by_index = {i: "".join(d.arguments for d in deltas if d.index == i) for i in (0, 1)}
    assert {i: orjson.loads(a) for i, a in by_index.items()} == {
        0: {"city": "Paris"},
        1: {"city": "Rome"},
    }
    assert responses[-1].finished.finish_reason == "tool_calls"
    sent = router.openai.requests[-1]["body"]
    assert sent["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}
    ]
    assert (sent["tool_choice"], sent["parallel_tool_calls"]) == ("required", True)


async def test_format_and_reasoning_reach_the_provider(router: RouterUnderTest) -> None:
    router.openai.script(reply="<think>hmm</think>{}")

    responses = events(
        await router.generate(
            request(
                True,
                response_format=pb.ResponseFormat(type="json_object"),
                reasoning=pb.ReasoningOptions(effort="low"),
            )
        )
    )

    kinds = [str(r.WhichOneof("event")) for r in responses]
    assert kinds[0] == "started" and kinds[-2:] == ["usage", "finished"]
    reasoning = [r.reasoning_delta for r in responses if r.HasField("reasoning_delta")]
    assert "".join(r.text for r in reasoning) == "hmm"
    assert {r.format for r in reasoning} == {"unknown"}
    assert "".join(r.text_delta.text for r in responses) == "{}"
    # Reasoning comes before the answer.
    assert kinds.index("reasoning_delta") < kinds.index("text_delta")
    sent = router.openai.requests[-1]["body"]
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["reasoning_effort"] == "low"


async def test_a_call_without_an_id_gets_one(router: RouterUnderTest) -> None:
    router.openai.script(tool_calls=[{"id": "", "name": "get_weather", "arguments": {}}])

    responses = events(
        await router.generate(request(True, tools=[pb.FunctionTool(name="get_weather")]))
    )

    deltas = [r.tool_call_delta for r in responses if r.HasField("tool_call_delta")]
    assert deltas[0].id.startswith("call_") and deltas[0].name == "get_weather"
    assert all(not d.id for d in deltas[1:])
