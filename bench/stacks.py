"""Tollgate as the benchmark runs it: the stack's environment for a configuration (the default
one, or the old favourable one), and the teams the load runs as, made through the admin API as
an operator would (docs/admin-api.md, docs/billing.md "Credits")."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tollgate_cli.stack import Ports, Stack, StackConfig

from bench.upstreams import ANTHROPIC_KEY, OPENAI_KEY, Fakes

ROOT = Path(__file__).resolve().parent.parent


def stack_env(fakes: Fakes, log_level: str | None) -> dict[str, str]:
    """The environment of a stack in front of the fakes. ``log_level`` None leaves Tollgate's
    default (INFO): the default configuration sets nothing else."""
    env = {
        "TOLLGATE_PROVIDER_OPENAI_BASE_URL": fakes.openai_url,
        "TOLLGATE_PROVIDER_OPENAI_API_KEY": OPENAI_KEY,
        "TOLLGATE_PROVIDER_ANTHROPIC_BASE_URL": f"{fakes.anthropic_origin}/v1",
        "TOLLGATE_PROVIDER_ANTHROPIC_API_KEY": ANTHROPIC_KEY,
    }
    if log_level is not None:
        env["TOLLGATE_LOG_LEVEL"] = log_level
    return env


def stack(fakes: Fakes, data_dir: Path, log_level: str | None) -> Stack:
    config = StackConfig(data_dir=data_dir, ports=Ports.free(), env=stack_env(fakes, log_level))
    # Generous: the stacks start while the LiteLLM proxy imports, on two shared cores.
    config.start_timeout = 300.0
    return Stack(config)


def processes(running: Stack) -> dict[str, int]:
    """Every process of the stack by name, NATS included."""
    return {child.name: child.process.pid for child in running.children}


@dataclass(frozen=True)
class Team:
    id: str
    key: str


class Admin:
    """The admin API as the bootstrap operator."""

    def __init__(self, running: Stack) -> None:
        self._client = httpx.Client(
            base_url=running.base_url,
            headers={"authorization": f"Bearer {running.bootstrap_key()}"},
            timeout=30,
        )

    def close(self) -> None:
        self._client.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self._client.post(path, json=body)
        reply.raise_for_status()
        answer: dict[str, Any] = reply.json()
        return answer

    def team(self, slug: str, top_up: str | None) -> Team:
        """A new team with a key. Created by the operator it collects the free tier ($5 at its
        first request); a top-up is a purchase, after which it collects none: the balance is
        exactly the top-up."""
        team = self._post("/teams", {"slug": slug, "name": slug})
        key = self._post("/api-keys", {"name": "bench", "teamId": team["id"]})
        if top_up is not None:
            self._post("/credits/top-up", {"amount": top_up, "teamId": team["id"]})
        return Team(team["id"], key["key"])

    def bootstrap(self) -> str:
        return str(self._client.headers["authorization"]).removeprefix("Bearer ")


def credits(running: Stack, key: str) -> dict[str, str]:
    """The team's ``{balance, total_used}`` (usage facts billing has applied)."""
    reply = httpx.get(
        f"{running.base_url}/credits", headers={"authorization": f"Bearer {key}"}, timeout=30
    )
    reply.raise_for_status()
    answer: dict[str, str] = reply.json()
    return answer


def sources_at(commit: str, into: Path) -> str:
    """The router's and the edge's sources at ``commit``, and the common code they run
    (``git archive`` into ``into``), as a PYTHONPATH that puts them before the working tree's."""
    archive = subprocess.run(
        [
            "git",
            "archive",
            commit,
            "services/router/src",
            "gateway-edge/src",
            "services/common/src",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    paths = ("services/router/src", "gateway-edge/src", "services/common/src")
    return ":".join(str(into / path) for path in paths)
