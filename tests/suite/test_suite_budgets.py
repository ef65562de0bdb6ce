"""Budgets, adjustments and the report by end user and tag, through Envoy with the official
clients: a key budget holds under 150 concurrent requests (402 ``budget_exceeded`` naming it,
nothing sent upstream, every served request charged exactly); owners set budgets and members
read them; another team's project or key is a 404; embeddings get the same pre-flight; owners
adjust credits once per key and never below zero unless they say so; the CLI does all of it.

One suite for the module (each test works in a team of its own) in front of the session's
fake OpenAI upstream, with the billing suite's pricey model and a pricey embedding model.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.admin import AdminSuite, Api, Secrets, Tenant, new_tenant
from tests.support.billing import (
    CATALOG,
    PRICEY,
    billing_suite,
    charged_exactly,
    concurrent_asks,
    expected_cost,
)
from tests.support.cli import ok as cli
from tests.support.cli import tollgate
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal
EMBED = "test/pricey-embed"
EMBED_PRICE = D("0.01")
MODELS = {
    "models": [
        *CATALOG["models"],
        {
            "id": EMBED,
            "name": "Pricey embedding model",
            "creator": "test",
            "type": "embedding",
            "description": "An embedding model priced so that a budget of cents runs out.",
            "context_window": 8192,
            "max_output_tokens": None,
            "dimensions": 1536,
            "input_modalities": ["text"],
            "output_modalities": [],
            "released": "2026-01-01",
            "providers": [
                {
                    "provider": "openai",
                    "provider_model_id": "text-embedding-3-small",
                    "pricing": {"input": str(EMBED_PRICE), "output": "0"},
                }
            ],
        },
    ]
}


@pytest.fixture(scope="module")
def suite(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with billing_suite(upstream, tmp_path_factory.mktemp("budgets"), MODELS) as running:
        yield running


@pytest.fixture
def tenant(suite: Stack) -> Tenant:
    return new_tenant(AdminSuite(suite, "sqlite", Secrets()), "budget")


def _client(suite: Stack, api: Api) -> openai.OpenAI:
    return openai.OpenAI(base_url=suite.base_url, api_key=api.key, max_retries=0)


def _charged(api: Api, completion: Any) -> Decimal:
    """Wait until billing recorded ``completion`` for ``api``'s team; check and return its cost."""

    def record() -> dict[str, Any] | None:
        reply = api.call("GET", "/v1/generation", params={"id": completion.id})
        return reply.json()["data"] if reply.status_code == 200 else None

    found = eventually(record)
    cost = expected_cost(completion.usage)
    assert D(str(found["total_cost"])) == cost, found
    return cost


