"""A second router process beside a suite's own, on the same database (as router pods share
one in a cluster), with the edge restarted to balance its calls over both: what the tests of
"exact across replicas" run against."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from tollgate_cli.stack import Stack
from tollgate_common.testing import free_ports, wait_for_port

from tests.support.polling import eventually


@dataclass(frozen=True)
class Routers:
    """The suite and the metrics endpoints of its two routers."""

    stack: Stack
    metrics: tuple[str, str]

    def generations_handled(self) -> list[int]:
        """How many generations each router has served so far."""
        pattern = (
            r'tollgate_grpc_server_handled_total\{[^}]*method="(?:Stream)?Generate"[^}]*\} (\S+)'
        )
        return [
            int(sum(float(v) for v in re.findall(pattern, httpx.get(url).text)))
            for url in self.metrics
        ]


def first_router_env(metrics: str) -> dict[str, str]:
    """What the suite's own router needs for :func:`two_routers`: its metrics address."""
    return {"TOLLGATE_ROUTER_METRICS_ADDR": metrics}


def _served_by_both(routers: Routers, model: str) -> bool:
    reply = httpx.post(
        f"{routers.stack.base_url}/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "warm up"}]},
        headers={"authorization": f"Bearer {routers.stack.bootstrap_key()}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return all(count > 0 for count in routers.generations_handled())


@contextlib.contextmanager
def two_routers(stack: Stack, tmp: Path, first_metrics: str, model: str) -> Iterator[Routers]:
    """Start a second router like the suite's (its own port and metrics), then the edge again
    over both, and send ``model`` requests until each router has served one (the restarted
    edge balances only over the routers its channel has reached); the suite's router must have
    been started with ``first_router_env``."""
    router = stack.child("router")
    port, metrics = free_ports(2)
    second = f"127.0.0.1:{metrics}"
    env = {
        **router.env,
        "TOLLGATE_ROUTER_LISTEN_ADDR": f"127.0.0.1:{port}",
        "TOLLGATE_ROUTER_METRICS_ADDR": second,
    }
    with (tmp / "router-2.log").open("ab") as log:
        replica = subprocess.Popen(
            [sys.executable, "-m", "tollgate_router"], env=env, stdout=log, stderr=log
        )
    try:
        wait_for_port(port, timeout=60)
        edge = stack.child("edge")
        edge.process.terminate()
        edge.process.wait(timeout=30)
        edge.env["TOLLGATE_ROUTER_ADDR"] = (
            f"ipv4:127.0.0.1:{stack.config.ports.router},127.0.0.1:{port}"
        )
        stack.respawn("edge")
        wait_for_port(stack.config.ports.edge, timeout=60)
        eventually(lambda: httpx.get(f"{stack.base_url[:-3]}/readyz").status_code == 200)
        routers = Routers(stack, (f"http://{first_metrics}/metrics", f"http://{second}/metrics"))
        eventually(lambda: _served_by_both(routers, model), timeout=60)
        yield routers
    finally:
        replica.terminate()
        replica.wait(timeout=30)
