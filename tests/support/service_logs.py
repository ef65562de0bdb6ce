"""What a failed test shows of the stack it ran against: the last lines of each process's log
that are not INFO (warnings, errors, tracebacks, native runtime messages), so a failure on CI,
where the logs go with the machine, says what the services saw."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from pathlib import Path

# Per process: enough to show a failure's cause, not so many that the report drowns in them.
LINES_PER_LOG = 12
_QUIET = frozenset({"INFO", "DEBUG"})
# How nats-server and Envoy mark their own INFO and DEBUG lines.
_QUIET_NATIVE = (" [INF] ", " [DBG] ", " [TRC] ", "][info][", "][debug][", "][trace][")


def _worth_showing(line: str) -> bool:
    if not line.strip():
        return False
    if not line.startswith("{"):  # a traceback line, or a native process's own message
        return not any(mark in line for mark in _QUIET_NATIVE)
    try:
        level = json.loads(line).get("level", "")
    except ValueError:
        return True
    return level not in _QUIET


def notable_lines(log_dir: Path, limit: int = LINES_PER_LOG) -> str:
    """The last ``limit`` notable lines of each ``*.log`` in ``log_dir``, under its name."""
    parts = []
    for path in sorted(log_dir.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as log:
            tail = deque((line.rstrip("\n") for line in log if _worth_showing(line)), limit)
        if tail:
            parts.append(f"== {path.name} (last {len(tail)} lines above INFO)\n" + "\n".join(tail))
    return "\n".join(parts)


def log_dirs(values: Iterable[object]) -> list[Path]:
    """The log folders of the stacks among ``values`` (a test's fixtures), or held one level
    down in one of them (an admin suite holding its stack)."""
    found: list[Path] = []
    for value in values:
        for candidate in (value, *getattr(value, "__dict__", {}).values()):
            log_dir = getattr(candidate, "log_dir", None)
            if isinstance(log_dir, Path) and log_dir.is_dir() and log_dir not in found:
                found.append(log_dir)
    return found
