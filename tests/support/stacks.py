"""The suite's stack configuration: every service in front of the fake providers, with the
suite's catalog. The session's ``stack`` fixture uses it, and a test module that must break its
own stack (kill a process) starts one more the same way."""

from __future__ import annotations

import orjson
import pytest
from tollgate_cli.stack import Ports, StackConfig

from tests.support.catalog import SUITE_CATALOG
from tests.support.upstreams import ANTHROPIC_KEY, GEMINI_KEY, UPSTREAM_KEY, Upstream


def suite_config(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: Upstream,
    anthropic_upstream: Upstream,
    gemini_upstream: Upstream,
) -> StackConfig:
    catalog_file = tmp_path_factory.mktemp("tollgate-catalog") / "catalog.json"
    catalog_file.write_bytes(orjson.dumps(SUITE_CATALOG))
    return StackConfig(
        data_dir=tmp_path_factory.mktemp("tollgate-data"),
        ports=Ports.free(),
        env={
            "TOLLGATE_PROVIDER_OPENAI_BASE_URL": f"{upstream.url}/v1",
            "TOLLGATE_PROVIDER_OPENAI_API_KEY": UPSTREAM_KEY,
            "TOLLGATE_PROVIDER_ANTHROPIC_BASE_URL": f"{anthropic_upstream.url}/v1",
            "TOLLGATE_PROVIDER_ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "TOLLGATE_PROVIDER_GOOGLE_BASE_URL": f"{gemini_upstream.url}/v1beta",
            "TOLLGATE_PROVIDER_GOOGLE_API_KEY": GEMINI_KEY,
            "TOLLGATE_CATALOG_FILE": str(catalog_file),
        },
    )
