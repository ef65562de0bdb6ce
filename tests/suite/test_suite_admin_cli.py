"""The `tollgate` CLI against the running suite: what an operator does with it alone."""

from __future__ import annotations

import json
import os
import subprocess
import time

from tollgate_cli.stack import Stack

from tests.support.cli import TOLLGATE, ok, tollgate


def test_an_operator_manages_a_team_with_the_cli_alone(stack: Stack) -> None:
    me = ok(stack, "me")
    assert me["user"]["email"] == "admin@localhost"

    table = tollgate(stack, "teams", "create", "cli-team", "CLI Team")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["ID", "SLUG", "NAME", "ROLE", "CREATEDAT"]
    assert "cli-team" in row and "owner" in row

    carol = ok(
        stack, "members", "add", "carol@cli.example", "--role", "member", "--team", "cli-team"
    )
    assert carol["role"] == "member"
    members = ok(stack, "members", "list", "--team", "cli-team")
    assert {m["email"] for m in members} == {"admin@localhost", "carol@cli.example"}

    project = ok(stack, "projects", "create", "web", "--team", "cli-team")
    key = ok(stack, "keys", "create", "ci", "--team", "cli-team", "--project", "web")
    assert key["key"].startswith("tg_") and key["projectId"] == project["id"]
    as_key = ok(stack, "me", key=key["key"])
    assert (as_key["team"]["slug"], as_key["projectId"]) == ("cli-team", project["id"])
    listed = ok(stack, "keys", "list", "--team", "cli-team")
    assert key["id"] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)

    assert ok(stack, "keys", "revoke", key["id"]) is None
    deadline = time.monotonic() + 1.0
    while True:
        refused = tollgate(stack, "me", key=key["key"])
        if refused.returncode != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert refused.returncode == 1
    assert "HTTP 401" in refused.stderr and "authentication_error" in refused.stderr
    assert key["key"] not in refused.stderr

    assert (
        ok(stack, "members", "set-role", carol["userId"], "viewer", "--team", "cli-team")["role"]
        == "viewer"
    )
    assert ok(stack, "members", "remove", carol["userId"], "--team", "cli-team") is None
    assert ok(stack, "projects", "delete", "web", "--team", "cli-team") is None
    assert ok(stack, "teams", "delete", "cli-team") is None
    assert "cli-team" not in {t["slug"] for t in ok(stack, "teams", "list")}


def test_errors_come_from_the_envelope_with_a_non_zero_exit(stack: Stack) -> None:
    bad = tollgate(stack, "teams", "create", "Not A Slug")
    assert bad.returncode == 1
    assert "HTTP 400" in bad.stderr and "param: slug" in bad.stderr
    missing = tollgate(stack, "members", "list", "--team", "team_01NOSUCHTEAM")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr
    wrong_key = tollgate(stack, "me", key="tg_wrong")
    assert wrong_key.returncode == 1 and "HTTP 401" in wrong_key.stderr


def test_flags_override_the_environment(stack: Stack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    env["TOLLGATE_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
    env["TOLLGATE_API_KEY"] = "tg_wrong"
    done = subprocess.run(
        [
            TOLLGATE,
            "--base-url",
            stack.base_url,  # the OpenAI base URL, /v1 and all
            "--api-key",
            stack.bootstrap_key(),
            "me",
            "-o",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["team"]["slug"] == "default"
    unreachable = subprocess.run(
        [TOLLGATE, "me"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr


def test_byok_credentials_with_the_cli(stack: Stack) -> None:
    ok(stack, "teams", "create", "cli-byok")
    provider_key = "sk-cli-byok-secret-9876"
    added = tollgate(
        stack, "byok", "add", "openai", "--team", "cli-byok", stdin=provider_key + "\n"
    )
    assert added.returncode == 0, added.stderr
    assert provider_key not in added.stdout and "9876" in added.stdout
    [listed] = ok(stack, "byok", "list", "--team", "cli-byok")
    assert (listed["provider"], listed["enabled"], listed["hint"]) == ("openai", True, "9876")
    assert ok(stack, "byok", "disable", "openai", "--team", "cli-byok")["enabled"] is False
    assert ok(stack, "byok", "remove", "openai", "--team", "cli-byok") is None
    missing = tollgate(stack, "byok", "remove", "openai", "--team", "cli-byok")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr
    ok(stack, "teams", "delete", "cli-byok")
