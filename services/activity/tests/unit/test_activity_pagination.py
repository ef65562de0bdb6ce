"""Page tokens, page sizes and pages of the lists (ListRequests, ListActivity)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tollgate_activity.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Cursor,
    TimeRange,
    decode_page_token,
    encode_page_token,
    list_args,
    page_limit,
    page_of,
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


T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _cursor(minute: int) -> Cursor:
    return Cursor(T0 - timedelta(minutes=minute), f"gen_{minute}")


def test_a_page_has_a_token_only_when_more_were_fetched_than_it_holds() -> None:
    fetched = [_cursor(minute) for minute in range(3)]
    last = page_of(fetched, 2, lambda cursor: cursor)
    assert last.entries == tuple(fetched[:2])
    assert decode_page_token(last.next_page_token) == fetched[1]
    assert page_of(fetched, 3, lambda cursor: cursor).next_page_token == ""


def test_list_args_are_the_limit_and_the_cursor_to_start_after() -> None:
    assert list_args("team_a", 0, "", TimeRange()) == (DEFAULT_PAGE_SIZE, None)
    token = encode_page_token(_cursor(5))
    assert list_args("team_a", 10, token, TimeRange()) == (10, _cursor(5))


@pytest.mark.parametrize(
    ("team_id", "page_token", "time_range", "param"),
    [
        ("", "", TimeRange(), "team_id"),
        ("team_a", "not a token", TimeRange(), "page_token"),
        ("team_a", "", TimeRange(since=T0, until=T0 - timedelta(seconds=1)), "until"),
    ],
)
def test_bad_list_args_are_invalid_arguments(
    team_id: str, page_token: str, time_range: TimeRange, param: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        list_args(team_id, 0, page_token, time_range)
    assert caught.value.metadata == {"param": param}
