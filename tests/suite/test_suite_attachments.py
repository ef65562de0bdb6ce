"""Attachments through the whole suite with the official openai SDK: ``image_url`` parts (data
URI and https URL, ``detail``) and PDF ``file`` parts, in Vercel's form (``{data, media_type,
filename}``) and OpenAI's (``{file_data: <data URI>, filename}``), reach each provider as its
native block (OpenAI ``image_url`` / ``file``; Anthropic ``image`` / ``document``; Gemini
``inlineData`` / ``fileData``). A model whose catalog modalities lack the attachment's, and a
malformed part, are a 400 naming the problem, with nothing sent upstream."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import client
from tests.support.catalog import ANTHROPIC_MODEL, GEMINI_MODEL
from tests.support.upstreams import Upstream

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
PNG_URI = f"data:image/png;base64,{PNG}"
CAT_URL = "https://example.com/images/cat.jpg"
PDF = "JVBERi0xLjQKJcTl8uXrp/Og0MTGCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDw+PgolJUVPRgo="
PDF_URI = f"data:application/pdf;base64,{PDF}"
MODELS = {
    "openai": ("openai/gpt-4o-mini", "fresh_upstream"),
    "anthropic": (ANTHROPIC_MODEL, "fresh_anthropic"),
    "google": (GEMINI_MODEL, "fresh_gemini"),
}
FILE_FORMS = {
    "vercel": {"data": PDF, "media_type": "application/pdf", "filename": "report.pdf"},
    "openai": {"file_data": PDF_URI, "filename": "report.pdf"},
}


@pytest.fixture(params=list(MODELS))
def provider(request: pytest.FixtureRequest) -> tuple[str, str, Upstream]:
    name: str = request.param
    model, fixture = MODELS[name]
    return name, model, request.getfixturevalue(fixture)


def sent_user_content(name: str, upstream: Upstream) -> list[Any]:
    """The content blocks of the one user turn the provider received."""
    [sent] = upstream.requests()
    body: Any = sent["body"]
    if name == "google":
        return list(body["contents"][0]["parts"])
    return list(body["messages"][0]["content"])


@pytest.mark.parametrize("stream", [False, True])
def test_images_reach_each_provider_as_its_native_block(
    stack: Stack, provider: tuple[str, str, Upstream], stream: bool
) -> None:
    name, model, upstream = provider
    content: Any = [
        {"type": "text", "text": "What is in these pictures?"},
        {"type": "image_url", "image_url": {"url": PNG_URI, "detail": "high"}},
        {"type": "image_url", "image_url": {"url": CAT_URL}},
    ]
    api = client(stack)
    if stream:
        chunks = list(
            api.chat.completions.create(
                model=model, messages=[{"role": "user", "content": content}], stream=True
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        completion = api.chat.completions.create(
            model=model, messages=[{"role": "user", "content": content}]
        )
        text = completion.choices[0].message.content or ""
    assert text.startswith("Echo: What is in these pictures?")

    blocks = sent_user_content(name, upstream)
    if name == "openai":
        assert blocks == [
            {"type": "text", "text": "What is in these pictures?"},
            {"type": "image_url", "image_url": {"url": PNG_URI, "detail": "high"}},
            {"type": "image_url", "image_url": {"url": CAT_URL}},
        ]
    elif name == "anthropic":
        assert blocks == [
            {"type": "text", "text": "What is in these pictures?"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PNG},
            },
            {"type": "image", "source": {"type": "url", "url": CAT_URL}},
        ]
    else:
        assert blocks == [
            {"text": "What is in these pictures?"},
            {"inlineData": {"mimeType": "image/png", "data": PNG}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": CAT_URL}},
        ]


@pytest.mark.parametrize("form", list(FILE_FORMS))
def test_pdfs_in_both_file_forms_reach_each_provider_as_a_document(
    stack: Stack, provider: tuple[str, str, Upstream], form: str
) -> None:
    name, model, upstream = provider
    content: Any = [
        {"type": "text", "text": "Summarise the report"},
        {"type": "file", "file": FILE_FORMS[form]},
    ]
    completion = client(stack).chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}]
    )
    assert completion.choices[0].message.content == "Echo: Summarise the report"

    document = sent_user_content(name, upstream)[1]
    if name == "openai":
        assert document == {
            "type": "file",
            "file": {"file_data": PDF_URI, "filename": "report.pdf"},
        }
    elif name == "anthropic":
        assert document == {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
            "title": "report.pdf",
        }
    else:
        assert document == {"inlineData": {"mimeType": "application/pdf", "data": PDF}}


@pytest.mark.parametrize(
    ("model", "part", "modality"),
    [
        ("openai/o3-mini", {"type": "image_url", "image_url": {"url": PNG_URI}}, "image"),
        ("openai/o3-mini", {"type": "file", "file": FILE_FORMS["openai"]}, "file"),
        ("anthropic/claude-3.5-haiku", {"type": "file", "file": FILE_FORMS["vercel"]}, "file"),
    ],
)
def test_a_model_without_the_modality_is_a_400_before_any_provider_call(
    stack: Stack,
    fresh_upstream: Upstream,
    fresh_anthropic: Upstream,
    model: str,
    part: dict[str, Any],
    modality: str,
) -> None:
    content: Any = [{"type": "text", "text": "Look"}, part]
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(
            model=model, messages=[{"role": "user", "content": content}]
        )

    error: Any = caught.value.body
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "messages"
    assert error["code"] == "unsupported_modality"
    assert f"does not accept {modality} input" in error["message"]
    assert model in error["message"]
    assert fresh_upstream.requests() == [] and fresh_anthropic.requests() == []


BAD_PARTS = [
    ({"type": "image_url", "image_url": {"url": "ftp://example.com/a.png"}}, "image_url.url"),
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "image_url.url"),
    ({"type": "image_url", "image_url": {"url": PDF_URI}}, "image_url.url"),
    ({"type": "image_url", "image_url": {"url": PNG_URI, "detail": "ultra"}}, "image_url.detail"),
    ({"type": "image_url"}, "image_url"),
    ({"type": "file", "file": {"filename": "a.pdf"}}, "file.file_data"),
    ({"type": "file", "file": {"data": PDF}}, "file.media_type"),
    ({"type": "file", "file": {"data": PDF, "media_type": "pdf"}}, "file.media_type"),
    ({"type": "file", "file": {"file_data": "data:application/pdf,raw"}}, "file.file_data"),
    ({"type": "file", "file": {"file_id": "file-abc123"}}, "file.file_id"),
    ({"type": "input_video", "input_video": {}}, "type"),
]


@pytest.mark.parametrize(("part", "field"), BAD_PARTS)
def test_a_malformed_part_is_a_400_naming_its_field(
    stack: Stack, fresh_upstream: Upstream, part: dict[str, Any], field: str
) -> None:
    content: Any = [{"type": "text", "text": "Look"}, part]
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": content}]
        )

    error: Any = caught.value.body
    assert error["type"] == "invalid_request_error"
    assert error["param"] == f"messages[0].content[1].{field}"
    assert fresh_upstream.requests() == []
