"""Running the Node clients of tests/clients/node/ against the suite (Envoy's public port).

Each ``<client>.mjs`` takes a command and prints one JSON object (see ``node/common.mjs``).
Tests that use :func:`node_client` skip, saying so, when ``node`` is not installed; with node
present, the pinned packages must be there (``make install`` runs ``npm ci``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from tollgate_cli.stack import Stack

from tests.support import REPO

NODE_DIR = REPO / "tests" / "clients" / "node"
_TIMEOUT_SECONDS = 120

NodeClient = Callable[..., dict[str, Any]]


def node_binary() -> str:
    """The ``node`` executable; skips the test when there is none."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Node client tests (openai, ai, @ai-sdk/*) skip")
    if not (NODE_DIR / "node_modules" / "ai").is_dir():
        pytest.fail(f"{NODE_DIR}/node_modules is missing: run `make install` (npm ci)")
    return node


def npm_cli(command: str, product: str) -> Path:
    """The CLI ``command`` an npm package of ``node/`` installed (Claude Code, Codex); skips
    the test when npm is missing (nothing could have installed it), fails when npm is there
    but ``make install`` was not run."""
    binary = NODE_DIR / "node_modules" / ".bin" / command
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        pytest.skip(f"npm is not installed, so `make install` could not install {product}")
    pytest.fail(f"{binary} is missing: run `make install` (npm ci in {NODE_DIR})")


def run_node(
    node: str,
    stack: Stack,
    script: str,
    command: str,
    api_key: str,
    extra_env: dict[str, str],
    **args: Any,
) -> dict[str, Any]:
    """``node <script> <command>`` against ``stack``; the JSON it printed."""
    env = {
        **os.environ,
        **extra_env,
        "TOLLGATE_BASE_URL": stack.base_url,
        "TOLLGATE_API_KEY": api_key,
        "TOLLGATE_ARGS": orjson.dumps(args).decode(),
    }
    done = subprocess.run(
        [node, str(NODE_DIR / script), command],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"{script} {command} failed:\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"{script} {command} printed nothing:\n{done.stderr}"
    result: dict[str, Any] = orjson.loads(lines[-1])
    return result


def node_client(
    script: str, api_key: str | None = None, env: dict[str, str] | None = None
) -> Callable[[Stack], NodeClient]:
    """A fixture body: ``client(command, **args)`` runs ``script`` against the suite, with the
    suite's bootstrap key unless ``api_key`` is given, and ``env`` added to its environment."""

    def make(stack: Stack) -> NodeClient:
        node = node_binary()
        key = api_key or stack.bootstrap_key()

        def client(command: str, **args: Any) -> dict[str, Any]:
            return run_node(node, stack, script, command, key, env or {}, **args)

        return client

    return make


def ok(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` of a command that must have succeeded."""
    assert "error" not in result, f"the client threw: {result['error']}"
    return result
