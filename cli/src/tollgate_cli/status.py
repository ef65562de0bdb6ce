"""The status file `tollgate up` keeps in the data dir, and `tollgate status`, which reads it.

`tollgate up` rewrites ``<data dir>/status.json`` whenever a process changes state; another
shell (or a monitoring script) reads it without talking to the running supervisor. The file is
replaced atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tollgate_cli.output import show

STATUS_FILE = "status.json"
STATUS_COLUMNS = ("name", "state", "pid", "restarts", "last_exit", "last_exit_at")

# A process's state as the status file and `tollgate status` show it.
UP = "up"
DOWN = "down"  # exited; the supervisor restarts it after its backoff
CRASH_LOOP = "crash-loop"  # exited again and again soon after each start; still retried
STOPPED = "stopped"  # the supervisor stopped it (Ctrl-C) or is not running


def describe_exit(returncode: int) -> str:
    """``Popen.returncode`` in words: a negative code is the signal that killed the process."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _timestamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


@dataclass
class ProcessStatus:
    name: str
    pid: int | None
    state: str = UP
    restarts: int = 0
    last_exit: str | None = None  # describe_exit() of the last time it ended
    last_exit_at: str | None = None  # UTC, ISO 8601

    def exited(self, returncode: int, at: float) -> None:
        self.last_exit = describe_exit(returncode)
        self.last_exit_at = _timestamp(at)


@dataclass
class SupervisorStatus:
    """What ``status.json`` holds: the supervisor's pid and one entry per child process."""

    pid: int
    running: bool = True
    updated_at: str = ""
    processes: list[ProcessStatus] = field(default_factory=list)

    def write(self, path: Path) -> None:
        self.updated_at = _timestamp(time.time())
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(temporary, path)

    @classmethod
    def read(cls, path: Path) -> SupervisorStatus | None:
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        processes = [ProcessStatus(**p) for p in data.pop("processes", [])]
        return cls(**data, processes=processes)

    def supervisor_alive(self) -> bool:
        """Whether the supervisor that wrote the file still runs (it may have been killed)."""
        if not self.running:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _status(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir or os.environ.get("TOLLGATE_DATA_DIR", ".tollgate"))
    path = data_dir / STATUS_FILE
    status = SupervisorStatus.read(path)
    if status is None:
        print(f"tollgate: no status in {path}: `tollgate up` has not run there", file=sys.stderr)
        return 1
    alive = status.supervisor_alive()
    if not alive:
        for process in status.processes:
            if process.state == UP:
                process.state = STOPPED
    fmt = getattr(args, "output", "table")
    if fmt == "json":
        show({**asdict(status), "running": alive}, STATUS_COLUMNS, fmt, sys.stdout)
    else:
        running = f"running (pid {status.pid})" if alive else "not running"
        print(f"tollgate up: {running}; status as of {status.updated_at}")
        show([asdict(p) for p in status.processes], STATUS_COLUMNS, fmt, sys.stdout)
    every_up = alive and all(p.state == UP for p in status.processes)
    return 0 if every_up else 1


def add_command(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "status",
        parents=[common],
        help="the processes `tollgate up` runs: pid, up/down, restarts, last exit",
        description="Reads <data dir>/status.json. Exit status 0 when `tollgate up` runs and "
        "every process is up, 1 otherwise.",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="the data dir `tollgate up` runs in (env TOLLGATE_DATA_DIR)",
    )
    parser.set_defaults(func=_status)
