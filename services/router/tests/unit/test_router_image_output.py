"""Image generation and attachment modalities in the router: ``modalities`` into each wire
format's request, generated images out of Gemini ``inlineData`` parts and OpenAI-compatible
``message.images`` / ``delta.images`` (golden events), the per-image pricing of the usage, and
the catalog modality check that runs before any provider is called."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from tollgate_router.catalog.catalog import ModelInfo, load_catalog
from tollgate_router.catalog.pricing import cost
from tollgate_router.domain import (
    FilePart,
    GenerationParams,
    GenerationRequest,
    ImagePart,
    Message,
    TextPart,
)
from tollgate_router.errors import UnsupportedModality
from tollgate_router.events import (
    FinishReason,
    ImageDelta,
    ProviderEvent,
    ResponseStart,
    TextDelta,
    UsageReport,
)
from tollgate_router.generation import modalities
from tollgate_router.providers import UpstreamCall, gemini_wire, openai_wire
from tollgate_router.providers.sse import SseDecoder
from tollgate_router.usage import from_report

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
PNG_URI = f"data:image/png;base64,{PNG}"
CATALOG = load_catalog()


def model(model_id: str) -> ModelInfo:
    found = CATALOG.resolve(model_id)
    assert found is not None
    return found


def call(modes: tuple[str, ...], stream: bool = False) -> UpstreamCall:
    return UpstreamCall(
        base_url="https://upstream.test/v1",
        api_key="k",
        provider_model_id="m",
        messages=(Message("user", "Draw a red square"),),
        params=GenerationParams(modalities=modes),
        stream=stream,
    )


# -- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("modes", "native"),
    [(("text", "image"), ["TEXT", "IMAGE"]), (("image",), ["IMAGE"]), (("text",), None)],
)
def test_gemini_asks_for_images_with_response_modalities(
    modes: tuple[str, ...], native: list[str] | None
) -> None:
    config = gemini_wire.request_body(call(modes)).get("generationConfig") or {}
    assert config.get("responseModalities") == native


def test_openai_compatible_apis_get_modalities_only_for_images() -> None:
    assert openai_wire.request_body(call(("text", "image")))["modalities"] == ["text", "image"]
    assert "modalities" not in openai_wire.request_body(call(("text",)))
    assert "modalities" not in openai_wire.request_body(call(()))


def test_an_image_sent_as_a_file_part_goes_to_openai_as_image_url() -> None:
    request = UpstreamCall(
        base_url="https://upstream.test/v1",
        api_key="k",
        provider_model_id="m",
        messages=(Message("user", (TextPart("Look"), FilePart(PNG, "image/png", "a.png"))),),
        params=GenerationParams(),
        stream=False,
    )
    [message] = openai_wire.request_body(request)["messages"]
    assert message["content"][1] == {"type": "image_url", "image_url": {"url": PNG_URI}}


# -- Gemini responses -------------------------------------------------------------------------

# The shape of a gemini-2.5-flash-image answer (Gemini API reference, GenerateContentResponse).
GEMINI_IMAGE_RESPONSE: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {"text": "Here is a red square."},
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 4,
        "candidatesTokenCount": 1296,
        "totalTokenCount": 1300,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}],
        "candidatesTokensDetails": [
            {"modality": "TEXT", "tokenCount": 6},
            {"modality": "IMAGE", "tokenCount": 1290},
        ],
    },
    "modelVersion": "gemini-2.5-flash-image",
    "responseId": "resp-1",
}
GOLDEN_EVENTS: list[ProviderEvent] = [
    ResponseStart("resp-1", "gemini-2.5-flash-image", 0, ""),
    TextDelta("Here is a red square."),
    ImageDelta(PNG_URI),
    FinishReason("stop"),
    UsageReport(prompt_tokens=4, completion_tokens=1296, total_tokens=1300, image_tokens=1290),
]


def test_gemini_inline_images_become_image_events() -> None:
    events = gemini_wire.parse_response(orjson.dumps(GEMINI_IMAGE_RESPONSE))
    assert events == GOLDEN_EVENTS


def test_a_streamed_gemini_image_arrives_whole_in_its_chunk() -> None:
    text_chunk = {
        **GEMINI_IMAGE_RESPONSE,
        "candidates": [
            {"content": {"parts": [{"text": "Here is a red square."}], "role": "model"}}
        ],
        "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4},
    }
    image_chunk = GEMINI_IMAGE_RESPONSE | {
        "candidates": [
            {
                **GEMINI_IMAGE_RESPONSE["candidates"][0],
                "content": {
                    "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}],
                    "role": "model",
                },
            }
        ]
    }
    raw = b"".join(b"data: " + orjson.dumps(c) + b"\r\n\r\n" for c in (text_chunk, image_chunk))
    decoder, parser = SseDecoder(), gemini_wire.ResponseParser()
    events = [e for sse in decoder.feed(raw) for e in parser.feed(sse)]

    assert [e for e in events if not isinstance(e, UsageReport)] == [
        e for e in GOLDEN_EVENTS if not isinstance(e, UsageReport)
    ]
    assert events[-1] == GOLDEN_EVENTS[-1]  # the last usage counts


def test_thought_images_are_not_answers() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"inlineData": {"mimeType": "image/png", "data": PNG}, "thought": True}
                    ]
                },
                "finishReason": "STOP",
            }
        ]
    }
    events = gemini_wire.parse_response(orjson.dumps(body))
    assert not any(isinstance(e, ImageDelta) for e in events)


# -- OpenAI-compatible responses --------------------------------------------------------------


def test_openai_compatible_message_images_become_image_events() -> None:
    body = {
        "id": "gen-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Done",
                    "images": [{"type": "image_url", "image_url": {"url": PNG_URI}}],
                },
                "finish_reason": "stop",
            }
        ],
    }
    events = openai_wire.parse_completion(orjson.dumps(body))
    assert events[1:4] == [TextDelta("Done"), ImageDelta(PNG_URI), FinishReason("stop")]


def test_openai_compatible_delta_images_become_image_events() -> None:
    chunk = {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "delta": {"images": [{"type": "image_url", "image_url": {"url": PNG_URI}}]},
                "finish_reason": None,
            }
        ],
    }
    decoder, parser = SseDecoder(), openai_wire.ChunkParser()
    events = [
        e
        for sse in decoder.feed(b"data: " + orjson.dumps(chunk) + b"\n\n")
        for e in parser.feed(sse)
    ]
    assert events[1:] == [ImageDelta(PNG_URI)]


# -- pricing ----------------------------------------------------------------------------------


def test_a_per_image_price_takes_the_image_tokens_out_of_the_output() -> None:
    report = GOLDEN_EVENTS[-1]
    assert isinstance(report, UsageReport)
    offer = model("google/gemini-2.5-flash-image").providers[0]

    usage = from_report(report, images=1, per_image=True)

    assert (usage.output_tokens, usage.images) == (6, 1)
    assert cost(offer.pricing, usage) == Decimal("4") * Decimal("0.0000003") + Decimal(
        "6"
    ) * Decimal("0.0000025") + Decimal("0.039")


def test_without_a_per_image_price_the_image_tokens_are_output() -> None:
    report = GOLDEN_EVENTS[-1]
    assert isinstance(report, UsageReport)
    offer = model("google/gemini-2.5-flash-image-preview").providers[0]

    usage = from_report(report, images=1, per_image=False)

    assert (usage.output_tokens, usage.images) == (1296, 1)
    assert cost(offer.pricing, usage) == Decimal("4") * Decimal("0.0000003") + Decimal(
        "1296"
    ) * Decimal("0.00003")


# -- the modality check -----------------------------------------------------------------------


def request(*parts: Any, modes: tuple[str, ...] = ()) -> GenerationRequest:
    return GenerationRequest(
        model="x",
        messages=(Message("user", (TextPart("hi"), *parts)),),
        params=GenerationParams(modalities=modes),
    )


def test_the_input_modalities_of_a_request() -> None:
    found = modalities.input_modalities(
        request(
            ImagePart("https://example.com/a.jpg"),
            FilePart("JVBERi0=", "application/pdf"),
            FilePart(PNG_URI),
            FilePart("UklGRg==", "audio/wav"),
        ).messages
    )
    assert found == ("image", "file", "audio")


@pytest.mark.parametrize(
    ("model_id", "req", "param", "message"),
    [
        ("openai/o3-mini", request(ImagePart(PNG_URI)), "messages", "does not accept image input"),
        (
            "anthropic/claude-3.5-haiku",
            request(FilePart("JVBERi0=", "application/pdf")),
            "messages",
            "does not accept file input",
        ),
        ("openai/gpt-4o", request(modes=("text", "image")), "modalities", "cannot generate image"),
        ("openai/gpt-4o", request(modes=("audio",)), "modalities", "'audio' is not supported"),
    ],
)
def test_a_model_lacking_a_modality_is_refused(
    model_id: str, req: GenerationRequest, param: str, message: str
) -> None:
    with pytest.raises(UnsupportedModality) as caught:
        modalities.check([model(model_id)], req)
    assert caught.value.metadata == {"param": param}
    assert message in caught.value.message


def test_fallback_models_that_cannot_are_dropped() -> None:
    models = [model("google/gemini-2.5-flash"), model("openai/o3-mini"), model("openai/gpt-4o")]
    kept = modalities.check(models, request(FilePart("JVBERi0=", "application/pdf")))
    assert [m.id for m in kept] == ["google/gemini-2.5-flash", "openai/gpt-4o"]


def test_image_models_can_draw() -> None:
    drawing = request(modes=("image",))
    assert modalities.check([model("google/gemini-2.5-flash-image-preview")], drawing)
