"""`tollgate up` as a user runs it, for the e2e tests: a subprocess on free ports whose output is
read as it comes, and `tollgate status` beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tollgate_cli.stack import Ports

from tests.support.upstreams import UPSTREAM_KEY

TOLLGATE = str(Path(sys.executable).parent / "tollgate")
BOOTSTRAP_KEY = "bootstrap-from-env-1234"


def up_env(ports: Ports, data_dir: Path, upstream_url: str | None = None) -> dict[str, str]:
    """The environment of a `tollgate up` on ``ports`` in ``data_dir``, in front of the fake
    OpenAI upstream at ``upstream_url``."""
    env = {
        **os.environ,
        "TOLLGATE_DATA_DIR": str(data_dir),
        "TOLLGATE_PORT": str(ports.public),
        "TOLLGATE_ENVOY_ADMIN_PORT": str(ports.envoy_admin),
        "TOLLGATE_NATS_PORT": str(ports.nats),
        "TOLLGATE_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY,
    }
    for name in ("edge", "auth", "router", "billing", "activity"):
        env[f"TOLLGATE_{name.upper()}_LISTEN_ADDR"] = f"127.0.0.1:{getattr(ports, name)}"
    env.pop("TOLLGATE_NATS_URL", None)
    if upstream_url:
        env["TOLLGATE_PROVIDER_OPENAI_BASE_URL"] = f"{upstream_url}/v1"
        env["TOLLGATE_PROVIDER_OPENAI_API_KEY"] = UPSTREAM_KEY
    return env


class RunningUp:
    """A `tollgate up` subprocess; a thread collects its output (stdout and stderr) so the pipe
    never fills while the test does something else."""

    def __init__(self, ports: Ports, data_dir: Path, upstream_url: str | None = None) -> None:
        self.ports = ports
        self.data_dir = data_dir
        self.env = up_env(ports, data_dir, upstream_url)
        self.process = subprocess.Popen(
            [TOLLGATE, "up"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.public}/v1"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._lines.append("")  # end of output
            self._changed.notify_all()

    def output(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, needle: str, timeout: float = 120) -> str:
        """All output up to the first line containing ``needle``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                text = "".join(self._lines)
                if needle in text:
                    return text
                if self._lines[-1:] == [""] or time.monotonic() > deadline:
                    raise AssertionError(f"never printed {needle!r}; got {text!r}")
                self._changed.wait(timeout=1)

    def status(self) -> tuple[int, dict[str, Any]]:
        """`tollgate status -o json`: its exit status and what it printed."""
        result = subprocess.run(
            [TOLLGATE, "status", "-o", "json", "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.returncode, json.loads(result.stdout)

    def process_status(self, name: str) -> dict[str, Any]:
        _code, status = self.status()
        return next(p for p in status["processes"] if p["name"] == name)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
