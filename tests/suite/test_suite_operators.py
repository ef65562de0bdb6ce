"""Operators through the whole suite (docs/permissions.md, "Operators"; docs/billing.md): only an
operator grants credit, to any team; operators make and unmake operators; a user collects one
free tier however many teams they create; the bootstrap identity cannot be deleted; credit bought
through the payment hook arrives only with a valid signature.

One suite for the module, in front of the session's fake OpenAI upstream with a priced model
(``test/pricey``), the free tier set to $3 (enough for a generation) and the payment hook on.
Every test makes users and teams of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import openai
import pytest
from tollgate_cli.stack import Stack

from tests.support.admin import Api, Secrets
from tests.support.billing import CATALOG, PRICEY, billing_suite, expected_cost
from tests.support.cli import ok as cli_ok
from tests.support.polling import eventually
from tests.support.upstreams import Upstream

D = Decimal
HOOK_SECRET = "hook-secret-for-the-suite"
FREE_TIER = D("3.00")


@pytest.fixture(scope="module")
def ops(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "TOLLGATE_PAYMENT_HOOK_SECRET": HOOK_SECRET,
        "TOLLGATE_BILLING_FREE_TIER_AMOUNT": str(FREE_TIER),
    }
    with billing_suite(upstream, tmp_path_factory.mktemp("operators"), CATALOG, env) as stack:
        yield stack


@dataclass
class User:
    id: str
    api: Api  # a key of theirs in the default team (a member there)


def operator(stack: Stack) -> Api:
    return Api(f"http://127.0.0.1:{stack.config.ports.public}", stack.bootstrap_key(), Secrets())


def new_user(stack: Stack, label: str) -> User:
    """A member of the default team (where anyone added starts) with a key of their own."""
    admin = operator(stack)
    team = admin.ok("GET", "/v1/me")["team"]["id"]
    email = f"{label}-{uuid.uuid4().hex[:8]}@example.com"
    member = admin.ok(
        "POST", f"/v1/teams/{team}/members", 201, json={"email": email, "role": "member"}
    )
    key = admin.ok("POST", "/v1/api-keys", 201, json={"name": label, "userId": member["userId"]})
    return User(member["userId"], admin.as_key(key["key"]))


def own_team(user: User, label: str) -> tuple[str, Api]:
    """A team ``user`` creates (becoming its owner), and a key of theirs in it."""
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    team = user.api.ok("POST", "/v1/teams", 201, json={"slug": slug, "name": label})
    key = user.api.ok("POST", "/v1/api-keys", 201, json={"name": slug, "teamId": team["id"]})
    return team["id"], user.api.as_key(key["key"])


def balance(api: Api) -> D:
    return D(api.ok("GET", "/v1/credits")["balance"])


def ask(stack: Stack, api: Api) -> openai.types.chat.ChatCompletion:
    client = openai.OpenAI(base_url=stack.base_url, api_key=api.key, max_retries=0)
    return client.chat.completions.create(
        model=PRICEY, messages=[{"role": "user", "content": "a b c"}]
    )


def refused(reply: httpx.Response, status: int, code: str | None = None) -> None:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if code is not None:
        assert error["code"] == code, error


# -- only operators grant credit -----------------------------------------------------------------


def test_an_owner_cannot_grant_credit_but_the_operator_can_to_any_team(ops: Stack) -> None:
    admin = operator(ops)
    alice = new_user(ops, "alice")
    team, alice_owner = own_team(alice, "alice")
    assert alice_owner.ok("GET", "/v1/me")["operator"] is False
    assert admin.ok("GET", "/v1/me")["operator"] is True

    # Alice owns the team, and still may not mint credit for it.
    refused(alice_owner.call("POST", "/v1/credits/top-up", json={"amount": "100"}), 403)
    adjustment = {"amount": "100", "reason": "why not", "idempotencyKey": "a-1"}
    refused(alice_owner.call("POST", "/v1/credits/adjustments", json=adjustment), 403)
    refused(alice.api.call("POST", "/v1/credits/top-up", json={"amount": "1", "teamId": team}), 403)
    assert balance(alice_owner) == 0

    # The operator, who is not a member of Alice's team, grants it credit.
    granted = admin.ok("POST", "/v1/credits/top-up", json={"amount": "10.50", "teamId": team})
    assert granted == {"balance": "10.50", "total_used": "0.00"}
    assert balance(alice_owner) == D("10.50")
    refund = {"amount": "2", "reason": "outage", "idempotencyKey": "r-1", "kind": "refund"}
    admin.ok("POST", "/v1/credits/adjustments", json={**refund, "teamId": team})
    assert balance(alice_owner) == D("12.50")

    # An unknown team is 404, a wrong teamId 400; nothing changes.
    missing = {"amount": "5", "teamId": "team_nope"}
    refused(admin.call("POST", "/v1/credits/top-up", json=missing), 404)
    refused(admin.call("POST", "/v1/credits/top-up", json={"amount": "5", "teamId": 7}), 400)
    assert balance(alice_owner) == D("12.50")


def test_the_operator_grants_credit_and_manages_operators_from_the_cli(ops: Stack) -> None:
    bob = new_user(ops, "bob")
    team, bob_owner = own_team(bob, "bob")
    after = cli_ok(ops, "credits", "top-up", "3.25", "--team", team)
    assert after == {"balance": "3.25", "total_used": "0.00"}
    assert balance(bob_owner) == D("3.25")

    promoted = cli_ok(ops, "operators", "add", bob.id)
    assert promoted["userId"] == bob.id and promoted["bootstrap"] is False
    assert bob.id in {o["userId"] for o in cli_ok(ops, "operators", "list")}
    assert cli_ok(ops, "me", key=bob.api.key)["operator"] is True
    cli_ok(ops, "operators", "remove", bob.id)
    assert bob.id not in {o["userId"] for o in cli_ok(ops, "operators", "list")}


def test_the_operator_promotes_a_user_who_then_grants_credit(ops: Stack) -> None:
    admin = operator(ops)
    carol, dave = new_user(ops, "carol"), new_user(ops, "dave")
    team, dave_owner = own_team(dave, "dave")
    grant = {"amount": "4", "teamId": team}

    refused(carol.api.call("GET", "/v1/operators"), 403)
    refused(carol.api.call("PUT", f"/v1/operators/{dave.id}"), 403)
    refused(carol.api.call("POST", "/v1/credits/top-up", json=grant), 403)

    promoted = admin.ok("PUT", f"/v1/operators/{carol.id}", 201)
    assert promoted == {
        "userId": carol.id,
        "email": promoted["email"],
        "bootstrap": False,
    }
    assert admin.ok("PUT", f"/v1/operators/{carol.id}", 200)["userId"] == carol.id  # no-op
    listed = {o["userId"]: o["bootstrap"] for o in admin.ok("GET", "/v1/operators")["data"]}
    assert listed[carol.id] is False and True in listed.values()
    assert carol.api.ok("GET", "/v1/me")["operator"] is True

    carol.api.ok("POST", "/v1/credits/top-up", json=grant)
    assert balance(dave_owner) == D(4)

    carol.api.ok("DELETE", f"/v1/operators/{carol.id}", 204)  # an operator may step down
    refused(carol.api.call("POST", "/v1/credits/top-up", json=grant), 403)
    assert balance(dave_owner) == D(4)
    refused(admin.call("PUT", "/v1/operators/user_nobody"), 404)
    refused(admin.call("DELETE", "/v1/operators/user_nobody"), 404)

    def logged() -> set[str] | None:
        events = admin.ok("GET", "/v1/activity")["data"]
        types = {e["type"] for e in events if e["target"] and e["target"]["id"] == carol.id}
        return types if {"operator-added", "operator-removed"} <= types else None

    assert eventually(logged)


# -- one free tier per user ----------------------------------------------------------------------


def test_a_user_collects_one_free_tier_however_many_teams_they_create(ops: Stack) -> None:
    erin = new_user(ops, "erin")
    _, first = own_team(erin, "erin-first")
    _, second = own_team(erin, "erin-second")

    completion = ask(ops, first)  # the first team's first request starts its free tier
    cost = expected_cost(completion.usage)
    assert eventually(lambda: balance(first) if balance(first) == FREE_TIER - cost else None)

    with pytest.raises(openai.APIStatusError) as no_credit:
        ask(ops, second)
    assert no_credit.value.status_code == 402
    assert balance(second) == 0

    # Teams the operator creates still start on the free tier.
    admin = operator(ops)
    slug = f"op-{uuid.uuid4().hex[:8]}"
    team = admin.ok("POST", "/v1/teams", 201, json={"slug": slug, "name": "Op"})
    key = admin.ok("POST", "/v1/api-keys", 201, json={"name": slug, "teamId": team["id"]})
    ask(ops, admin.as_key(key["key"]))


# -- the installation cannot lock itself out -----------------------------------------------------


def test_the_bootstrap_identity_cannot_be_deleted_or_demoted(ops: Stack) -> None:
    admin = operator(ops)
    me = admin.ok("GET", "/v1/me")
    team, user = me["team"]["id"], me["user"]["id"]

    refused(admin.call("DELETE", f"/v1/teams/{team}"), 409, "bootstrap_team")
    refused(admin.call("DELETE", f"/v1/operators/{user}"), 409, "bootstrap_operator")
    refused(admin.call("DELETE", f"/v1/teams/{team}/members/{user}"), 409, "bootstrap_team")
    demote = admin.call("PATCH", f"/v1/teams/{team}/members/{user}", json={"role": "member"})
    refused(demote, 409, "bootstrap_team")

    # Another owner of the default team cannot take it down either.
    frank = new_user(ops, "frank")
    admin.ok("PATCH", f"/v1/teams/{team}/members/{frank.id}", json={"role": "owner"})
    refused(frank.api.call("DELETE", f"/v1/teams/{team}"), 409, "bootstrap_team")
    refused(frank.api.call("DELETE", f"/v1/teams/{team}/members/{user}"), 409, "bootstrap_team")

    # The installation still answers, as its operator.
    after = admin.ok("GET", "/v1/me")
    assert (after["team"]["id"], after["role"], after["operator"]) == (team, "owner", True)
    assert admin.ok("GET", "/v1/models")["data"]


# -- the payment hook ----------------------------------------------------------------------------


def _signed(body: bytes, secret: str = HOOK_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "Tollgate-Signature": f"sha256={digest}"}


def test_the_payment_hook_is_off_unless_configured(stack: Stack) -> None:
    body = json.dumps({"teamId": "team_x", "amount": "5", "paymentId": "p"}).encode()
    reply = httpx.post(
        f"{stack.base_url}/credits/payment-hook", content=body, headers=_signed(body)
    )
    refused(reply, 404)


def test_the_payment_hook_credits_a_signed_payment_once(ops: Stack) -> None:
    gina = new_user(ops, "gina")
    team, gina_owner = own_team(gina, "gina")
    url = f"{ops.base_url}/credits/payment-hook"
    payment = {"teamId": team, "amount": "20", "paymentId": f"pay_{uuid.uuid4().hex}"}
    body = json.dumps(payment).encode()

    # No key: the signature is the credential. A bad one changes nothing.
    refused(httpx.post(url, content=body, headers=_signed(body, "wrong")), 401)
    refused(httpx.post(url, content=body, headers={"content-type": "application/json"}), 401)
    tampered = json.dumps({**payment, "amount": "2000"}).encode()
    refused(httpx.post(url, content=tampered, headers=_signed(body)), 401)
    assert balance(gina_owner) == 0

    reply = httpx.post(url, content=body, headers=_signed(body))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"balance": "20.00", "total_used": "0.00"}
    # A provider's retry of the same payment credits nothing more.
    assert httpx.post(url, content=body, headers=_signed(body)).status_code == 200
    assert balance(gina_owner) == D(20)

    bad = json.dumps({**payment, "amount": "-1"}).encode()
    refused(httpx.post(url, content=bad, headers=_signed(bad)), 400)
    assert balance(gina_owner) == D(20)


# -- billing must learn a team's free tier before the team can be used ---------------------------


def test_a_team_billing_cannot_be_told_about_is_not_created(ops: Stack) -> None:
    harry = new_user(ops, "harry")
    own_team(harry, "harry-first")  # Harry's one free tier
    slug = f"harry-second-{uuid.uuid4().hex[:8]}"
    billing = ops.child("billing")
    billing.process.send_signal(signal.SIGTERM)
    billing.process.wait(timeout=30)
    try:
        reply = harry.api.call("POST", "/v1/teams", json={"slug": slug, "name": "Second"})
        assert reply.status_code in (502, 503), reply.text  # billing is unreachable
        assert slug not in {t["slug"] for t in harry.api.ok("GET", "/v1/teams")["data"]}
    finally:
        ops.respawn("billing")

    def created() -> httpx.Response | None:
        reply = harry.api.call("POST", "/v1/teams", json={"slug": slug, "name": "Second"})
        return reply if reply.status_code == 201 else None

    team = eventually(created).json()  # the slug is free again: nothing was left behind
    key = harry.api.ok("POST", "/v1/api-keys", 201, json={"name": slug, "teamId": team["id"]})

    def answer() -> int | None:  # the router may take a moment to reach billing again
        try:
            ask(ops, harry.api.as_key(key["key"]))
        except openai.APIStatusError as error:
            return None if error.status_code == 503 else error.status_code
        return 200

    assert eventually(answer) == 402  # no second free tier
