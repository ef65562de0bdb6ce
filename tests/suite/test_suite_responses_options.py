"""The OpenAI Responses API (``/v1/responses``) through the whole suite with the official
``openai`` SDK, beyond the answers themselves (``test_suite_responses.py``): structured output
and sampling options reaching the provider, the output limit, reasoning summaries, failures
mid-stream, OpenAI's error envelope, idempotent retries and a viewer's rights."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.admin import AdminSuite, Secrets, new_tenant
from tests.support.api import client, generation
from tests.support.catalog import GEMINI_MODEL
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

OPENAI_MODEL = "openai/gpt-4o-mini"
QUESTION = "What is the weather in Paris?"


# -- options ----------------------------------------------------------------------------------


def test_structured_output_and_sampling_reach_the_provider(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply='{"city": "Paris"}')
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }

    response = client(stack).responses.create(
        model=OPENAI_MODEL,
        input=QUESTION,
        text={"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}},
        max_output_tokens=100,
        top_p=0.9,
        reasoning={"effort": "low", "summary": "auto"},
    )

    assert json.loads(response.output_text) == {"city": "Paris"}
    body: Any = fresh_upstream.requests()[0]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert body["top_p"] == 0.9 and body["reasoning_effort"] == "low"
    assert response.text.format.type == "json_schema"  # type: ignore[union-attr]


def test_the_output_limit_makes_an_incomplete_response(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="one two three four five six", finish_reason="length")
    api = client(stack)

    response = api.responses.create(model=OPENAI_MODEL, input=QUESTION, max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"

    fresh_upstream.script(reply="one two three four five six", finish_reason="length")
    events = list(
        api.responses.create(model=OPENAI_MODEL, input=QUESTION, max_output_tokens=16, stream=True)
    )
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"  # type: ignore[union-attr]


def test_reasoning_comes_back_as_a_summary(stack: Stack, fresh_gemini: Upstream) -> None:
    fresh_gemini.script(reply="Sunny.", thoughts="Paris is in France")
    api = client(stack)

    with api.responses.stream(
        model=GEMINI_MODEL, input=QUESTION, reasoning={"effort": "medium", "summary": "auto"}
    ) as stream:
        kinds = [e.type for e in stream]
        response = stream.get_final_response()

    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning"
    assert [s.text for s in reasoning.summary] == ["Paris is in France"]
    assert response.output_text == "Sunny."
    for kind in (
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ):
        assert kind in kinds
    assert kinds.index("response.reasoning_summary_text.done") < kinds.index(
        "response.output_text.delta"
    )


# -- failures ---------------------------------------------------------------------------------


def test_a_provider_failing_mid_stream_ends_it_with_response_failed(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="one two three four five", break_after_chunks=2)

    events = list(client(stack).responses.create(model=OPENAI_MODEL, input=QUESTION, stream=True))

    assert events[0].type == "response.created"
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.status == "failed"
    assert failed.response.error is not None and failed.response.error.message
    assert [e.sequence_number for e in events] == list(range(len(events)))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": QUESTION, "temperature": 3}, "temperature"),
        ({"input": []}, "input"),
        ({"input": QUESTION, "max_output_tokens": 0}, "max_output_tokens"),
        ({"input": QUESTION, "conversation": "conv_1"}, "conversation"),
        ({"input": QUESTION, "tools": [{"type": "file_search"}]}, "tools[0].type"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        ({"input": QUESTION, "previous_response_id": "nope"}, "previous_response_id"),
        ({"input": QUESTION, "text": {"format": {"type": "xml"}}}, "text.format.type"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "input[0].content[0].image_url",
        ),
    ],
    ids=[
        "temperature",
        "empty-input",
        "max-output-tokens",
        "unknown-field",
        "hosted-tool",
        "item-reference",
        "previous-id",
        "format",
        "file-id",
    ],
)
def test_bad_input_is_a_400_in_openais_envelope_naming_the_param(
    stack: Stack, fresh_upstream: Upstream, body: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client(stack).responses.create(model=OPENAI_MODEL, **body)

    error: Any = refused.value.body
    assert refused.value.status_code == 400
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert fresh_upstream.requests() == []


def test_an_unknown_model_is_a_404_before_any_event(stack: Stack) -> None:
    reply = httpx.post(
        f"{stack.base_url}/responses",
        json={"model": "acme/no-such-model", "input": "Hi", "stream": True},
        headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "model_not_found"


def test_a_retried_response_with_an_idempotency_key_is_answered_again_without_a_provider_call(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    fresh_upstream.script(reply="Sunny, 21 degrees.")
    keyed: dict[str, Any] = {"extra_headers": {"Idempotency-Key": "responses-retry-1"}}

    def ask() -> tuple[Any, str | None]:
        raw = client(stack).responses.with_raw_response.create(
            model=OPENAI_MODEL, input=QUESTION, **keyed
        )
        return raw.parse(), raw.headers.get("Idempotent-Replayed")

    first, first_mark = ask()
    again, again_mark = ask()

    assert (first_mark, again_mark) == (None, "true")
    assert again.id == first.id and again.output_text == first.output_text
    assert len(fresh_upstream.requests()) == 1
    record = eventually(lambda: generation(stack, "gen_" + first.id.removeprefix("resp_")))
    assert record["provider_name"] == "openai"


def test_a_viewer_reads_the_teams_responses_but_makes_and_deletes_none(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    tenant = new_tenant(AdminSuite(stack, "sqlite", Secrets()), "readers")
    fresh_upstream.script(reply="For the team.")
    kept = client(stack, key=tenant.member.key).responses.create(model=OPENAI_MODEL, input="Hi")
    viewer = client(stack, key=tenant.viewer.key)

    assert viewer.responses.retrieve(kept.id).output_text == "For the team."
    with pytest.raises(openai.PermissionDeniedError):
        viewer.responses.delete(kept.id)
    with pytest.raises(openai.PermissionDeniedError):
        viewer.responses.create(model=OPENAI_MODEL, input="Hi")
    assert len(fresh_upstream.requests()) == 1
    # The owner, another key of the same team, may delete it.
    client(stack, key=tenant.owner.key).responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError):
        viewer.responses.retrieve(kept.id)
