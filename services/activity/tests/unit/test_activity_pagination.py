"""Page tokens and page sizes of ListRequests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tollgate_activity.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Cursor,
    decode_page_token,
    encode_page_token,
    page_limit,
)
from tollgate_common.errors import InvalidArgument


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        Cursor(
            datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC), "gen_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        ),
        Cursor(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "gen_x"),
        Cursor(datetime(2026, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=2))), "gen_ü/+"),
    ],
)
def test_a_token_round_trips(cursor: Cursor) -> None:
    token = encode_page_token(cursor)
    assert decode_page_token(token) == cursor
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "!!!!",
        _b64(b"not json"),
        _b64(b"[1, 2]"),
        _b64(b'{"t": "2026-01-01T00:00:00+00:00"}'),
        _b64(b'{"g": "gen_1"}'),
        _b64(b'{"t": 5, "g": "gen_1"}'),
        _b64(b'{"t": "2026-01-01T00:00:00+00:00", "g": 7}'),
        _b64(b'{"t": "2026-01-01T00:00:00+00:00", "g": ""}'),
        _b64(b'{"t": "yesterday", "g": "gen_1"}'),
        _b64(b'{"t": "2026-01-01T00:00:00", "g": "gen_1"}'),  # no time zone
        _b64(b"\xff\xfe"),
        "é",
        "A" * 1000,
    ],
)
def test_a_bad_token_is_an_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument) as invalid:
        decode_page_token(token)
    assert invalid.value.metadata == {"param": "page_token"}


@pytest.mark.parametrize(
    ("page_size", "limit"),
    [(0, DEFAULT_PAGE_SIZE), (1, 1), (50, 50), (200, 200), (201, MAX_PAGE_SIZE), (10**6, 200)],
)
def test_page_size(page_size: int, limit: int) -> None:
    assert page_limit(page_size) == limit


def test_a_negative_page_size_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as invalid:
        page_limit(-1)
    assert invalid.value.metadata == {"param": "page_size"}
