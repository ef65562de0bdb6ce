"""The OpenAPI document is the truth: Schemathesis fuzzes every operation of ``/openapi.json``
against the running suite and checks each answer against the document (status code, content
type, body schema, headers) and that none is a server error.

Who calls: the bootstrap key reads (an operator, so the operator-only reads answer too); every
mutating request comes from the owner of a team of its own, so no case can reach the bootstrap
identity or its team. Each rejected (4xx) mutating request is followed by a look at everything
that team and the installation list: a refusal changes nothing. A focused test, run first,
sends refused requests aimed at things that exist and compares the credits too.

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
from hypothesis import HealthCheck, Phase, example, given, settings
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
CASES = 30
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Model ids a positive case names instead of a random string.
CHAT_MODELS = ["openai/gpt-4o-mini", ANTHROPIC_MODEL, GEMINI_MODEL]
EMBEDDING_MODELS = [EMBEDDING_MODEL]
# The operations that call a model provider (the fakes), and the fields of a body it answers.
MODEL_CALLS = {
    "/v1/chat/completions",
    "/v1/embeddings",
    *(f"/{v}/ai/{kind}-model" for v in ("v1", "v3") for kind in ("language", "embedding")),
}
ANSWERABLE: dict[str, Any] = {
    "messages": [{"role": "user", "content": "hi"}],
    "prompt": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "values": ["hi"],
    "input": "hi",
}
_AI_SDK_PROMPT = {"prompt": ANSWERABLE["prompt"]}
# Answered requests every run sends first, so each success shape (JSON and SSE) is checked.
EXPLICIT: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("POST", "/v1/chat/completions"): [
        {"body": {"model": model, "messages": ANSWERABLE["messages"], "stream": stream}}
        for model in CHAT_MODELS
        for stream in (False, True)
    ],
    ("POST", "/v1/embeddings"): [
        {"body": {"model": EMBEDDING_MODEL, "input": ["hi", "there"], "encoding_format": form}}
        for form in ("float", "base64")
    ],
    **{
        ("POST", f"/{v}/ai/language-model"): [
            {
                "headers": {"ai-language-model-id": model, "ai-language-model-streaming": stream},
                "body": _AI_SDK_PROMPT,
            }
            for model in CHAT_MODELS
            for stream in ("false", "true")
        ]
        for v in ("v1", "v3")
    },
    **{
        ("POST", f"/{v}/ai/embedding-model"): [
            {"headers": {"ai-model-id": EMBEDDING_MODEL}, "body": {"values": ["hi"]}}
        ]
        for v in ("v1", "v3")
    },
}
# Credentials are the test's own: generated ones would make the answer a 401.
GENERATED_CREDENTIALS = {"authorization", "x-api-key"}


@dataclass(frozen=True)
class Fuzz:
    stack: Stack
    schema: Any
    tenant: Tenant
    bootstrap: str
    http: httpx.Client

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.stack.config.ports.public}"

    def get(self, key: str, path: str) -> Any:
        reply = self.http.get(self.origin + path, headers={"authorization": f"Bearer {key}"})
        assert reply.status_code == 200, (path, reply.text)
        return reply.json()

    def listed(self, *, with_credits: bool = True) -> dict[str, Any]:
        """What the fuzz team's owner and the installation list; ``lastUsedAt`` moves with every
        call, so it is left out. The credits move a while after each answered model call (usage
        is charged from its fact), so the fuzz, which makes such calls, leaves them out too."""
        owner = self.tenant.owner.key
        team = self.tenant.team_id
        keys = self.get(owner, "/v1/api-keys?includeRevoked=true&limit=200")["data"]
        listed = {
            "teams": self.get(owner, "/v1/teams?limit=200"),
            "team": self.get(owner, f"/v1/teams/{team}"),
            "members": self.get(owner, f"/v1/teams/{team}/members?limit=200"),
            "projects": self.get(owner, f"/v1/teams/{team}/projects?limit=200"),
            "keys": [{k: v for k, v in key.items() if k != "lastUsedAt"} for key in keys],
            "byok": self.get(owner, "/v1/byok"),
            "issuers": self.get(owner, "/v1/oidc/issuers"),
            "budgets": self.get(owner, "/v1/budgets"),
            "operators": self.get(self.bootstrap, "/v1/operators"),
            "bootstrap": self.get(self.bootstrap, "/v1/me"),
        }
        if with_credits:
            listed["credits"] = self.get(owner, "/v1/credits")
        return listed


@pytest.fixture(scope="module")
def fuzz(stack: Stack) -> Iterator[Fuzz]:
    suite = AdminSuite(stack, "sqlite", Secrets([stack.bootstrap_key()]))
    tenant = new_tenant(suite, "fuzz")
    admin = suite.api()
    admin.ok("POST", "/v1/credits/top-up", json={"amount": "50", "teamId": tenant.team_id})
    schema = schemathesis.openapi.from_dict(_DOCUMENT)
    with httpx.Client(timeout=30) as http:
        yield Fuzz(stack, schema, tenant, stack.bootstrap_key(), http)


def _declared(path: str) -> set[str]:
    """The properties the document declares for the JSON body of the POST at ``path``."""
    schema = _DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    schema = schema["schema"]
    if "$ref" in schema:
        schema = _DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {}))


def _servable(case: Case, path: str, model: str, answerable: bool) -> Case:
    """A positive case of a model call that names a served model and, when ``answerable``,
    carries only declared fields and a prompt a provider answers, so it reaches a fake
    provider rather than a 400 or a 404."""
    body = case.body
    if isinstance(body, dict):
        if answerable:
            declared = _declared(path)
            for name in set(body) - declared:
                del body[name]
            body.update({name: value for name, value in ANSWERABLE.items() if name in declared})
        if "model" in body:
            body["model"] = model
    for header in ("ai-language-model-id", "ai-model-id"):
        if case.headers and header in case.headers:
            case.headers[header] = model
    return case


def _cases(operation: Any, path: str) -> st.SearchStrategy[Case]:
    positive = operation.as_strategy()
    if path in MODEL_CALLS:
        models = EMBEDDING_MODELS if "embedding" in path else CHAT_MODELS
        positive = st.builds(
            _servable, positive, st.just(path), st.sampled_from(models), st.booleans()
        )
    negative = operation.as_strategy(GenerationMode.NEGATIVE)
    return st.one_of(positive, positive, negative)


def test_rejected_changes_to_real_resources_change_nothing(fuzz: Fuzz) -> None:
    """Refused requests aimed at things that exist (the fuzz team, its members, project and keys,
    the bootstrap team and user): each is a 4xx, and everything listed is as it was."""
    tenant = fuzz.tenant
    team = f"/v1/teams/{tenant.team_id}"
    me = fuzz.get(fuzz.bootstrap, "/v1/me")
    owner, member, viewer, admin = (
        tenant.owner.key,
        tenant.member.key,
        tenant.viewer.key,
        fuzz.bootstrap,
    )
    refused: list[tuple[str, str, str, Any]] = [
        (owner, "PATCH", team, {"slug": "default"}),
        (owner, "PATCH", team, {"slug": ""}),
        (owner, "PATCH", team, {"name": "x", "unknown": 1}),
        (owner, "PATCH", team, None),
        (member, "PATCH", team, {"name": "renamed by a member"}),
        (member, "DELETE", team, None),
        (owner, "DELETE", f"{team}/members/{tenant.owner_id}", None),
        (owner, "PATCH", f"{team}/members/{tenant.member_id}", {"role": "admin"}),
        (owner, "PATCH", f"{team}/members/{tenant.owner_id}", {"role": "viewer"}),
        (owner, "POST", f"{team}/members", {"email": "not an email", "role": "member"}),
        (owner, "POST", f"{team}/members", {"email": "x@fuzz.example", "role": "root"}),
        (viewer, "POST", f"{team}/members", {"email": "y@fuzz.example", "role": "owner"}),
        (member, "POST", f"{team}/projects", {"name": "by a member"}),
        (owner, "POST", f"{team}/projects", {"name": ""}),
        (member, "DELETE", f"{team}/projects/{tenant.project_id}", None),
        (owner, "POST", "/v1/api-keys", {"name": "k", "projectId": "prj_missing"}),
        (owner, "POST", "/v1/api-keys", {"name": "k", "expiresAt": "yesterday"}),
        (member, "POST", "/v1/api-keys", {"name": "k", "userId": tenant.viewer_id}),
        (member, "DELETE", f"/v1/api-keys/{tenant.key_ids['owner']}", None),
        (owner, "PUT", "/v1/byok/openai", {"credentials": {}}),
        (owner, "PUT", "/v1/byok/no-such-provider", {"credentials": {"apiKey": "sk-x"}}),
        (member, "PUT", "/v1/byok/openai", {"credentials": {"apiKey": "sk-member"}}),
        (owner, "PUT", f"/v1/budgets/team/{tenant.team_id}", {"amount": "-1", "period": "day"}),
        (owner, "PUT", f"/v1/budgets/team/{tenant.team_id}", {"amount": "1", "period": "year"}),
        (member, "PUT", f"/v1/budgets/team/{tenant.team_id}", {"amount": "1", "period": "day"}),
        (owner, "POST", "/v1/oidc/issuers", {"issuer": "", "audience": "a", "claimMappings": {}}),
        (owner, "POST", "/v1/credits/top-up", {"amount": "5"}),
        (owner, "POST", "/v1/credits/adjustments", {"amount": "5", "reason": "r"}),
        (owner, "PUT", f"/v1/operators/{tenant.owner_id}", None),
        (admin, "DELETE", f"/v1/teams/{me['team']['id']}", None),
        (admin, "DELETE", f"/v1/operators/{me['user']['id']}", None),
        (admin, "DELETE", f"/v1/teams/{me['team']['id']}/members/{me['user']['id']}", None),
    ]
    before = fuzz.listed()
    for key, method, path, body in refused:
        reply = fuzz.http.request(
            method,
            fuzz.origin + path,
            headers={"authorization": f"Bearer {key}"},
            content=b"null" if body is None and method in ("PATCH", "POST") else None,
            json=body,
        )
        assert 400 <= reply.status_code < 500, (method, path, body, reply.status_code, reply.text)
        assert reply.json()["error"]["message"], reply.text
        assert fuzz.listed() == before, (method, path, body, reply.status_code)


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
        if case.headers:
            for name in [n for n in case.headers if n.lower() in GENERATED_CREDENTIALS]:
                del case.headers[name]
        headers = {"authorization": f"Bearer {key}"}
        response = case.call(base_url=fuzz.origin, headers=headers, timeout=60)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if mutating:
            after = fuzz.listed(with_credits=False)
            if 400 <= response.status_code < 500:
                assert after == listed[0], (
                    f"{method} {path} answered {response.status_code} but changed what is listed"
                )
            listed[0] = after

    for explicit in EXPLICIT.get((method, path), []):
        run = example(case=operation.Case(media_type="application/json", **explicit))(run)
    listed = [fuzz.listed(with_credits=False)] if mutating else []
    run()


def test_the_installation_is_still_reachable(fuzz: Fuzz) -> None:
    """Whatever the fuzz sent, the bootstrap key still works and its team is still there."""
    me = fuzz.get(fuzz.bootstrap, "/v1/me")
    assert me["team"]["slug"] == "default" and me["role"] == "owner"
    assert me["operator"] is True
    teams = fuzz.get(fuzz.bootstrap, "/v1/teams")["data"]
    assert me["team"]["id"] in {team["id"] for team in teams}