def _activity(api: Api, type_: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.ok("GET", "/v1/activity", params={"type": type_})["data"]
    return events


def test_a_key_budget_holds_under_150_concurrent_requests(suite: Stack, upstream: Upstream) -> None:
    admin = AdminSuite(suite, "sqlite", Secrets()).api()
    key_id = admin.ok("GET", "/v1/me")["keyId"]
    admin.ok("POST", "/v1/credits/top-up", json={"amount": "100"})  # money is not the limit
    budget = admin.ok("PUT", f"/v1/budgets/key/{key_id}", 201, json={"amount": 5, "period": "day"})
    assert (budget["amount"], budget["spent"], budget["hard"]) == ("5.00", "0", True)
    upstream.reset()
    # All in flight together while billing decides the 150 reservations one after another.
    upstream.script(latency_ms=3000, times=150)

    served, refused = asyncio.run(concurrent_asks(suite, 150))

    assert served, "the budget covers a few"
    assert len(served) < 10
    assert {e.status_code for e in refused} == {402}
    body = refused[0].body
    assert isinstance(body, dict) and body["type"] == "budget_exceeded"
    assert f"key {key_id} budget ($5.00 per day)" in body["message"]
    # While the served ones run, the budget is held, not spent: each refusal says to wait.
    assert {e.response.headers.get("retry-after") for e in refused} == {"1"}
    assert {e.code for e in refused} == {"in_flight_credit_exhausted"}
    assert len(upstream.requests()) == len(served)  # nothing sent upstream for a 402
    total = charged_exactly(suite, served)
    assert total <= 5

    def spent() -> str | None:
        [row] = admin.ok("GET", "/v1/budgets")["data"]
        return row["spent"] if D(row["spent"]) == total else None

    eventually(spent)
    [row] = admin.ok("GET", "/v1/budgets")["data"]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert (row["scope"], row["id"], row["period"]) == ("key", key_id, "day")
    assert row["periodStart"] == f"{today}T00:00:00.000Z"
    # Removing the budget lifts the cap at once.
    admin.ok("DELETE", f"/v1/budgets/key/{key_id}", 204)
    upstream.reset()
    completion = _client(suite, admin).chat.completions.create(
        model=PRICEY, messages=[{"role": "user", "content": "again"}]
    )
    charged_exactly(suite, [completion])


def test_owners_set_budgets_members_read_them_other_teams_ids_are_404(
    suite: Stack, tenant: Tenant
) -> None:
    owner, member, viewer = tenant.owner, tenant.member, tenant.viewer
    path = f"/v1/budgets/project/{tenant.project_id}"
    created = owner.ok("PUT", path, 201, json={"amount": "10.50", "period": "month"})
    replaced = owner.ok("PUT", path, 200, json={"amount": "12", "period": "day", "hard": False})
    assert created["createdAt"] == replaced["createdAt"]
    assert (replaced["amount"], replaced["period"], replaced["hard"]) == ("12.00", "day", False)
    owner.ok(
        "PUT", f"/v1/budgets/team/{tenant.team_id}", 201, json={"amount": 50, "period": "month"}
    )
    key = tenant.key_ids["member"]
    owner.ok("PUT", f"/v1/budgets/key/{key}", 201, json={"amount": "1", "period": "day"})
    for reader in (owner, member, viewer):
        listed = reader.ok("GET", "/v1/budgets")["data"]
        assert [(b["scope"], b["id"]) for b in listed] == [
            ("team", tenant.team_id),
            ("project", tenant.project_id),
            ("key", key),
        ]
    for other in (member, viewer):
        reply = other.call("PUT", path, json={"amount": "1", "period": "day"})
        assert reply.status_code == 403 and reply.json()["error"]["type"] == "forbidden"
        assert other.call("DELETE", path).status_code == 403

    stranger = new_tenant(AdminSuite(suite, "sqlite", Secrets()), "stranger")
    for scope, scope_id in (
        ("project", stranger.project_id),
        ("key", stranger.key_ids["owner"]),
        ("team", stranger.team_id),
        ("project", "prj_nope"),
    ):
        reply = owner.call(
            "PUT", f"/v1/budgets/{scope}/{scope_id}", json={"amount": 1, "period": "day"}
        )
        assert reply.status_code == 404, (scope, reply.text)
        assert reply.json()["error"]["type"] == "not_found"
    assert stranger.owner.ok("GET", "/v1/budgets")["data"] == []

    for body, param in (
        ({"amount": "0", "period": "day"}, "amount"),
        ({"amount": "1.001", "period": "day"}, "amount"),
        ({"amount": True, "period": "day"}, "amount"),
        ({"period": "day"}, "amount"),
        ({"amount": "1", "period": "week"}, "period"),
        ({"amount": "1", "period": "day", "hard": "yes"}, "hard"),
        ({"amount": "1", "period": "day", "colour": "red"}, "colour"),
    ):
        reply = owner.call("PUT", path, json=body)
        assert reply.status_code == 400, body
        assert reply.json()["error"]["param"] == param
    assert (
        owner.call("PUT", "/v1/budgets/org/x", json={"amount": 1, "period": "day"}).status_code
        == 400
    )
    assert owner.ok("GET", "/v1/budgets")["data"][1]["amount"] == "12.00"  # nothing changed

    owner.ok("DELETE", path, 204)
    assert owner.call("DELETE", path).status_code == 404
    target = {"type": "project", "id": tenant.project_id}
    for type_ in ("spend-created", "spend-updated", "spend-deleted"):
        assert eventually(lambda t=type_: target in [e["target"] for e in _activity(owner, t)])


def test_embeddings_get_the_same_preflight(
    suite: Stack, tenant: Tenant, upstream: Upstream
) -> None:
    owner = tenant.owner
    owner.ok(
        "PUT", f"/v1/budgets/team/{tenant.team_id}", 201, json={"amount": "0.05", "period": "day"}
    )
    upstream.reset()
    text = "the quick brown fox jumps over the lazy dog"  # about 23 tokens at most: $0.23
    with pytest.raises(openai.APIStatusError) as refused:
        _client(suite, owner).embeddings.create(model=EMBED, input=text)
    assert refused.value.status_code == 402
    body = refused.value.body
    assert isinstance(body, dict) and body["type"] == "budget_exceeded"
    assert upstream.requests() == []  # nothing sent upstream

    owner.ok(
        "PUT", f"/v1/budgets/team/{tenant.team_id}", 200, json={"amount": "1", "period": "day"}
    )
    served = _client(suite, owner).embeddings.create(model=EMBED, input=text)
    assert len(upstream.requests()) == 1
    cost = served.usage.prompt_tokens * EMBED_PRICE

    def spent() -> bool:
        [row] = owner.ok("GET", "/v1/budgets")["data"]
        return D(row["spent"]) == cost

    assert eventually(spent)


def test_the_report_groups_by_end_user_and_tag(suite: Stack, tenant: Tenant) -> None:
    client = _client(suite, tenant.member)
    costs: dict[str, Decimal] = {}
    for user, tags in (("alice", ["beta", "search"]), ("bob", ["beta"]), ("alice", [])):
        completion = client.chat.completions.create(
            model=PRICEY,
            messages=[{"role": "user", "content": f"hi {user}"}],
            extra_body={"providerOptions": {"gateway": {"user": user, "tags": tags}}},
        )
        costs[completion.id] = _charged(tenant.member, completion)
    total = sum(costs.values(), D(0))
    for bad, param in (({"tags": "beta"}, "tags"), ({"user": 1}, "user"), ({"tags": [1]}, "tags")):
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                model=PRICEY,
                messages=[{"role": "user", "content": "x"}],
                extra_body={"providerOptions": {"gateway": bad}},
            )
        body = refused.value.body
        assert isinstance(body, dict) and body["param"] == f"providerOptions.gateway.{param}"

    today = dt.datetime.now(dt.UTC).date().isoformat()

    def report(**params: str) -> list[dict[str, Any]]:
        query = {"start_date": today, "end_date": today, **params}
        rows: list[dict[str, Any]] = tenant.viewer.ok("GET", "/v1/report", params=query)["results"]
        return rows

    by_user = {row["user"]: row["request_count"] for row in report(group_by="user")}
    assert by_user == {"alice": 2, "bob": 1}
    by_tag = {row["tag"]: row["request_count"] for row in report(group_by="tag")}
    assert by_tag == {"beta": 2, "search": 1}  # the first generation counts in both
    [everything] = report(group_by="model")
    assert D(str(everything["total_cost"])) == total
    [alice] = report(group_by="model", user_id="alice")
    assert alice["request_count"] == 2
    assert [r["request_count"] for r in report(group_by="model", tags="search,nope")] == [1]


