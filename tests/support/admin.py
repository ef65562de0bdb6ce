"""Helpers of the admin API suite tests: the suite on SQLite and (when available) with the auth
database on PostgreSQL, an HTTP client, and tenants (a team with an owner, a member and a
viewer, each with a key of their own, and a project) that share nothing with each other."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig
from tollgate_common.testing import POSTGRES_ENV, fresh_postgres_database

from tests.support.upstreams import UPSTREAM_KEY, Upstream


@dataclass
class Secrets:
    """Every API key the tests saw, to look for in logs and error bodies afterwards."""

    keys: list[str] = field(default_factory=list)


@dataclass
class Api:
    base: str
    key: str
    secrets: Secrets

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        reply = httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)
        if reply.status_code >= 400:
            for secret in self.secrets.keys:
                assert secret not in reply.text, "an API key appeared in an error body"
        return reply

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        reply = self.call(method, path, **kwargs)
        assert reply.status_code == status, reply.text
        return reply.json() if reply.content else None

    def as_key(self, key: str) -> Api:
        return Api(self.base, key, self.secrets)


@dataclass
class AdminSuite:
    stack: Stack
    database: str
    secrets: Secrets

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.stack.config.ports.public}"

    def api(self, key: str | None = None) -> Api:
        return Api(self.origin, key or self.stack.bootstrap_key(), self.secrets)


@dataclass
class Tenant:
    team_id: str
    slug: str
    owner: Api
    member: Api
    viewer: Api
    owner_id: str
    member_id: str
    viewer_id: str
    project_id: str
    key_ids: dict[str, str]


def new_tenant(suite: AdminSuite, label: str) -> Tenant:
    """A fresh team whose only members are its own owner, member and viewer."""
    admin = suite.api()
    slug = f"{label}-{uuid.uuid4().hex[:10]}"
    team = admin.ok("POST", "/v1/teams", 201, json={"slug": slug, "name": label.title()})
    team_id = team["id"]
    users: dict[str, str] = {}
    keys: dict[str, Api] = {}
    key_ids: dict[str, str] = {}
    for role in ("owner", "member", "viewer"):
        member = admin.ok(
            "POST",
            f"/v1/teams/{team_id}/members",
            201,
            json={"email": f"{role}@{slug}.example", "role": role},
        )
        users[role] = member["userId"]
        created = admin.ok(
            "POST",
            "/v1/api-keys",
            201,
            json={"name": f"{role} key", "teamId": team_id, "userId": member["userId"]},
        )
        suite.secrets.keys.append(created["key"])
        keys[role] = admin.as_key(created["key"])
        key_ids[role] = created["id"]
    project = admin.ok("POST", f"/v1/teams/{team_id}/projects", 201, json={"name": "web"})
    # The bootstrap user leaves: the tenant's people are its only members.
    me = admin.ok("GET", "/v1/me")
    admin.ok("DELETE", f"/v1/teams/{team_id}/members/{me['user']['id']}", 204)
    return Tenant(
        team_id=team_id,
        slug=slug,
        owner=keys["owner"],
        member=keys["member"],
        viewer=keys["viewer"],
        owner_id=users["owner"],
        member_id=users["member"],
        viewer_id=users["viewer"],
        project_id=project["id"],
        key_ids=key_ids,
    )


def refused_within_one_second(call: Callable[[], httpx.Response]) -> httpx.Response:
    """Poll ``call`` for up to one second until it answers 401; the last answer."""
    deadline = time.monotonic() + 1.0
    while True:
        reply = call()
        if reply.status_code == 401 or time.monotonic() >= deadline:
            return reply
        time.sleep(0.05)


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def admin_suite(
    request: pytest.FixtureRequest,
    stack: Stack,
    upstream: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AdminSuite]:
    """The suite on SQLite (the shared one), or a second one whose auth database is a fresh
    PostgreSQL database (skipped without TOLLGATE_TEST_POSTGRES_URL)."""
    secrets = Secrets([stack.bootstrap_key()])
    if request.param == "sqlite":
        yield AdminSuite(stack, "sqlite", secrets)
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL tests skipped")
    database = fresh_postgres_database(base_url, "tollgate_admin_suite")
    loop = asyncio.new_event_loop()
    try:
        url = loop.run_until_complete(database.__aenter__())
        config = StackConfig(
            data_dir=tmp_path_factory.mktemp("tollgate-admin-pg"),
            ports=Ports.free(),
            env={
                "TOLLGATE_AUTH_DATABASE_URL": url,
                "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
                "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
            },
        )
        with Stack(config) as running:
            secrets.keys.append(running.bootstrap_key())
            yield AdminSuite(running, "postgres", secrets)
    finally:
        loop.run_until_complete(database.__aexit__(None, None, None))
        loop.close()
