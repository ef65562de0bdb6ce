"""Codex CLI itself (``@openai/codex``, its native binary from npm) in non-interactive mode,
``codex exec``, pointed at Tollgate by a custom model provider in a temporary ``CODEX_HOME``'s
``config.toml`` (``base_url`` = Tollgate's ``/v1``, ``wire_api = "responses"``, the key from an
environment variable), update checks, analytics and telemetry off: it reaches no host but
Tollgate, which serves it from the suite's fake providers.

What Codex sends (docs/clients.md) is taken as docs/responses.md says: ``client_metadata``
ignored, ``prompt_cache_key`` forwarded to OpenAI, its ``web_search`` and ``namespace`` tools
left out, its function tools (``exec_command``, ...) offered to the model.

The tests that run Codex skip, saying so, without npm (nothing could have installed the
binary); with npm present, ``make install`` must have installed it. The last tests send what
Codex sends (captured from 0.169) without it, so that surface is checked everywhere."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tollgate_cli.stack import Stack

from tests.support.catalog import ANTHROPIC_MODEL
from tests.support.node_clients import npm_cli
from tests.support.polling import eventually
from tests.support.py_clients import CHAT_MODEL, Gateway, sent
from tests.support.upstreams import Upstream

_TIMEOUT_SECONDS = 60
_CONFIG = """\
check_for_update_on_startup = false
model = "{model}"
model_provider = "tollgate"

[analytics]
enabled = false

[otel]
exporter = "none"

[model_providers.tollgate]
name = "Tollgate"
base_url = "{base_url}"
env_key = "TOLLGATE_API_KEY"
wire_api = "responses"
"""


@pytest.fixture
def codex_binary() -> Path:
    return npm_cli("codex", "Codex CLI")


def codex_exec(
    binary: Path, gateway: Gateway, tmp_path: Path, model: str, prompt: str, *flags: str
) -> str:
    """``codex exec <prompt>`` in a fresh project directory; what it printed on stdout."""
    home, workdir = tmp_path / "codex-home", tmp_path / "project"
    home.mkdir(exist_ok=True)
    workdir.mkdir(exist_ok=True)
    (home / "config.toml").write_text(_CONFIG.format(model=model, base_url=gateway.base_url))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CODEX_HOME": str(home),
        "TOLLGATE_API_KEY": gateway.api_key,
    }
    done = subprocess.run(
        [str(binary), "exec", "--skip-git-repo-check", *flags, prompt],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, (
        f"codex exec failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@pytest.fixture
def gateway(stack: Stack) -> Gateway:
    """Tollgate with a key of this test's own, so that its request-log rows are told apart from
    the rows of earlier tests that land late (facts are applied in batches)."""
    reply = httpx.post(
        f"{stack.base_url}/api-keys",
        json={"name": "codex"},
        headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
    )
    assert reply.status_code == 201, reply.text
    return Gateway(base_url=stack.base_url, api_key=reply.json()["key"])


def request_log(gateway: Gateway) -> list[dict[str, Any]]:
    """The team's request log rows made with ``gateway``'s key."""
    headers = {"authorization": f"Bearer {gateway.api_key}"}
    me = httpx.get(f"{gateway.base_url}/me", headers=headers)
    me.raise_for_status()
    reply = httpx.get(f"{gateway.base_url}/requests", params={"limit": "100"}, headers=headers)
    reply.raise_for_status()
    return [r for r in reply.json()["data"] if r["keyId"] == me.json()["keyId"]]


def new_rows(gateway: Gateway, before: set[str], count: int) -> list[dict[str, Any]]:
    """The rows the activity log recorded since ``before``, once there are ``count`` of them."""

    def found() -> list[dict[str, Any]] | None:
        rows = [r for r in request_log(gateway) if r["generationId"] not in before]
        return rows if len(rows) >= count else None

    return eventually(found)


def test_codex_exec_prints_the_models_answer(
    stack: Stack, gateway: Gateway, codex_binary: Path, fresh_upstream: Upstream, tmp_path: Path
) -> None:
    fresh_upstream.script(reply="Hello from GPT through Tollgate.")
    before = {r["generationId"] for r in request_log(gateway)}

    printed = codex_exec(codex_binary, gateway, tmp_path, CHAT_MODEL, "Say hello")

    assert printed.strip() == "Hello from GPT through Tollgate."
    [body] = sent(fresh_upstream, "/chat/completions")
    assert body["model"] == "gpt-4o" and body["stream"] is True
    # Codex's instructions come as developer messages; the prompt is the last user message.
    assert body["messages"][0]["role"] == "developer"
    assert body["messages"][-1] == {"role": "user", "content": "Say hello"}
    # Its session id, sent as prompt_cache_key, reaches OpenAI as OpenAI's own.
    assert isinstance(body["prompt_cache_key"], str) and body["prompt_cache_key"]
    # Function tools are offered; web_search and the namespace tool are left out.
    names = [t["function"]["name"] for t in body["tools"]]
    assert "exec_command" in names and "web_search" not in names
    [row] = new_rows(gateway, before, 1)
    assert row["surface"] == "responses" and row["model"] == CHAT_MODEL
    assert row["provider"] == "openai" and float(row["cost"]) > 0


@pytest.mark.parametrize("model", [CHAT_MODEL, ANTHROPIC_MODEL])
def test_codex_runs_the_shell_command_the_model_asks_for(
    stack: Stack,
    gateway: Gateway,
    codex_binary: Path,
    fresh_upstream: Upstream,
    fresh_anthropic: Upstream,
    tmp_path: Path,
    model: str,
) -> None:
    """The model asks Codex's ``exec_command`` tool to read a file; Codex runs it locally and
    sends the output back as a ``function_call_output``, which reaches the model as the tool
    result; then Codex prints the model's final answer."""
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "notes.txt").write_text("the launch code is tulip-42\n")
    command = {"cmd": "cat notes.txt"}
    if model == CHAT_MODEL:
        upstream, path = fresh_upstream, "/chat/completions"
        upstream.script(tool_calls=[{"name": "exec_command", "arguments": command}])
    else:
        upstream, path = fresh_anthropic, "/messages"
        upstream.script(reply="", tool_use={"name": "exec_command", "input": command})
    upstream.script(reply="The launch code is tulip-42.")
    before = {r["generationId"] for r in request_log(gateway)}

    printed = codex_exec(
        codex_binary, gateway, tmp_path, model, "What is the launch code in notes.txt?", "--json"
    )

    events = [orjson.loads(line) for line in printed.splitlines() if line.startswith("{")]
    items = [e["item"] for e in events if e["type"] == "item.completed"]
    [ran] = [i for i in items if i["type"] == "command_execution"]
    assert "cat notes.txt" in ran["command"] and ran["exit_code"] == 0
    assert [i["text"] for i in items if i["type"] == "agent_message"] == [
        "The launch code is tulip-42."
    ]
    _first, follow_up = sent(upstream, path)
    # What the command printed reached the model as the tool call's result.
    assert "the launch code is tulip-42" in orjson.dumps(follow_up["messages"][-1]).decode()
    rows = new_rows(gateway, before, 2)
    assert len(rows) == 2 and {r["surface"] for r in rows} == {"responses"}
    assert {r["model"] for r in rows} == {model}


