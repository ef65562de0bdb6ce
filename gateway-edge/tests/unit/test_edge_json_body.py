"""The edge's one JSON body decoder: nesting up to the limit passes, one level more is a 400
naming the top-level field it is under."""

from __future__ import annotations

import pytest
from tollgate_edge.errors import ApiError
from tollgate_edge.json_body import MAX_JSON_DEPTH, decode, json_object


def _body(levels: int) -> bytes:
    """An object whose ``tools`` value brings the body to ``levels`` levels of nesting."""
    inner = "[" * (levels - 1) + "]" * (levels - 1)
    return f'{{"model": "m", "tools": {inner}}}'.encode()


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert json_object(_body(MAX_JSON_DEPTH))["model"] == "m"


def test_one_level_more_is_a_400_naming_the_field() -> None:
    with pytest.raises(ApiError) as refused:
        json_object(_body(MAX_JSON_DEPTH + 1))
    assert (refused.value.status, refused.value.param) == (400, "tools")
    assert refused.value.message == f"`tools` nests deeper than {MAX_JSON_DEPTH} levels"


def test_a_deep_array_body_names_no_field() -> None:
    with pytest.raises(ApiError) as refused:
        decode(b"[" * 100 + b"]" * 100)
    assert (refused.value.status, refused.value.param) == (400, None)


def test_malformed_and_non_object_bodies_stay_400s() -> None:
    with pytest.raises(ApiError, match="not valid JSON"):
        json_object(b"{")
    with pytest.raises(ApiError, match="must be a JSON object"):
        json_object(b"[1]")


@pytest.mark.parametrize("raw", [b"null", b"0", b"1.5", b"true", b'"text"'])
def test_a_scalar_body_is_a_400_not_a_crash(raw: bytes) -> None:
    with pytest.raises(ApiError, match="must be a JSON object"):
        json_object(raw)
