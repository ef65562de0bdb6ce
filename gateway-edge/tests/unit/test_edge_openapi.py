"""``/openapi.json``: a valid OpenAPI 3.1 document that describes every route the edge serves."""

from __future__ import annotations

import json
import re

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from tollgate.router.v1 import router_pb2
from tollgate_edge.app import create_app
from tollgate_edge.models import model_object
from tollgate_edge.openapi import document
from tollgate_edge.settings import EdgeSettings

_PARAM = re.compile(r"\{[^}]*\}")


def _template(path: str) -> str:
    """``/v1/models/{model_id:.+}`` and ``/v1/models/{modelId}`` both → ``/v1/models/{}``."""
    return _PARAM.sub("{}", path)


def test_the_document_is_valid_openapi_3_1() -> None:
    spec = json.loads(document())
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_of_the_edge_is_documented_and_nothing_else() -> None:
    app = create_app(EdgeSettings())
    served = {
        (_template(route.resource.canonical), route.method.lower())
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    spec = json.loads(document())
    documented = {
        (_template(path), method)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert served == documented


def test_admin_errors_use_the_openai_envelope() -> None:
    spec = json.loads(document())
    error = spec["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["message", "type", "param", "code"]
    delete_key = spec["paths"]["/v1/api-keys/{keyId}"]["delete"]
    assert set(delete_key["responses"]) == {"204", "400", "401", "403", "404"}


def test_a_tiered_model_answers_as_the_document_says() -> None:
    """Vercel's model list shape: prices are decimal strings, ``*_tiers`` lists of
    ``{cost, min, max}``; the document describes exactly that."""
    pricing = router_pb2.Pricing(
        input="0.000003",
        output="0.000015",
        input_cache_read="0.0000003",
        tiers=[router_pb2.PriceTier(above_input_tokens=200000, input="0.000006")],
    )
    model = router_pb2.Model(
        id="anthropic/claude-tiered", type="language", creator="anthropic", pricing=pricing
    )
    answer = model_object(model)
    assert answer["pricing"]["input_tiers"] == [
        {"cost": "0.000003", "min": 0, "max": 200001},
        {"cost": "0.000006", "min": 200001},
    ]
    schema = json.loads(document())["components"]["schemas"]["Model"]
    Draft202012Validator(schema).validate(answer)
