"""Claude Code itself (``@anthropic-ai/claude-code``, its native binary from npm) in print mode,
``claude -p``, pointed at Tollgate with nothing but ``ANTHROPIC_BASE_URL`` (the root) and
``ANTHROPIC_AUTH_TOKEN`` (a Tollgate key, sent as a bearer token), the model a catalog id, and
telemetry, auto-update and non-essential traffic off in a temporary ``HOME``: it reaches no host
but Tollgate, which serves it from the suite's fake Anthropic.

Claude Code shapes its requests by the model id: for a Claude id (``anthropic/claude-sonnet-4``)
it sends ``context_management``, a ``defer_loading`` tool and ``anthropic-beta`` headers, for
any other (an OpenAI or a Gemini catalog model) adaptive thinking, ``output_config.effort`` and
system messages; Tollgate takes them all, so ``claude -p`` works on every provider with no
request refused — a pass-through proxy between Claude Code and Tollgate records every status
(a refusal never reaches a fake provider, and Claude Code would retry it unseen).

Skips, saying so, without npm (nothing could have installed the binary); with npm present,
``make install`` must have installed it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from tollgate_cli.stack import Stack

from tests.support.api import generation
from tests.support.node_clients import npm_cli
from tests.support.polling import eventually
from tests.support.py_clients import Gateway, activity_row, gateway
from tests.support.recording_proxy import recording_proxy
from tests.support.upstreams import Upstream

__all__ = ["gateway"]

MODEL = "anthropic/claude-sonnet-4"
UPSTREAM_MODEL = "claude-sonnet-4-20250514"  # the catalog's provider model id for it
_TIMEOUT_SECONDS = 90


@pytest.fixture
def claude_binary() -> Path:
    return npm_cli("claude", "Claude Code")


def claude(
    binary: Path,
    stack: Stack,
    workdir: Path,
    home: Path,
    prompt: str,
    model: str = MODEL,
    base_url: str = "",
) -> list[dict[str, Any]]:
    """``claude -p <prompt>`` in ``workdir`` (Tollgate at ``base_url``, its root by default);
    the JSON events it printed (stream-json)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url or stack.base_url.removesuffix("/v1"),
        "ANTHROPIC_AUTH_TOKEN": stack.bootstrap_key(),
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_SMALL_FAST_MODEL": model,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    done = subprocess.run(
        [str(binary), "-p", prompt, "--output-format", "stream-json", "--verbose"],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    events = [orjson.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, (
        f"claude -p failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return events


def result_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    [result] = [e for e in events if e.get("type") == "result"]
    assert result["is_error"] is False, result
    return result


def message_ids(events: list[dict[str, Any]]) -> list[str]:
    """The ids of the assistant messages Claude Code received, in order (once each)."""
    ids = [e["message"]["id"] for e in events if e.get("type") == "assistant"]
    return list(dict.fromkeys(ids))


def test_print_mode_prints_the_answer_and_tollgate_bills_it(
    stack: Stack,
    gateway: Gateway,
    claude_binary: Path,
    fresh_anthropic: Upstream,
    tmp_path: Path,
) -> None:
    fresh_anthropic.script(reply="Hello from Claude through Tollgate.")

    events = claude(claude_binary, stack, tmp_path, tmp_path, "Say hello")

    result = result_of(events)
    assert result["result"] == "Hello from Claude through Tollgate."
    [sent] = fresh_anthropic.requests()
    body: Any = sent["body"]
    assert body["model"] == UPSTREAM_MODEL and body["stream"] is True
    assert "Say hello" in orjson.dumps(body["messages"]).decode()
    [message_id] = message_ids(events)
    record = eventually(lambda: generation(stack, message_id))
    assert record["model"] == MODEL and record["provider_name"] == "anthropic"
    assert record["streamed"] is True and record["total_cost"] > 0
    # What Claude Code counted is what Tollgate billed.
    assert record["native_tokens_prompt"] == result["usage"]["input_tokens"]
    assert record["native_tokens_completion"] == result["usage"]["output_tokens"]
    assert activity_row(gateway, message_id)["surface"] == "messages"


def test_a_read_tool_turn_runs_offline(
    stack: Stack,
    gateway: Gateway,
    claude_binary: Path,
    fresh_anthropic: Upstream,
    tmp_path: Path,
) -> None:
    """The model asks Claude Code's built-in ``Read`` for a file; Claude Code reads it and sends
    the contents back as a ``tool_result`` (with the signed thinking before the call intact:
    the fake refuses it otherwise), then prints the model's final answer."""
    workdir, home = tmp_path / "project", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    notes = workdir / "notes.txt"
    notes.write_text("the launch code is tulip-42\n")
    fresh_anthropic.script(
        reply="",
        thinking="Read the notes first",
        tool_use={"name": "Read", "input": {"file_path": str(notes)}},
    )
    fresh_anthropic.script(reply="The launch code is tulip-42.")

    events = claude(claude_binary, stack, workdir, home, "What is the launch code in notes.txt?")

    result = result_of(events)
    assert result["result"] == "The launch code is tulip-42." and result["num_turns"] == 2
    _first, second = fresh_anthropic.requests()
    turn, answer = second["body"]["messages"][-2:]  # type: ignore[index]
    assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
    [tool_result] = [b for b in answer["content"] if b["type"] == "tool_result"]
    assert tool_result["tool_use_id"] == turn["content"][1]["id"]
    assert "the launch code is tulip-42" in orjson.dumps(tool_result["content"]).decode()
    ids = message_ids(events)
    assert len(ids) == 2  # the tool call and the answer: two generations, each billed
    for message_id in ids:
        assert billed(stack, message_id)["provider_name"] == "anthropic"


def billed(stack: Stack, generation_id: str) -> dict[str, Any]:
    return eventually(lambda: generation(stack, generation_id))


@pytest.mark.parametrize(
    ("model", "fixture", "provider_name"),
    [
        (MODEL, "fresh_anthropic", "anthropic"),
        ("openai/gpt-4o-mini", "fresh_upstream", "openai"),
        ("google/gemini-2.5-flash", "fresh_gemini", "google"),
    ],
    ids=["claude", "openai", "gemini"],
)
def test_print_mode_works_on_every_provider_with_no_request_refused(
    request: pytest.FixtureRequest,
    stack: Stack,
    gateway: Gateway,
    claude_binary: Path,
    tmp_path: Path,
    model: str,
    fixture: str,
    provider_name: str,
) -> None:
    upstream: Upstream = request.getfixturevalue(fixture)
    upstream.script(reply="Hello through Tollgate.")

    with recording_proxy(stack.base_url.removesuffix("/v1")) as proxy:
        events = claude(
            claude_binary, stack, tmp_path, tmp_path, "Say hello", model, proxy.base_url
        )

    assert result_of(events)["result"] == "Hello through Tollgate."
    messages = [e for e in proxy.exchanges if e[1].startswith("/v1/messages")]
    assert messages and all(status == 200 for _, _, status in proxy.exchanges), proxy.refusals
    [sent] = upstream.requests()  # one generation: nothing refused, nothing retried
    body: Any = sent["body"]
    if provider_name == "anthropic":  # what Claude Code drops only after a refusal, kept
        assert body["context_management"]["edits"]
        assert any(tool.get("defer_loading") for tool in body["tools"])
        assert "context-management" in sent["headers"]["anthropic-beta"]  # type: ignore[index]
    elif provider_name == "openai":  # output_config.effort
        assert body["reasoning_effort"] == "high"
    else:
        assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] > 0
    [message_id] = message_ids(events)
    assert billed(stack, message_id)["provider_name"] == provider_name
    assert activity_row(gateway, message_id)["surface"] == "messages"
