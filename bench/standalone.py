"""What the single-stack harnesses (``bench/hotpath.py``, ``bench/memory.py``) share: the fake
OpenAI upstream started alone, the bootstrap key of their stacks, a request body."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from tollgate_common.testing import free_port, wait_for_port

from bench.measure import PROMPT, quiet
from bench.upstreams import OPENAI_KEY

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_KEY = OPENAI_KEY
TOLLGATE_KEY = "tg_bench_bootstrap_key_0123456789"

__all__ = ["TOLLGATE_KEY", "UPSTREAM_KEY", "body", "quiet", "start_upstream"]


def body(model: str, stream: bool, prompt: str = PROMPT) -> bytes:
    return orjson.dumps(
        {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream}
    )


def start_upstream() -> tuple[subprocess.Popen[bytes], int]:
    """The fake OpenAI upstream (zero latency) in a process of its own, and its port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "tests.fakes.openai_upstream"),
            *("--port", str(port), "--api-key", UPSTREAM_KEY),
        ],
        cwd=ROOT,
    )
    wait_for_port(port)
    return process, port
