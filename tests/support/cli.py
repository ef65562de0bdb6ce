"""The ``tollgate`` CLI run against a running suite, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tollgate_cli.stack import Stack

TOLLGATE = str(Path(sys.executable).parent / "tollgate")


def tollgate(
    stack: Stack, *args: str, key: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TOLLGATE_BASE_URL": f"http://127.0.0.1:{stack.config.ports.public}",
        "TOLLGATE_API_KEY": key or stack.bootstrap_key(),
    }
    return subprocess.run(
        [TOLLGATE, *args],
        env=env,
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(stack: Stack, *args: str, key: str | None = None) -> Any:
    """Run with ``-o json``; the decoded output (None when nothing is printed)."""
    done = tollgate(stack, *args, "-o", "json", key=key)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None
