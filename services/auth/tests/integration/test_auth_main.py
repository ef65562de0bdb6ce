"""``python -m tollgate_auth``: migrate, serve, stop on SIGTERM, and keep secrets out of logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc
from tollgate_common.testing import free_port, wait_for_port

BOOTSTRAP_KEY = "tg_main-test-bootstrap-key-value"
PEPPER = "main-test-pepper-value"


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TOLLGATE_AUTH_") and k != "TOLLGATE_BOOTSTRAP_API_KEY"
    }
    env.update(
        TOLLGATE_DATA_DIR=str(data_dir),
        TOLLGATE_AUTH_LISTEN_ADDR=f"127.0.0.1:{port}",
        TOLLGATE_AUTH_KEY_PEPPER=PEPPER,
        TOLLGATE_BOOTSTRAP_API_KEY=BOOTSTRAP_KEY,
        TOLLGATE_LOG_LEVEL="DEBUG",
    )
    return env


def test_migrate_then_serve_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port)
    migrate = subprocess.run(
        [sys.executable, "-m", "tollgate_auth", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "auth.db").exists()

    process = subprocess.Popen(
        [sys.executable, "-m", "tollgate_auth"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, timeout=30)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            reply = stub.Authenticate(
                auth_pb2.AuthenticateRequest(credential=BOOTSTRAP_KEY), timeout=10
            )
            assert reply.principal.team_slug == "default"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr

    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert records, "the service logs JSON lines"
    assert {r["service"] for r in records} == {"auth"}
    messages = [r["msg"] for r in records]
    assert any("listening on" in m for m in messages)
    assert any("stopped" in m for m in messages)
    assert BOOTSTRAP_KEY not in stderr
    assert PEPPER not in stderr
