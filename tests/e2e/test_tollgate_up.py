"""`tollgate up` (what `make run` runs): starts the suite, serves, stops every child on Ctrl-C,
and refuses clearly when a port is taken."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import openai
import psutil
from tollgate_cli.stack import Ports

from tests.support.upstreams import UPSTREAM_KEY, Upstream

TOLLGATE = str(Path(sys.executable).parent / "tollgate")


def _env(ports: Ports, data_dir: Path, upstream_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "TOLLGATE_DATA_DIR": str(data_dir),
        "TOLLGATE_PORT": str(ports.public),
        "TOLLGATE_ENVOY_ADMIN_PORT": str(ports.envoy_admin),
        "TOLLGATE_NATS_PORT": str(ports.nats),
        "TOLLGATE_BOOTSTRAP_API_KEY": "bootstrap-from-env-1234",
    }
    for name in ("edge", "auth", "router", "billing", "activity"):
        env[f"TOLLGATE_{name.upper()}_LISTEN_ADDR"] = f"127.0.0.1:{getattr(ports, name)}"
    env.pop("TOLLGATE_NATS_URL", None)
    if upstream_url:
        env["TOLLGATE_PROVIDER_OPENAI_BASE_URL"] = f"{upstream_url}/v1"
        env["TOLLGATE_PROVIDER_OPENAI_API_KEY"] = UPSTREAM_KEY
    return env


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 120) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"never printed {needle!r}; got {lines!r}")


def test_up_serves_then_stops_every_child_on_ctrl_c(tmp_path: Path, upstream: Upstream) -> None:
    ports = Ports.free()
    process = subprocess.Popen(
        [TOLLGATE, "up"],
        env=_env(ports, tmp_path / "data", upstream.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = "".join(_wait_for_line(process, "Press Ctrl-C"))
        assert f"http://127.0.0.1:{ports.public}/v1" in banner
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 7  # nats, auth, router, billing, activity, edge, envoy

        api = openai.OpenAI(
            base_url=f"http://127.0.0.1:{ports.public}/v1",
            api_key="bootstrap-from-env-1234",
            max_retries=0,
        )
        reply = api.chat.completions.create(
            model="openai/gpt-4.1-mini", messages=[{"role": "user", "content": "up and running"}]
        )
        assert reply.choices[0].message.content == "Echo: up and running"

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], f"children left running: {alive}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_up_refuses_a_port_in_use_with_a_clear_error(tmp_path: Path) -> None:
    ports = Ports.free()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports.public))
        taken.listen()
        result = subprocess.run(
            [TOLLGATE, "up"],
            env=_env(ports, tmp_path / "data"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"port {ports.public}" in result.stderr and "TOLLGATE_PORT" in result.stderr
