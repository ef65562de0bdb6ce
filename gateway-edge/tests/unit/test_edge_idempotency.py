"""The edge's part of ``Idempotency-Key``: which keys pass, and a body hash that does not
depend on how the JSON was spelled."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from tollgate_edge.errors import ApiError
from tollgate_edge.idempotency import body_hash, idempotency_key, replayed_headers

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}


def with_key(key: str) -> web.Request:
    return make_mocked_request("POST", "/v1/chat/completions", headers={"Idempotency-Key": key})


def test_the_hash_ignores_key_order_but_not_values() -> None:
    reordered = {"temperature": 0.5, "messages": [{"content": "hi", "role": "user"}], "model": "m"}
    assert body_hash(reordered) == body_hash(BODY)
    assert body_hash({**BODY, "temperature": 0.6}) != body_hash(BODY)


def test_a_key_travels_with_the_body_hash() -> None:
    key = idempotency_key(with_key("order-1234:summary"), BODY)
    assert key is not None
    assert (key.key, key.body_hash) == ("order-1234:summary", body_hash(BODY))


def test_without_the_header_there_is_no_key() -> None:
    assert idempotency_key(make_mocked_request("POST", "/v1/embeddings"), BODY) is None


@pytest.mark.parametrize("bad", ["", "x" * 256, "two words", "naïve"])
def test_a_malformed_key_is_a_400_naming_the_header(bad: str) -> None:
    with pytest.raises(ApiError) as refused:
        idempotency_key(with_key(bad), BODY)
    assert refused.value.status == 400
    assert refused.value.param == "Idempotency-Key"


def test_only_a_replay_is_marked() -> None:
    assert replayed_headers(True) == {"Idempotent-Replayed": "true"}
    assert replayed_headers(False) == {}
