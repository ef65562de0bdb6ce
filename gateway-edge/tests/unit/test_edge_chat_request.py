"""Validation and conversion of chat completion requests (no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.chat_request import parse_chat_request
from tollgate_edge.errors import ApiError

CALLER = router_pb2.CallerContext(team_id="team_1", request_id="req")
USER = [{"role": "user", "content": "hi"}]


def parse(**body: Any) -> Any:
    return parse_chat_request(json.dumps(body).encode(), CALLER)


def rejected(**body: Any) -> ApiError:
    with pytest.raises(ApiError) as failure:
        parse(**body)
    assert failure.value.status == 400
    assert failure.value.type == "invalid_request_error"
    return failure.value


def test_a_minimal_request() -> None:
    chat = parse(model="openai/gpt-4o", messages=USER)
    assert chat.stream is False and chat.include_usage is False
    assert chat.rpc.caller.team_id == "team_1"
    assert chat.rpc.messages[0].text == "hi"
    assert not chat.rpc.params.HasField("temperature")
    assert not chat.rpc.params.HasField("max_tokens")


def test_nulls_mean_unset() -> None:
    chat = parse(
        model="m", messages=USER, temperature=None, stop=None, stream=None, stream_options=None
    )
    assert not chat.rpc.params.HasField("temperature") and list(chat.rpc.params.stop) == []


def test_stream_options() -> None:
    chat = parse(model="m", messages=USER, stream=True, stream_options={"include_usage": True})
    assert chat.stream and chat.include_usage and chat.rpc.stream
    assert rejected(model="m", messages=USER, stream="yes").param == "stream"
    assert rejected(model="m", messages=USER, stream_options=[]).param == "stream_options"
    failure = rejected(model="m", messages=USER, stream_options={"include_usage": 1})
    assert failure.param == "stream_options.include_usage"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("temperature", "hot"),
        ("temperature", True),
        ("temperature", 2.5),
        ("top_p", -0.1),
        ("frequency_penalty", 3),
        ("presence_penalty", [1]),
        ("max_tokens", 1.5),
        ("max_tokens", 0),
        ("max_tokens", True),
        ("max_completion_tokens", "10"),
        ("seed", 2**63),
        ("stop", 5),
        ("stop", ["a", 1]),
        ("user", 3),
        ("n", 2),
        ("tools", {"type": "function"}),
        ("functions", [{"name": "f"}]),
        ("parallel_tool_calls", "yes"),
        ("tool_choice", "any"),
        ("response_format", "json"),
        ("reasoning", True),
        ("stop", ["a", "b", "c", "d", "e"]),
    ],
)
def test_bad_params_name_themselves(key: str, value: Any) -> None:
    assert rejected(model="m", messages=USER, **{key: value}).param == key


def test_params_are_converted() -> None:
    params = parse(
        model="m",
        messages=USER,
        temperature=1,
        max_completion_tokens=64,
        frequency_penalty=-0.5,
        presence_penalty=0.25,
        stop=["a", "b"],
        seed=-3,
        n=1,
        tools=[],
    ).rpc.params
    assert params.temperature == 1.0 and params.max_completion_tokens == 64
    assert (params.frequency_penalty, params.presence_penalty) == (-0.5, 0.25)
    assert list(params.stop) == ["a", "b"] and params.seed == -3


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "tool", "content": "x"}],  # no tool_call_id
        [{"role": "assistant", "content": None}],  # neither content nor tool calls
        [{"role": "user", "content": []}],
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
        [{"role": "user", "content": [{"type": "text"}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"detail": "low"}}]}],
        [{"role": "user", "content": [{"type": "file", "file": {"filename": "a.pdf"}}]}],
        [{"role": "user", "content": "x", "tool_calls": []}],
        [{"role": "assistant", "tool_calls": [{"id": "c", "function": "f"}]}],
        [{"role": "user", "content": "x", "name": 3}],
        ["hello"],
    ],
)
def test_bad_messages_are_400_on_messages(messages: list[Any]) -> None:
    # Content parts name their field (`messages[0].content[0].image_url.url`).
    assert (rejected(model="m", messages=messages).param or "").startswith("messages")


def test_both_file_forms() -> None:
    chat = parse(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "file",
                        "file": {
                            "data": "JVBE",
                            "media_type": "application/pdf",
                            "filename": "v.pdf",
                        },
                    },
                    {
                        "type": "file",
                        "file": {"file_data": "data:image/png;base64,iVBO", "filename": "o.png"},
                    },
                    {"type": "image_url", "image_url": "https://x.test/i.png"},
                ],
            }
        ],
    )
    vercel, openai_form, image = chat.rpc.messages[0].parts.parts
    assert (vercel.file.data, vercel.file.media_type, vercel.file.filename) == (
        "JVBE",
        "application/pdf",
        "v.pdf",
    )
    assert openai_form.file.media_type == "image/png"
    assert openai_form.file.data == "data:image/png;base64,iVBO"
    assert image.image_url.url == "https://x.test/i.png" and image.image_url.detail == ""


def test_routing_options() -> None:
    chat = parse(
        model="m",
        messages=USER,
        providerOptions={"gateway": {"order": ["a"], "models": ["x/1"]}, "openai": {}},
        models=["x/1", "y/2"],
    )
    assert list(chat.rpc.routing.order) == ["a"] and list(chat.rpc.routing.only) == []
    assert list(chat.rpc.routing.models) == ["x/1", "y/2"]
    assert rejected(model="m", messages=USER, models="x/1").param == "models"
    bad = rejected(model="m", messages=USER, providerOptions={"gateway": {"only": [1]}})
    assert bad.param == "providerOptions.gateway.only"
    assert rejected(model="m", messages=USER, providerOptions=[]).param == "providerOptions"


def test_the_end_user_and_tags_are_attributed_and_checked() -> None:
    gateway = {"user": "alice", "tags": ["beta", "search", "beta"]}
    routing = parse(model="m", messages=USER, providerOptions={"gateway": gateway}).rpc.routing
    assert (routing.user, list(routing.tags)) == ("alice", ["beta", "search"])
    for value, param in (
        ({"user": 7}, "user"),
        ({"user": "x" * 201}, "user"),
        ({"tags": "beta"}, "tags"),
        ({"tags": ["ok", 3]}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
    ):
        bad = rejected(model="m", messages=USER, providerOptions={"gateway": value})
        assert bad.param == f"providerOptions.gateway.{param}", value


def gateway(**options: Any) -> router_pb2.RoutingOptions:
    return parse(model="m", messages=USER, providerOptions={"gateway": options}).rpc.routing


def test_the_vercel_routing_options_are_carried() -> None:
    routing = gateway(
        sort="ttft",
        has=["reasoning", "!vision"],
        zeroDataRetention=True,
        disallowPromptTraining=True,
        providerTimeouts={"byok": {"openai": 1500}, "system": {"groq": 3000}},
    )

    assert routing.sort == "ttft"
    assert list(routing.has) == ["reasoning", "!vision"]
    assert routing.zero_data_retention and routing.disallow_prompt_training
    assert dict(routing.byok_timeouts_ms) == {"openai": 1500}
    assert dict(routing.system_timeouts_ms) == {"groq": 3000}
    assert gateway(has="vision").has == ["vision"]


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"sort": "price"}, "providerOptions.gateway.sort"),
        ({"has": ["telepathy"]}, "providerOptions.gateway.has"),
        ({"has": [3]}, "providerOptions.gateway.has"),
        ({"zeroDataRetention": "yes"}, "providerOptions.gateway.zeroDataRetention"),
        ({"disallowPromptTraining": 1}, "providerOptions.gateway.disallowPromptTraining"),
        ({"providerTimeouts": {"openai": 100}}, "providerOptions.gateway.providerTimeouts"),
        ({"providerTimeouts": {"byok": []}}, "providerOptions.gateway.providerTimeouts.byok"),
        (
            {"providerTimeouts": {"system": {"openai": 0}}},
            "providerOptions.gateway.providerTimeouts.system",
        ),
        (
            {"providerTimeouts": {"byok": {"openai": "5s"}}},
            "providerOptions.gateway.providerTimeouts.byok",
        ),
    ],
)
def test_bad_vercel_routing_options_name_themselves(options: dict[str, Any], param: str) -> None:
    error = rejected(model="m", messages=USER, providerOptions={"gateway": options})
    assert error.param == param


def test_the_openai_user_field_attributes_the_spend_unless_gateway_user_is_set() -> None:
    alone = parse(model="m", messages=USER, user="alice")
    both = parse(
        model="m", messages=USER, user="alice", providerOptions={"gateway": {"user": "bob"}}
    )

    assert alone.rpc.routing.user == "alice" and alone.rpc.params.user == "alice"
    assert both.rpc.routing.user == "bob"
    assert parse(model="m", messages=USER, user="x" * 500).rpc.routing.user == "x" * 200
