"""Content parts of a chat message (text, ``image_url``, ``file``), validated into router
``ContentPart`` messages. A malformed part is a 400 whose ``param`` names the field, e.g.
``messages[0].content[1].image_url.url``: nothing is sent to a provider."""

from __future__ import annotations

import binascii
import re
from typing import Any
from urllib.parse import urlsplit

from tollgate.router.v1 import router_pb2

from tollgate_edge.errors import invalid_request

# OpenAI's image ``detail`` values.
_DETAILS = frozenset({"auto", "low", "high"})
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$", re.IGNORECASE)
_DATA_URI = re.compile(r"^data:([^;,]+)((?:;[^;,=]+=[^;,]+)*);base64,", re.IGNORECASE)


def part(raw: Any, where: str) -> router_pb2.ContentPart:
    """One entry of ``content``; ``where`` is its path (``messages[0].content[1]``)."""
    if not isinstance(raw, dict):
        raise invalid_request(f"{where} must be an object", where)
    kind = raw.get("type")
    if kind == "text":
        return router_pb2.ContentPart(text=_string(raw.get("text"), f"{where}.text"))
    if kind == "image_url":
        return router_pb2.ContentPart(image_url=_image_url(raw.get("image_url"), where))
    if kind == "file":
        return router_pb2.ContentPart(file=_file(raw.get("file"), where))
    raise invalid_request(
        f"{where}.type {kind!r} is not supported (text, image_url or file)", f"{where}.type"
    )


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"{where} must be a string", where)
    return value


def _image_url(raw: Any, where: str) -> router_pb2.ImageUrl:
    """``{url, detail?}`` (a bare string URL is taken too): an http(s) URL or a base64 data URI
    of an image."""
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict):
        raise invalid_request(f"{where}.image_url must be an object", f"{where}.image_url")
    url = _string(raw.get("url"), f"{where}.image_url.url").strip()
    param = f"{where}.image_url.url"
    if url.startswith("data:"):
        media_type = _data_uri(url, param)
        if not media_type.startswith("image/"):
            raise invalid_request(f"{param} must be an image, not {media_type}", param)
    elif not url.startswith(("https://", "http://")) or not urlsplit(url).hostname:
        raise invalid_request(f"{param} must be an http(s) URL or a base64 data URI", param)
    detail = raw.get("detail")
    if detail is not None and detail not in _DETAILS:
        raise invalid_request(
            f"{where}.image_url.detail must be one of auto, low, high", f"{where}.image_url.detail"
        )
    return router_pb2.ImageUrl(url=url, detail=detail or "")


def _file(raw: Any, where: str) -> router_pb2.FileData:
    """Vercel's form ``{data, media_type, filename?}`` (``data``: base64 or a data URI) or
    OpenAI's ``{file_data: <data URI>, filename?}``. ``file_id`` (OpenAI's Files API) is not
    supported: there is no file store to look it up in."""
    param = f"{where}.file"
    if not isinstance(raw, dict):
        raise invalid_request(f"{param} must be an object", param)
    if raw.get("file_id") is not None and raw.get("data", raw.get("file_data")) is None:
        raise invalid_request(
            f"{param}.file_id is not supported: send the file inline as `file_data`",
            f"{param}.file_id",
        )
    key = "data" if "data" in raw else "file_data"
    data = raw.get(key)
    if not isinstance(data, str) or not data.strip():
        raise invalid_request(
            f"{param} needs `data` or `file_data` (base64 or a data URI)", f"{param}.{key}"
        )
    declared = raw.get("media_type", raw.get("mediaType"))
    if declared is not None:
        declared = _string(declared, f"{param}.media_type").strip()
        if not _MEDIA_TYPE.match(declared):
            raise invalid_request(
                f"{param}.media_type must be a media type such as application/pdf",
                f"{param}.media_type",
            )
    if data.startswith("data:"):
        media_type = declared or _data_uri(data, f"{param}.{key}")
    else:
        _base64(data, f"{param}.{key}")
        if not declared:
            raise invalid_request(
                f"{param}.media_type is required with bare base64 data", f"{param}.media_type"
            )
        media_type = declared
    filename = raw.get("filename")
    return router_pb2.FileData(
        data=data,
        media_type=media_type.lower(),
        filename="" if filename is None else _string(filename, f"{param}.filename"),
    )


def _data_uri(uri: str, param: str) -> str:
    """The media type of a ``data:<type>;base64,<data>`` URI whose data is valid base64."""
    match = _DATA_URI.match(uri[:512])
    if match is None or not _MEDIA_TYPE.match(match.group(1)):
        raise invalid_request(f"{param} must be a data URI like data:<type>;base64,<data>", param)
    _base64(uri[match.end() :], param)
    return match.group(1).lower()


def _base64(data: str, param: str) -> None:
    try:
        decoded = binascii.a2b_base64(data.strip(), strict_mode=True)
    except (binascii.Error, ValueError):
        raise invalid_request(f"{param} is not valid base64", param) from None
    if not decoded:
        raise invalid_request(f"{param} is empty", param)