# What Codex 0.169 sends beside its input and function tools (captured from it), for the tests
# below that need no Codex binary.
_CODEX_FIELDS: dict[str, Any] = {
    "store": False,
    "stream": False,
    "include": ["reasoning.encrypted_content"],
    "reasoning": {"summary": "auto"},
    "prompt_cache_key": "01a24b6a-4215-72d3-9a05-ed369ab1d34e",
    "client_metadata": {"session_id": "01a24b6a", "x-codex-turn-metadata": "{" + "x" * 700 + "}"},
    "tools": [
        {"type": "function", "name": "exec_command", "parameters": {"type": "object"}},
        {
            "type": "namespace",
            "name": "multi_agent_v1",
            "description": "sub-agents",
            "tools": [{"type": "function", "name": "spawn_agent", "parameters": {}}],
        },
        {"type": "web_search", "external_web_access": False},
    ],
}


@pytest.mark.parametrize("model", [CHAT_MODEL, ANTHROPIC_MODEL])
def test_codexs_request_fields_are_taken(
    gateway: Gateway, fresh_upstream: Upstream, fresh_anthropic: Upstream, model: str
) -> None:
    body = {
        "model": model,
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "Be brief."}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        ],
        **_CODEX_FIELDS,
    }

    reply = httpx.post(
        f"{gateway.base_url}/responses",
        json=body,
        headers={"authorization": f"Bearer {gateway.api_key}"},
    )

    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "completed"
    if model == CHAT_MODEL:
        [upstream] = sent(fresh_upstream, "/chat/completions")
        assert [t["function"]["name"] for t in upstream["tools"]] == ["exec_command"]
        assert upstream["prompt_cache_key"] == _CODEX_FIELDS["prompt_cache_key"]
        assert upstream["messages"][0] == {"role": "developer", "content": "Be brief."}
    else:
        [upstream] = sent(fresh_anthropic, "/messages")
        assert [t["name"] for t in upstream["tools"]] == ["exec_command"]
    assert "client_metadata" not in upstream and "x-codex-turn-metadata" not in str(upstream)


@pytest.mark.parametrize(
    ("field", "param"),
    [
        ({"client_metadata": {"turn": 1}}, "client_metadata"),
        ({"include": ["everything"]}, "include"),
        ({"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]}, "tools[0].type"),
        ({"tools": [{"type": "web_search"}], "tool_choice": {"type": "web_search"}}, "tool_choice"),
    ],
    ids=["client-metadata-not-strings", "unknown-include", "hosted-tool", "choice-of-web-search"],
)
def test_what_tollgate_cannot_take_is_a_400_naming_it(
    gateway: Gateway, fresh_upstream: Upstream, field: dict[str, Any], param: str
) -> None:
    reply = httpx.post(
        f"{gateway.base_url}/responses",
        json={"model": CHAT_MODEL, "input": "Hi", **field},
        headers={"authorization": f"Bearer {gateway.api_key}"},
    )

    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert fresh_upstream.requests() == []
