"""Content parts and ``modalities`` of a chat request: what is accepted and how it is passed
on, and the 400 (with the field's path in ``param``) for what is not (no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.chat_request import parse_chat_request
from tollgate_edge.errors import ApiError

CALLER = router_pb2.CallerContext(team_id="team_1", request_id="req")
PNG_URI = "data:image/png;base64,iVBORw0KGgo="
PDF = "JVBERi0xLjQK"


def parse(**body: Any) -> Any:
    return parse_chat_request(json.dumps({"model": "m", **body}).encode(), CALLER)


def with_part(part: Any) -> Any:
    return parse(messages=[{"role": "user", "content": [{"type": "text", "text": "x"}, part]}])


def rejected_part(part: Any) -> ApiError:
    with pytest.raises(ApiError) as failure:
        with_part(part)
    assert (failure.value.status, failure.value.type) == (400, "invalid_request_error")
    return failure.value


def test_images_keep_url_and_detail() -> None:
    chat = with_part({"type": "image_url", "image_url": {"url": PNG_URI, "detail": "low"}})
    image = chat.rpc.messages[0].parts.parts[1].image_url
    assert (image.url, image.detail) == (PNG_URI, "low")


def test_a_data_uri_file_gets_its_media_type_from_the_uri() -> None:
    chat = with_part({"type": "file", "file": {"file_data": f"data:Application/PDF;base64,{PDF}"}})
    file = chat.rpc.messages[0].parts.parts[1].file
    assert (file.media_type, file.filename) == ("application/pdf", "")


@pytest.mark.parametrize(
    ("part", "param", "words"),
    [
        ({"type": "image_url", "image_url": {"url": "https://"}}, "image_url.url", "http(s) URL"),
        ({"type": "image_url", "image_url": {"url": "HTTPS://x.test/a"}}, "image_url.url", "URL"),
        (
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,"}},
            "image_url.url",
            "empty",
        ),
        (
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,a"}},
            "image_url.url",
            "base64",
        ),
        ({"type": "image_url", "image_url": {"url": 3}}, "image_url.url", "string"),
        ({"type": "file", "file": "x"}, "file", "object"),
        (
            {"type": "file", "file": {"data": "", "media_type": "application/pdf"}},
            "file.data",
            "needs",
        ),
        ({"type": "file", "file": {"data": PDF, "media_type": 5}}, "file.media_type", "string"),
        (
            {"type": "file", "file": {"data": PDF, "media_type": "a/b", "filename": 1}},
            "file.filename",
            "string",
        ),
        ("text", "", "object"),
    ],
)
def test_a_malformed_part_names_its_field(part: Any, param: str, words: str) -> None:
    error = rejected_part(part)
    assert error.param == ("messages[0].content[1]." + param).rstrip(".")
    assert words in error.message


@pytest.mark.parametrize(
    ("modalities", "expected"),
    [(["text", "image"], ["text", "image"]), (["image", "image"], ["image"]), (None, [])],
)
def test_modalities_are_passed_on(modalities: Any, expected: list[str]) -> None:
    chat = parse(messages=[{"role": "user", "content": "draw"}], modalities=modalities)
    assert list(chat.rpc.modalities) == expected


@pytest.mark.parametrize("modalities", [[], "image", ["text", "audio"], [1]])
def test_bad_modalities_are_a_400(modalities: Any) -> None:
    with pytest.raises(ApiError) as failure:
        parse(messages=[{"role": "user", "content": "draw"}], modalities=modalities)
    assert (failure.value.status, failure.value.param) == (400, "modalities")
