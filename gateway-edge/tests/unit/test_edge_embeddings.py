"""``POST /v1/embeddings`` at the edge: body validation (each problem a 400 naming its param,
unknown fields tolerated), the RPC it becomes, and the OpenAI response shape in float and base64."""

from __future__ import annotations

import base64
import struct
from typing import Any

import orjson
import pytest
from tollgate.router.v1 import router_pb2
from tollgate_edge.embeddings import (
    MAX_INPUTS,
    embeddings_body,
    encode_base64,
    parse_embedding_request,
)
from tollgate_edge.errors import ApiError

CALLER = router_pb2.CallerContext(team_id="team_1", request_id="req_1")


def parse(body: dict[str, Any]) -> tuple[router_pb2.EmbedRequest, str]:
    return parse_embedding_request(orjson.dumps(body), CALLER)


def test_a_string_input_with_every_option() -> None:
    rpc, encoding = parse(
        {
            "model": " openai/text-embedding-3-small ",
            "input": "hello",
            "dimensions": 256,
            "user": "u-1",
            "encoding_format": "base64",
            "providerOptions": {"gateway": {"order": ["openai"], "models": ["google/x"]}},
            "a_field_openai_may_add_later": {"anything": True},
        }
    )

    assert encoding == "base64"
    assert rpc.model == "openai/text-embedding-3-small"
    assert [i.text for i in rpc.inputs] == ["hello"]
    assert rpc.HasField("dimensions") and rpc.dimensions == 256 and rpc.user == "u-1"
    assert list(rpc.routing.order) == ["openai"] and list(rpc.routing.models) == ["google/x"]
    assert rpc.caller.team_id == "team_1"


def test_defaults() -> None:
    rpc, encoding = parse({"model": "m", "input": ["a", "b"]})

    assert encoding == "float"
    assert not rpc.HasField("dimensions") and rpc.user == ""
    assert [i.text for i in rpc.inputs] == ["a", "b"]


def test_token_inputs() -> None:
    one, _ = parse({"model": "m", "input": [1, 2, 3]})
    many, _ = parse({"model": "m", "input": [[1, 2], [3]]})

    assert [list(i.tokens.ids) for i in one.inputs] == [[1, 2, 3]]
    assert [list(i.tokens.ids) for i in many.inputs] == [[1, 2], [3]]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "", "input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": None}, "input"),
        ({"model": "m", "input": ""}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": ["a", ""]}, "input"),
        ({"model": "m", "input": ["a", 1]}, "input"),
        ({"model": "m", "input": [[1], []]}, "input"),
        ({"model": "m", "input": [[1], "a"]}, "input"),
        ({"model": "m", "input": [True]}, "input"),
        ({"model": "m", "input": [-1]}, "input"),
        ({"model": "m", "input": [1.5]}, "input"),
        ({"model": "m", "input": {"text": "x"}}, "input"),
        ({"model": "m", "input": ["a"] * (MAX_INPUTS + 1)}, "input"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": -3}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "256"}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": True}, "dimensions"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "user": 7}, "user"),
        ({"model": "m", "input": "x", "providerOptions": {"gateway": {"only": "x"}}}, None),
    ],
)
def test_bad_bodies_are_400_naming_the_param(body: dict[str, Any], param: str | None) -> None:
    with pytest.raises(ApiError) as rejected:
        parse(body)

    assert rejected.value.status == 400 and rejected.value.type == "invalid_request_error"
    if param is not None:
        assert rejected.value.param == param


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_400(raw: bytes) -> None:
    with pytest.raises(ApiError) as rejected:
        parse_embedding_request(raw, CALLER)

    assert rejected.value.status == 400


def response() -> router_pb2.EmbedResponse:
    return router_pb2.EmbedResponse(
        generation_id="gen_01",
        model="openai/text-embedding-3-small",
        provider="openai",
        embeddings=[
            router_pb2.Embedding(values=[0.5, -0.25, 0.125]),
            router_pb2.Embedding(values=[0.0023064255, -0.009327292]),
        ],
        usage=router_pb2.Usage(input_tokens=9, total_tokens=9),
        provider_metadata=router_pb2.ProviderMetadata(
            gateway=router_pb2.GatewayMetadata(
                generation_id="gen_01",
                cost="0.00000018",
                market_cost="0.00000018",
                routing=router_pb2.RoutingInfo(
                    original_model_id="text-embedding-3-small",
                    final_provider="openai",
                    canonical_slug="openai/text-embedding-3-small",
                ),
            )
        ),
    )


def test_the_float_response_is_openais_shape() -> None:
    body = orjson.loads(embeddings_body(response(), "float"))

    assert body["object"] == "list" and body["model"] == "openai/text-embedding-3-small"
    assert body["data"] == [
        {"object": "embedding", "index": 0, "embedding": [0.5, -0.25, 0.125]},
        {"object": "embedding", "index": 1, "embedding": [0.0023064255, -0.009327292]},
    ]
    assert body["usage"] == {"prompt_tokens": 9, "total_tokens": 9}
    gateway = body["providerMetadata"]["gateway"]
    assert gateway["generationId"] == "gen_01" and gateway["cost"] == "0.00000018"
    assert gateway["routing"]["finalProvider"] == "openai"


def test_the_base64_response_is_little_endian_float32() -> None:
    body = orjson.loads(embeddings_body(response(), "base64"))

    first = base64.b64decode(body["data"][0]["embedding"])
    assert first == struct.pack("<3f", 0.5, -0.25, 0.125)
    second = struct.unpack("<2f", base64.b64decode(body["data"][1]["embedding"]))
    assert second == struct.unpack("<2f", struct.pack("<2f", 0.0023064255, -0.009327292))
    assert encode_base64([]) == ""
