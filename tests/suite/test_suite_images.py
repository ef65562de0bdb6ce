"""Image generation through the whole suite with the official openai SDK: ``modalities``
``["text", "image"]`` or ``["image"]`` on an image model served by the Gemini fake
(``generationConfig.responseModalities``, images back as ``inlineData`` parts) gives
``message.images`` beside ``content``, or ``delta.images`` when streaming; the images are
priced (by the image where the catalog has a per-image price, else as the output tokens Gemini
counts for them) and billing charges that cost. Asking a model that cannot draw is a 400 with
nothing sent upstream."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.fakes.gemini_bodies import IMAGE_TOKENS, PNG_BASE64
from tests.support.api import client
from tests.support.catalog import GEMINI_MODEL
from tests.support.upstreams import Upstream

PNG_URI = f"data:image/png;base64,{PNG_BASE64}"
IMAGE_ENTRY = {"type": "image_url", "image_url": {"url": PNG_URI}}
# Shipped catalog entries (served by the `google` provider, i.e. the Gemini fake).
PER_IMAGE_MODEL = "google/gemini-2.5-flash-image"  # $0.039 an image
PER_IMAGE = {
    "input": Decimal("0.0000003"),
    "output": Decimal("0.0000025"),
    "image": Decimal("0.039"),
}
PREVIEW_MODEL = "google/gemini-2.5-flash-image-preview"  # images billed as output tokens
PREVIEW = {"input": Decimal("0.0000003"), "output": Decimal("0.00003")}
PROMPT = [{"role": "user", "content": "Draw a red square"}]


def extra(model: Any, key: str) -> Any:
    """A field the SDK's types do not declare (``images``, ``provider_metadata``)."""
    return (model.model_extra or {}).get(key)


def recorded_cost(stack: Stack, generation_id: str) -> Decimal:
    """The cost billing recorded for the generation (it arrives over NATS: poll)."""
    headers = {"Authorization": f"Bearer {stack.bootstrap_key()}"}
    deadline = time.monotonic() + 30
    while True:
        reply = httpx.get(
            f"{stack.base_url}/generation", params={"id": generation_id}, headers=headers
        )
        if reply.status_code == 200:
            return Decimal(str(reply.json()["data"]["total_cost"]))
        assert reply.status_code == 404 and time.monotonic() < deadline, reply.text
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("modalities", "native"), [(["text", "image"], ["TEXT", "IMAGE"]), (["image"], ["IMAGE"])]
)
def test_generated_images_come_back_in_message_images(
    stack: Stack, fresh_gemini: Upstream, modalities: list[str], native: list[str]
) -> None:
    fresh_gemini.script(reply="Here is your square", images=2)

    completion = client(stack).chat.completions.create(
        model=PREVIEW_MODEL, messages=PROMPT, extra_body={"modalities": modalities}
    )

    message = completion.choices[0].message
    assert extra(message, "images") == [IMAGE_ENTRY, IMAGE_ENTRY]
    if "text" in modalities:
        assert message.content == "Here is your square"
    else:
        assert message.content == ""
    assert completion.choices[0].finish_reason == "stop"
    [sent] = fresh_gemini.requests()
    body: Any = sent["body"]
    assert body["generationConfig"]["responseModalities"] == native


def test_streamed_images_come_as_delta_images(stack: Stack, fresh_gemini: Upstream) -> None:
    fresh_gemini.script(reply="A red square", images=1)

    chunks = list(
        client(stack).chat.completions.create(
            model=PREVIEW_MODEL,
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"modalities": ["text", "image"]},
        )
    )

    deltas = [c.choices[0].delta for c in chunks if c.choices]
    images = [image for d in deltas for image in extra(d, "images") or ()]
    assert images == [IMAGE_ENTRY]
    assert "".join(d.content or "" for d in deltas) == "A red square"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 3 + IMAGE_TOKENS


@pytest.mark.parametrize("stream", [False, True])
def test_images_are_priced_by_the_image_and_charged(
    stack: Stack, fresh_gemini: Upstream, stream: bool
) -> None:
    fresh_gemini.script(reply="Two squares", images=2)
    api = client(stack)
    if stream:
        chunks = list(
            api.chat.completions.create(
                model=PER_IMAGE_MODEL,
                messages=PROMPT,
                stream=True,
                stream_options={"include_usage": True},
                extra_body={"modalities": ["text", "image"]},
            )
        )
        usage = chunks[-1].usage
        generation_id = chunks[0].id
        [finish] = [c for c in chunks if c.choices and c.choices[0].finish_reason]
        cost = extra(finish.choices[0].delta, "provider_metadata")["gateway"]["cost"]
    else:
        completion = api.chat.completions.create(
            model=PER_IMAGE_MODEL, messages=PROMPT, extra_body={"modalities": ["text", "image"]}
        )
        usage, generation_id = completion.usage, completion.id
        cost = extra(completion.choices[0].message, "provider_metadata")["gateway"]["cost"]

    assert usage is not None
    # The 2 x 1290 image tokens are charged by the image, not again as output tokens.
    assert usage.completion_tokens == 2
    expected = (
        usage.prompt_tokens * PER_IMAGE["input"]
        + usage.completion_tokens * PER_IMAGE["output"]
        + 2 * PER_IMAGE["image"]
    )
    assert Decimal(cost) == expected
    assert recorded_cost(stack, generation_id) == expected


def test_images_without_a_per_image_price_are_charged_as_output_tokens(
    stack: Stack, fresh_gemini: Upstream
) -> None:
    fresh_gemini.script(reply="One square", images=1)

    completion = client(stack).chat.completions.create(
        model=PREVIEW_MODEL, messages=PROMPT, extra_body={"modalities": ["text", "image"]}
    )

    usage = completion.usage
    assert usage is not None and usage.completion_tokens == 2 + IMAGE_TOKENS
    expected = usage.prompt_tokens * PREVIEW["input"] + usage.completion_tokens * PREVIEW["output"]
    cost = extra(completion.choices[0].message, "provider_metadata")["gateway"]["cost"]
    assert Decimal(cost) == expected
    assert recorded_cost(stack, completion.id) == expected


@pytest.mark.parametrize("model", [GEMINI_MODEL, "openai/gpt-4o-mini"])
def test_image_output_from_a_model_that_cannot_draw_is_a_400(
    stack: Stack, fresh_gemini: Upstream, fresh_upstream: Upstream, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(
            model=model, messages=PROMPT, extra_body={"modalities": ["text", "image"]}
        )

    error: Any = caught.value.body
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "modalities"
    assert error["code"] == "unsupported_modality"
    assert f"model {model!r} cannot generate image output" in error["message"]
    assert fresh_gemini.requests() == [] and fresh_upstream.requests() == []


def test_an_unknown_output_modality_is_a_400(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(
            model=PREVIEW_MODEL, messages=PROMPT, extra_body={"modalities": ["audio"]}
        )
    error: Any = caught.value.body
    assert error["param"] == "modalities" and "audio" in error["message"]
