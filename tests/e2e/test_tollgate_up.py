"""`tollgate up` (what `make run` runs): starts the suite, serves, stops every child on Ctrl-C,
and refuses clearly when a port is taken."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import openai
import psutil
from tollgate_cli.stack import Ports

from tests.support.tollgate_up import BOOTSTRAP_KEY, TOLLGATE, RunningUp, up_env
from tests.support.upstreams import Upstream


def test_up_serves_then_stops_every_child_on_ctrl_c(tmp_path: Path, upstream: Upstream) -> None:
    up = RunningUp(Ports.free(), tmp_path / "data", upstream.url)
    try:
        banner = up.wait_for("Press Ctrl-C")
        assert up.base_url in banner
        children = psutil.Process(up.process.pid).children(recursive=True)
        assert len(children) >= 7  # nats, auth, router, billing, activity, edge, envoy

        api = openai.OpenAI(base_url=up.base_url, api_key=BOOTSTRAP_KEY, max_retries=0)
        reply = api.chat.completions.create(
            model="openai/gpt-4.1-mini", messages=[{"role": "user", "content": "up and running"}]
        )
        assert reply.choices[0].message.content == "Echo: up and running"

        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(timeout=60) == 0
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], f"children left running: {alive}"
        code, status = up.status()
        assert code == 1 and status["running"] is False
    finally:
        up.kill()


def test_up_refuses_a_port_in_use_with_a_clear_error(tmp_path: Path) -> None:
    ports = Ports.free()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports.public))
        taken.listen()
        result = subprocess.run(
            [TOLLGATE, "up"],
            env=up_env(ports, tmp_path / "data"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"port {ports.public}" in result.stderr and "TOLLGATE_PORT" in result.stderr
