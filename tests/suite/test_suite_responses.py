"""The OpenAI Responses API (``/v1/responses``) through the whole suite (Envoy → edge → router
→ fake provider) with the official ``openai`` SDK, on an OpenAI, an Anthropic and a Gemini
model: answers, streams with OpenAI's semantic events in order, a function-call round trip,
``previous_response_id`` (Claude's signed thinking carried back intact), retrieve and delete
scoped to the team, and every response billed and in the request log as a chat completion is.
Options, limits, errors and rights: ``test_suite_responses_options.py``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openai
import pytest
from openai.types.responses import ResponseInputParam
from tollgate_cli.stack import Stack

from tests.support.admin import AdminSuite, Secrets, new_tenant
from tests.support.api import client, generation
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.polling import eventually
from tests.support.py_clients import Gateway, activity_row
from tests.support.upstreams import Upstream

OPENAI_MODEL = "openai/gpt-4o-mini"
QUESTION = "What is the weather in Paris?"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@dataclass(frozen=True)
class Provider:
    name: str
    model: str
    fixture: str

    def script_call(self, upstream: Upstream, name: str, arguments: dict[str, Any]) -> None:
        """The fake answers by calling ``name``, in its own wire format."""
        if self.name == "openai":
            upstream.script(tool_calls=[{"name": name, "arguments": arguments}])
        elif self.name == "anthropic":
            upstream.script(reply="", tool_use=[{"name": name, "input": arguments}])
        else:
            upstream.script(reply="", function_call=[{"name": name, "args": arguments}])


PROVIDERS = [
    Provider("openai", OPENAI_MODEL, "fresh_upstream"),
    Provider("anthropic", ANTHROPIC_MODEL, "fresh_anthropic"),
    Provider("google", GEMINI_MODEL, "fresh_gemini"),
]


@pytest.fixture(params=PROVIDERS, ids=[p.name for p in PROVIDERS])
def provider(request: pytest.FixtureRequest) -> tuple[Provider, Upstream]:
    chosen: Provider = request.param
    return chosen, request.getfixturevalue(chosen.fixture)


def generation_of(response_id: str) -> str:
    assert response_id.startswith("resp_")
    return "gen_" + response_id.removeprefix("resp_")


def billed(stack: Stack, response_id: str) -> dict[str, Any]:
    record: dict[str, Any] = eventually(lambda: generation(stack, generation_of(response_id)))
    return record


def logged(stack: Stack, response_id: str) -> dict[str, Any]:
    return activity_row(Gateway(stack.base_url, stack.bootstrap_key()), generation_of(response_id))


def sent_text(upstream: Upstream, index: int = -1) -> str:
    return json.dumps(upstream.requests()[index]["body"])


# -- answers ----------------------------------------------------------------------------------


def test_a_response_on_every_model_is_answered_stored_billed_and_logged(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    upstream.script(reply="It is sunny.")
    api = client(stack)

    response = api.responses.create(
        model=chosen.model,
        input=QUESTION,
        instructions="Be brief.",
        metadata={"ticket": "42"},
        temperature=0.5,
    )

    assert response.object == "response" and response.status == "completed"
    assert response.model == chosen.model
    assert response.output_text == "It is sunny."
    [message] = response.output
    assert message.type == "message" and message.role == "assistant"
    assert message.status == "completed"
    assert response.metadata == {"ticket": "42"} and response.store is True
    assert response.instructions == "Be brief." and response.temperature == 0.5
    usage = response.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    sent = sent_text(upstream)
    assert "Be brief." in sent and QUESTION in sent
    # One generation, billed and logged as a chat completion is, under the response's id.
    record = billed(stack, response.id)
    assert record["provider_name"] == chosen.name
    assert Decimal(str(record["total_cost"])) > 0
    row = logged(stack, response.id)
    assert (row["model"], row["status"], row["streamed"]) == (chosen.model, "success", False)
    assert row["surface"] == "responses"
    assert row["inputTokens"] == record["native_tokens_prompt"] == usage.input_tokens
    # Stored: retrievable as it was answered.
    again = api.responses.retrieve(response.id)
    assert again.model_dump() == response.model_dump()


def test_a_stream_on_every_model_has_openais_events_in_order(
    stack: Stack, provider: tuple[Provider, Upstream]
) -> None:
    chosen, upstream = provider
    upstream.script(reply="It is sunny.")
    api = client(stack)

    events = list(api.responses.create(model=chosen.model, input=QUESTION, stream=True))

    kinds = [e.type for e in events]
    assert kinds[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert set(kinds[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "It is sunny."
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "It is sunny."
    assert completed.response.usage is not None and completed.response.usage.output_tokens > 0
    created = events[0]
    assert created.type == "response.created" and created.response.status == "in_progress"
    assert created.response.id == completed.response.id

    upstream.reset()
    upstream.script(reply="Rain later.")
    with api.responses.stream(model=chosen.model, input=QUESTION) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Rain later."
    assert billed(stack, final.id)["provider_name"] == chosen.name
    assert logged(stack, final.id)["streamed"] is True
    assert api.responses.retrieve(final.id).output_text == "Rain later."


# -- tools ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_a_function_call_round_trip_on_every_model(
    stack: Stack, provider: tuple[Provider, Upstream], stream: bool
) -> None:
    chosen, upstream = provider
    chosen.script_call(upstream, "get_weather", {"city": "Paris"})
    api = client(stack)
    ask: dict[str, Any] = {"model": chosen.model, "tools": [WEATHER]}

    if stream:
        with api.responses.stream(input=QUESTION, tool_choice="required", **ask) as events:
            kinds = [e.type for e in events]
            first = events.get_final_response()
        assert "response.function_call_arguments.delta" in kinds
        assert "response.function_call_arguments.done" in kinds
    else:
        first = api.responses.create(input=QUESTION, tool_choice="required", **ask)

    calls = [item for item in first.output if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    call = calls[0]
    assert call.call_id and call.status == "completed"
    upstream.script(reply="It is sunny in Paris.")

    # The next turn names the first response and sends only the function's output.
    follow_up = api.responses.create(
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24 C"}],
        **ask,
    )

    assert follow_up.output_text == "It is sunny in Paris."
    assert follow_up.previous_response_id == first.id
    # The provider got the question, the call and its result in its own shape (its fake
    # rejects what the real API rejects, e.g. a result without its call).
    sent = sent_text(upstream)
    assert "sunny, 24 C" in sent and QUESTION in sent and "get_weather" in sent
    if chosen.name == "google":  # Gemini's thought signature went back on its call
        assert "thoughtSignature" in sent

    # Stateless: the whole conversation sent back as items works as well (store: false).
    upstream.script(reply="Still sunny.")
    items: ResponseInputParam = [
        {"role": "user", "content": QUESTION},
        *[item.model_dump(exclude_none=True) for item in first.output],  # type: ignore[misc]
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24 C"},
    ]
    stateless = api.responses.create(input=items, store=False, **ask)
    assert stateless.output_text == "Still sunny."
    with pytest.raises(openai.NotFoundError):
        api.responses.retrieve(stateless.id)


# -- conversation state -----------------------------------------------------------------------


def test_previous_response_id_prepends_the_stored_conversation(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    api = client(stack)
    fresh_anthropic.script(reply="Paris is sunny.")
    first = api.responses.create(
        model=ANTHROPIC_MODEL, input=QUESTION, instructions="Answer like a pirate."
    )
    fresh_anthropic.script(reply="Lyon is cloudy.")
    second = api.responses.create(
        model=ANTHROPIC_MODEL, previous_response_id=first.id, input="And in Lyon?"
    )
    fresh_anthropic.script(reply="Both are in France.")

    third = api.responses.create(
        model=ANTHROPIC_MODEL, previous_response_id=second.id, input="Where are they?"
    )

    assert third.output_text == "Both are in France."
    body: Any = fresh_anthropic.requests()[-1]["body"]
    said = [(m["role"], json.dumps(m["content"])) for m in body["messages"]]
    assert [role for role, _ in said] == ["user", "assistant", "user", "assistant", "user"]
    for (_, content), text in zip(
        said,
        [QUESTION, "Paris is sunny.", "And in Lyon?", "Lyon is cloudy.", "Where are they?"],
        strict=True,
    ):
        assert text in content
    # Instructions are not carried over from a previous response, as on OpenAI.
    assert "pirate" not in json.dumps(body)


def test_responses_are_retrieved_and_deleted_by_their_own_team_only(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="Kept.")
    api = client(stack)
    kept = api.responses.create(model=OPENAI_MODEL, input="Keep this")
    stranger = new_tenant(AdminSuite(stack, "sqlite", Secrets()), "stranger")
    other = client(stack, key=stranger.owner.key)

    with pytest.raises(openai.NotFoundError) as hidden:
        other.responses.retrieve(kept.id)
    assert hidden.value.status_code == 404
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError) as unknown:
        other.responses.create(model=OPENAI_MODEL, input="Go on", previous_response_id=kept.id)
    assert unknown.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert len(fresh_upstream.requests()) == 1

    assert api.responses.retrieve(kept.id).output_text == "Kept."  # the owner still has it
    api.responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError):
        api.responses.retrieve(kept.id)
    with pytest.raises(openai.NotFoundError):
        api.responses.delete(kept.id)

    fresh_upstream.script(reply="Not kept.")
    unstored = api.responses.create(model=OPENAI_MODEL, input="Forget this", store=False)
    assert unstored.store is False and unstored.output_text == "Not kept."
    with pytest.raises(openai.NotFoundError):
        api.responses.retrieve(unstored.id)


def test_claudes_signed_thinking_goes_back_intact_through_previous_response_id(
    stack: Stack, fresh_anthropic: Upstream
) -> None:
    """Thinking with tools: the next turn starts with Claude's own signed thinking, which the
    stored conversation carries as a reasoning item (the fake refuses a signature it never
    made)."""
    fresh_anthropic.script(
        reply="",
        thinking="Paris is in France",
        tool_use={"name": "get_weather", "input": {"city": "Paris"}},
    )
    api = client(stack)
    ask: dict[str, Any] = {
        "model": ANTHROPIC_MODEL,
        "tools": [WEATHER],
        "reasoning": {"effort": "medium"},
        "max_output_tokens": 8000,
    }
    first = api.responses.create(input=QUESTION, **ask)

    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    reasoning, call = first.output
    assert reasoning.type == "reasoning" and call.type == "function_call"
    assert [s.text for s in reasoning.summary] == ["Paris is in France"]
    assert reasoning.encrypted_content  # Claude's signature, as Claude made it
    fresh_anthropic.script(reply="Sunny.")

    follow_up = api.responses.create(
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        **ask,
    )

    assert follow_up.output_text == "Sunny."
    turn: Any = fresh_anthropic.requests()[-1]["body"]["messages"][1]  # type: ignore[index]
    assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
    assert turn["content"][0]["signature"] == reasoning.encrypted_content
