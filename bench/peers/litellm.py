"""The LiteLLM proxy as a peer of the benchmark: its own venv (bench/.venv-litellm, the release
pinned in bench/peers/litellm-requirements.txt, installed with uv), one worker, no database, the
same fake providers as every other target, LiteLLM's default logging.

The venv is made once and re-made when the requirements file changes (a stamp holds its text)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import orjson
from tollgate_common.testing import free_port

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "litellm-requirements.txt"
VENV = HERE.parent / ".venv-litellm"
UV = Path(sys.executable).parent / "uv"

# The key clients give LiteLLM (its master key: checked on every request, no database needed).
MASTER_KEY = "sk-bench-litellm-master"
_VERSION = "import importlib.metadata as m; print(m.version('litellm'))"


@dataclass(frozen=True)
class Upstreams:
    """Where the fake providers listen and the keys they take."""

    openai_url: str  # base URL with /v1
    openai_key: str
    anthropic_url: str  # origin: LiteLLM appends /v1/messages
    anthropic_key: str


def render_config(upstreams: Upstreams, models: dict[str, str]) -> bytes:
    """LiteLLM's proxy config (YAML; JSON is YAML): each public model name of ``models`` routed
    to the fake of its provider (``openai/...`` or ``anthropic/...``), the master key, nothing
    else (no database, no callbacks: LiteLLM's defaults)."""
    entries = []
    for public, upstream_model in models.items():
        provider = public.split("/", 1)[0]
        if provider == "openai":
            params = {
                "model": f"openai/{upstream_model}",
                "api_base": upstreams.openai_url,
                "api_key": upstreams.openai_key,
            }
        elif provider == "anthropic":
            params = {
                "model": f"anthropic/{upstream_model}",
                "api_base": upstreams.anthropic_url,
                "api_key": upstreams.anthropic_key,
            }
        else:
            raise ValueError(f"no fake provider for {public}")
        entries.append({"model_name": public, "litellm_params": params})
    return orjson.dumps(
        {"model_list": entries, "general_settings": {"master_key": MASTER_KEY}},
        option=orjson.OPT_INDENT_2,
    )


def ensure_venv() -> Path:
    """The proxy's executable, installing the pinned release first when needed."""
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if not (stamp.exists() and stamp.read_text() == wanted):
        python = sys.executable
        subprocess.run(
            [str(UV), "venv", "-q", "--clear", "--python", python, str(VENV)], check=True
        )
        subprocess.run(
            [
                str(UV),
                "pip",
                "install",
                "-q",
                "--python",
                str(VENV / "bin" / "python"),
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        stamp.write_text(wanted)
    return VENV / "bin" / "litellm"


def version() -> str:
    out = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", _VERSION],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def launch(
    upstreams: Upstreams, models: dict[str, str], workdir: Path, log: IO[bytes]
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the proxy (it takes a minute to import); answers its process and origin. Call
    :func:`wait_ready` before sending it anything."""
    executable = ensure_venv()
    config = workdir / "litellm.yaml"
    config.write_bytes(render_config(upstreams, models))
    port = free_port()
    process = subprocess.Popen(
        [
            str(executable),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            "PATH": f"{VENV / 'bin'}:/usr/bin:/bin",
            "HOME": str(workdir),
            # The price map bundled with the package, not a download at start (no network here).
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        },
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen[bytes], origin: str, patience: float = 240.0) -> None:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the LiteLLM proxy exited with status {process.returncode}")
        try:
            if httpx.get(f"{origin}/health/liveliness", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the LiteLLM proxy was not ready after {patience:.0f}s")