def test_the_operator_adjusts_a_teams_credits_once_and_never_below_zero_unless_allowed(
    suite: Stack, tenant: Tenant
) -> None:
    owner = tenant.owner
    operator = AdminSuite(suite, "sqlite", Secrets()).api()
    start = D(owner.ok("GET", "/v1/credits")["balance"])  # 0: the team made no request yet
    body = {"amount": "2.50", "reason": "goodwill", "idempotencyKey": "gw-1"}
    # Owners and members may not grant their own team credit (docs/billing.md, "Credits").
    for api in (owner, tenant.member):
        assert api.call("POST", "/v1/credits/adjustments", json=body).status_code == 403
    assert D(owner.ok("GET", "/v1/credits")["balance"]) == start
    body = {**body, "teamId": tenant.team_id}
    first = operator.ok("POST", "/v1/credits/adjustments", json=body)
    again = operator.ok("POST", "/v1/credits/adjustments", json=body)
    assert D(first["balance"]) == D(again["balance"]) == start + D("2.5")
    reply = operator.call(
        "POST",
        "/v1/credits/adjustments",
        json={
            "amount": "-3",
            "reason": "correction",
            "idempotencyKey": "fix-1",
            "teamId": tenant.team_id,
        },
    )
    assert reply.status_code == 409 and reply.json()["error"]["param"] == "amount"
    assert D(owner.ok("GET", "/v1/credits")["balance"]) == start + D("2.5")
    for bad, param in (
        ({"amount": "0", "reason": "r", "idempotencyKey": "k"}, "amount"),
        ({"amount": "1.001", "reason": "r", "idempotencyKey": "k"}, "amount"),
        ({"amount": "1", "idempotencyKey": "k"}, "reason"),
        ({"amount": "1", "reason": "r"}, "idempotencyKey"),
        ({"amount": "-1", "reason": "r", "idempotencyKey": "k", "kind": "refund"}, "amount"),
        ({"amount": "1", "reason": "r", "idempotencyKey": "k", "kind": "gift"}, "kind"),
    ):
        reply = operator.call(
            "POST", "/v1/credits/adjustments", json={**bad, "teamId": tenant.team_id}
        )
        assert reply.status_code == 400, bad
        assert reply.json()["error"]["param"] == param

    # The CLI: an allowed overdraft, then a refund.
    team = ("--team", tenant.team_id)
    done = cli(
        suite,
        "credits",
        "adjust",
        "--reason",
        "chargeback",
        "--idempotency-key",
        "cb-1",
        "--allow-negative",
        "-3",
        *team,
    )
    assert D(done["balance"]) == start - D("0.5")
    done = cli(
        suite,
        "credits",
        "adjust",
        "1",
        "--kind",
        "refund",
        "--reason",
        "r",
        "--idempotency-key",
        "r1",
        *team,
    )
    assert D(done["balance"]) == start + D("0.5")
    events = eventually(lambda: len(_activity(owner, "credits-adjusted")) >= 3 or None)
    assert events
    reasons = {e["details"]["reason"] for e in _activity(owner, "credits-adjusted")}
    assert reasons == {"goodwill", "chargeback", "r"}


def test_the_cli_sets_lists_and_deletes_budgets(suite: Stack, tenant: Tenant) -> None:
    key = tenant.owner.key
    project = tenant.project_id
    made = cli(suite, "budgets", "set", "project", project, "7.5", "--period", "day", key=key)
    assert (made["amount"], made["period"], made["hard"]) == ("7.50", "day", True)
    [listed] = cli(suite, "budgets", "list", key=tenant.viewer.key)
    assert (listed["scope"], listed["id"], listed["spent"]) == ("project", project, "0")
    cli(suite, "budgets", "delete", "project", project, key=key)
    assert cli(suite, "budgets", "list", key=key) == []
    refused = tollgate(suite, "budgets", "set", "project", project, "1", key=tenant.member.key)
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout
