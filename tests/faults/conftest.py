"""The fault suite's stack: the whole suite as processes in front of the session's fake OpenAI
upstream, slowed down (a latency before each answer, a delay between stream chunks) so that a
SIGKILL lands while requests are in flight. One stack per database for the module: on SQLite,
and on PostgreSQL (billing's, activity's, auth's and the router's databases each a fresh one)
when TOLLGATE_TEST_POSTGRES_URL is set — for the tests marked ``harness.on_both_databases``, those whose
outcome depends on the database (holds and leases under row locks, recovery on the same data, a
database outage); the others run on SQLite only, which keeps the tier within minutes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator

import pytest
from tollgate_cli.stack import Ports, Stack, StackConfig
from tollgate_common.testing import POSTGRES_ENV, fresh_postgres_database

from tests.faults.harness import CATALOG, pace
from tests.support.upstreams import UPSTREAM_KEY, Upstream


@pytest.fixture(scope="module")
def faults_stack(
    request: pytest.FixtureRequest, upstream: Upstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    database = getattr(request, "param", "sqlite")
    data = tmp_path_factory.mktemp(f"faults-{database}")
    catalog = data / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    env = {
        "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
        "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
        "TOLLGATE_CATALOG_FILE": str(catalog),
    }
    pace(upstream)
    with contextlib.ExitStack() as cleanup:
        if database == "postgres":
            base_url = os.environ.get(POSTGRES_ENV)
            if not base_url:
                pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL tests skipped")
            loop = asyncio.new_event_loop()
            cleanup.callback(loop.close)
            databases = contextlib.AsyncExitStack()
            cleanup.callback(lambda: loop.run_until_complete(databases.aclose()))
            for service in ("auth", "router", "billing", "activity"):
                fresh = fresh_postgres_database(base_url, f"tollgate_faults_{service}")
                env[f"TOLLGATE_{service.upper()}_DATABASE_URL"] = loop.run_until_complete(
                    databases.enter_async_context(fresh)
                )
        config = StackConfig(data_dir=data / "data", ports=Ports.free(), env=env)
        with Stack(config) as running:
            yield running
    upstream.reset()
