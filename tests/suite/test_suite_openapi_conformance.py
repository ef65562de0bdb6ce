"""The OpenAPI document is the truth: Schemathesis fuzzes every operation of ``/openapi.json``
against the running suite and checks each answer against the document (status code, content
type, body schema, headers) and that none is a server error.

Who calls: the bootstrap key reads (an operator, so the operator-only reads answer too); every
mutating request comes from the owner of a team of its own, so no case can reach the bootstrap
identity or its team. Each rejected (4xx) mutating request is followed by a look at everything
that team and the installation list: a refusal changes nothing.

Bounded for CI: a fixed number of derandomized cases per operation (Hypothesis' seed comes from
the test, so a run is repeatable), no example database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.generation.case import Case
from tollgate_cli.stack import Stack
from tollgate_edge.openapi import document

from tests.support.admin import AdminSuite, Secrets, Tenant, new_tenant
from tests.support.catalog import ANTHROPIC_MODEL, EMBEDDING_MODEL, GEMINI_MODEL

_DOCUMENT: dict[str, Any] = orjson.loads(document())
OPERATIONS = [
    (method.upper(), path)
    for path, item in _DOCUMENT["paths"].items()
    for method in item
    if method != "parameters"
]
CASES = 8
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Model ids a positive case names instead of a random string, so model calls reach the fakes.
CHAT_MODELS = ["openai/gpt-4o-mini", ANTHROPIC_MODEL, GEMINI_MODEL]
EMBEDDING_MODELS = [EMBEDDING_MODEL]


@dataclass(frozen=True)
class Fuzz:
    stack: Stack
    schema: Any
    tenant: Tenant
    bootstrap: str

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.stack.config.ports.public}"

    def get(self, key: str, path: str) -> Any:
        reply = httpx.get(
            self.origin + path, headers={"authorization": f"Bearer {key}"}, timeout=30
        )
        assert reply.status_code == 200, (path, reply.text)
        return reply.json()

    def listed(self) -> dict[str, Any]:
        """What the fuzz team's owner and the installation list; ``lastUsedAt`` moves with every
        call, so it is left out."""
        owner = self.tenant.owner.key
        team = self.tenant.team_id
        keys = self.get(owner, "/v1/api-keys?includeRevoked=true&limit=200")["data"]
        return {
            "teams": self.get(owner, "/v1/teams?limit=200"),
            "team": self.get(owner, f"/v1/teams/{team}"),
            "members": self.get(owner, f"/v1/teams/{team}/members?limit=200"),
            "projects": self.get(owner, f"/v1/teams/{team}/projects?limit=200"),
            "keys": [{k: v for k, v in key.items() if k != "lastUsedAt"} for key in keys],
            "byok": self.get(owner, "/v1/byok"),
            "issuers": self.get(owner, "/v1/oidc/issuers"),
            "budgets": self.get(owner, "/v1/budgets"),
            "credits": self.get(owner, "/v1/credits"),
            "operators": self.get(self.bootstrap, "/v1/operators"),
            "bootstrap": self.get(self.bootstrap, "/v1/me"),
        }


@pytest.fixture(scope="module")
def fuzz(stack: Stack) -> Iterator[Fuzz]:
    suite = AdminSuite(stack, "sqlite", Secrets([stack.bootstrap_key()]))
    tenant = new_tenant(suite, "fuzz")
    admin = suite.api()
    admin.ok("POST", "/v1/credits/top-up", json={"amount": "50", "teamId": tenant.team_id})
    schema = schemathesis.openapi.from_dict(_DOCUMENT)
    yield Fuzz(stack, schema, tenant, stack.bootstrap_key())


def _with_known_model(case: Case, model: str) -> Case:
    """A positive case that names a served model, so it reaches a fake provider."""
    if isinstance(case.body, dict) and "model" in case.body:
        case.body["model"] = model
    if case.headers and "ai-language-model-id" in case.headers:
        case.headers["ai-language-model-id"] = model
    if case.headers and "ai-embedding-model-id" in case.headers:
        case.headers["ai-embedding-model-id"] = model
    return case


def _cases(operation: Any, path: str) -> st.SearchStrategy[Case]:
    models = EMBEDDING_MODELS if "embedding" in path else CHAT_MODELS
    positive = st.builds(_with_known_model, operation.as_strategy(), st.sampled_from(models))
    negative = operation.as_strategy(GenerationMode.NEGATIVE)
    return st.one_of(positive, positive, negative)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_answers_match_the_document(fuzz: Fuzz, method: str, path: str) -> None:
    operation = fuzz.schema[path][method]
    mutating = method != "GET"
    key = fuzz.tenant.owner.key if mutating else fuzz.bootstrap

    @settings(
        max_examples=CASES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation, path))
    def run(case: Case) -> None:
        headers = {"authorization": f"Bearer {key}"}
        response = case.call(base_url=fuzz.origin, headers=headers, timeout=60)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if mutating:
            after = fuzz.listed()
            if 400 <= response.status_code < 500:
                assert after == listed[0], (
                    f"{method} {path} answered {response.status_code} but changed what is listed"
                )
            listed[0] = after

    listed = [fuzz.listed()] if mutating else []
    run()


def test_the_installation_is_still_reachable(fuzz: Fuzz) -> None:
    """Whatever the fuzz sent, the bootstrap key still works and its team is still there."""
    me = fuzz.get(fuzz.bootstrap, "/v1/me")
    assert me["team"]["slug"] == "default" and me["role"] == "owner"
    assert me["operator"] is True
    teams = fuzz.get(fuzz.bootstrap, "/v1/teams")["data"]
    assert me["team"]["id"] in {team["id"] for team in teams}
