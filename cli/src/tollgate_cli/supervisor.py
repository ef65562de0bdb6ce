"""`tollgate up`'s supervision loop: a child that dies is logged and restarted, the others keep
serving.

On one machine `tollgate up` is the production deployment, so one process killed (OOM, a
crash, ``kill -9``) must not take the gateway down. The loop polls every child; one that exited
is logged with its pid and exit status, and restarted after a backoff (0.5 s doubling to 30 s;
back to 0.5 s once it stayed up a minute). A child that keeps dying soon after each start is a
crash loop: reported once on stderr as an ERROR with the tail of its log, shown as
``crash-loop`` by `tollgate status`, and still retried every 30 s.

The loop is `tollgate up`'s, not the :class:`Stack`'s: tests and the benchmark run a Stack
without one and kill and restart children themselves.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tollgate_cli.stack import Child, Stack, StackError
from tollgate_cli.status import (
    CRASH_LOOP,
    DOWN,
    STATUS_FILE,
    STOPPED,
    UP,
    ProcessStatus,
    SupervisorStatus,
    describe_exit,
)


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    maximum: float = 30.0
    # A child up this long is healthy again: its next restart waits ``initial`` again.
    stable_after: float = 60.0
    # This many exits in a row, each before ``stable_after``, is a crash loop.
    crash_loop_after: int = 3

    def delay(self, failures: int) -> float:
        """The wait before the restart that follows ``failures`` quick exits in a row."""
        return min(self.maximum, self.initial * 2.0 ** max(0, failures - 1))


@dataclass
class _Watch:
    """What the supervisor knows of one child beyond its process."""

    status: ProcessStatus
    started_at: float  # monotonic
    failures: int = 0  # exits in a row, each before the child stayed up ``stable_after``
    restart_at: float | None = None  # monotonic; set while the child is down


class Supervisor:
    def __init__(self, stack: Stack, backoff: Backoff | None = None, out: TextIO | None = None):
        self.stack = stack
        self.backoff = backoff or Backoff()
        self.out = out or sys.stderr
        self.status_path: Path = stack.config.data_dir / STATUS_FILE
        now = time.monotonic()
        self._watches = {
            child.name: _Watch(ProcessStatus(child.name, child.process.pid), now)
            for child in stack.children
        }
        self._status = SupervisorStatus(
            os.getpid(), processes=[w.status for w in self._watches.values()]
        )

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Supervise until ``stop`` is set; the status file says ``running: false`` after."""
        self._status.write(self.status_path)
        try:
            while not stop.wait(interval):
                if self.tick(time.monotonic()):
                    self._status.write(self.status_path)
        finally:
            self._status.running = False
            for watch in self._watches.values():
                watch.status.state = STOPPED
            self._status.write(self.status_path)

    def tick(self, now: float) -> bool:
        """Notice exits, restart what is due; whether any process changed state."""
        changed = False
        for child in self.stack.children:
            watch = self._watches[child.name]
            if watch.restart_at is None:
                returncode = child.process.poll()
                if returncode is None:
                    if watch.failures and now - watch.started_at >= self.backoff.stable_after:
                        watch.failures = 0
                        changed |= watch.status.state != UP
                        watch.status.state = UP
                    continue
                self._exited(child, watch, returncode, now)
                changed = True
            elif now >= watch.restart_at:
                self._restart(child, watch, now)
                changed = True
        return changed

    def _exited(self, child: Child, watch: _Watch, returncode: int, now: float) -> None:
        watch.status.exited(returncode, time.time())
        if now - watch.started_at < self.backoff.stable_after:
            watch.failures += 1
        else:
            watch.failures = 1
        delay = self.backoff.delay(watch.failures)
        watch.restart_at = now + delay
        self._say(
            f"{child.name} (pid {child.process.pid}) {describe_exit(returncode)}; "
            f"restarting in {delay:g}s"
        )
        if watch.failures == self.backoff.crash_loop_after:
            self._say(
                f"ERROR {child.name} is crash-looping: it exited {watch.failures} times in a "
                f"row within {self.backoff.stable_after:g}s of starting; still retrying, every "
                f"{self.backoff.maximum:g}s at most; see {child.log_path}:\n"
                + self._log_tail(child)
            )
        crash_loop = watch.failures >= self.backoff.crash_loop_after
        watch.status.state = CRASH_LOOP if crash_loop else DOWN

    def _restart(self, child: Child, watch: _Watch, now: float) -> None:
        watch.status.restarts += 1
        watch.started_at = now
        watch.restart_at = None
        try:
            self.stack.respawn(child.name)
        except (OSError, StackError) as exc:  # could not even start: counts as a quick exit
            self._say(f"{child.name} could not be restarted: {exc}")
            self._exited(child, watch, 127, now)
            return
        watch.status.pid = child.process.pid
        if watch.status.state != CRASH_LOOP:
            watch.status.state = UP
        self._say(f"{child.name} restarted (pid {child.process.pid})")

    def _log_tail(self, child: Child, lines: int = 10) -> str:
        try:
            tail = child.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join(f"  | {line}" for line in tail)

    def _say(self, message: str) -> None:
        print(f"tollgate: {message}", file=self.out, flush=True)
