"""The test tiers: which folder holds which tier, and the guard that keeps the unit tier free of
processes and servers.

A test's tier is decided by its folder alone (nobody decorates a test): the root ``conftest.py``
marks every collected test with the marker of its tier and refuses a test outside every tier.
``pytest -m unit`` (any single tier name) collects only that tier's folders, so a tier runs
without importing the others.

The unit tier starts nothing: a unit test that starts a process (``subprocess``, ``os.fork``,
``os.posix_spawn``, ...), puts a socket in the listening state or opens a port on a gRPC server
fails, even when the code under test swallows the error the guard raises.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

from grpc import _server as grpc_server
from grpc.aio import _server as grpc_aio_server

from tests.support import REPO

# Tier → what it runs; pyproject.toml registers the same markers.
TIERS = {
    "unit": "one module at a time, in memory: no process, no server, seconds for all",
    "integration": "one service (or one fake) for real: its gRPC/HTTP server, SQLite or "
    "PostgreSQL, a real nats-server",
    "suite": "the whole suite as processes (nats-server, Envoy, the services, the edge) in "
    "front of fake providers",
    "faults": "the whole suite under load while its processes are SIGKILLed and its databases "
    "locked; the money invariants afterwards",
    "clients": "the suite driven by third-party SDKs (Python and Node clients)",
    "e2e": "`tollgate up` as a user runs it, and the dashboard in a browser",
    "deploy": "the container images and the Kubernetes manifests",
}

# Folder patterns (from the repository root, one pattern per path part) → tier; first match wins.
FOLDERS = (
    ("services/*/tests/unit", "unit"),
    ("gateway-edge/tests/unit", "unit"),
    ("cli/tests/unit", "unit"),
    ("tests/unit", "unit"),
    ("services/*/tests/integration", "integration"),
    ("gateway-edge/tests/integration", "integration"),
    ("cli/tests/integration", "integration"),
    ("tests/integration", "integration"),
    ("tests/fakes", "integration"),
    ("tests/suite", "suite"),
    ("tests/faults", "faults"),
    ("tests/clients", "clients"),
    ("tests/e2e", "e2e"),
    ("tests/deploy", "deploy"),
)

# Audit events (sys.audit) of a new process.
PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec"}
)


def _within(parts: tuple[str, ...], pattern: str) -> bool:
    wanted = pattern.split("/")
    return len(parts) > len(wanted) and all(
        fnmatch(part, want) for part, want in zip(parts, wanted, strict=False)
    )


def tier_of(path: Path) -> str | None:
    """The tier of a test file, None outside every tier folder."""
    try:
        parts = PurePosixPath(path.resolve().relative_to(REPO)).parts
    except ValueError:
        return None
    return next((tier for pattern, tier in FOLDERS if _within(parts, pattern)), None)


def may_hold(path: Path, tier: str) -> bool:
    """Whether ``path`` is a folder of ``tier``, inside one, or an ancestor of one."""
    try:
        parts = PurePosixPath(path.resolve().relative_to(REPO)).parts
    except ValueError:
        return False
    return any(
        all(fnmatch(part, want) for part, want in zip(parts, pattern.split("/"), strict=False))
        for pattern, owner in FOLDERS
        if owner == tier
    )


@dataclass
class Guard:
    """Armed while a unit test runs; records what the test started that it must not."""

    armed: bool = False
    violations: list[str] = field(default_factory=list)

    def violate(self, what: str) -> None:
        self.violations.append(what)
        raise UnitTierViolation(f"a unit test must not {what}: make it an integration test")

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.armed and event in PROCESS_EVENTS:
            self.violate(f"start a process ({event} {args[0]!r})")

    @contextmanager
    def arm(self) -> Iterator[None]:
        self.violations.clear()
        self.armed = True
        try:
            yield
        finally:
            self.armed = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wraps what opens a server; the audit hook (which cannot be removed) stays, idle."""
        sys.addaudithook(self.audit)
        originals: list[tuple[type, str, Callable[..., Any]]] = []

        def forbid(owner: type, name: str, what: str) -> None:
            original = getattr(owner, name)

            def guarded(*args: Any, **kwargs: Any) -> Any:
                if self.armed:
                    self.violate(what)
                return original(*args, **kwargs)

            originals.append((owner, name, original))
            setattr(owner, name, guarded)

        forbid(socket.socket, "listen", "listen on a socket")
        for server in (grpc_aio_server.Server, grpc_server._Server):
            forbid(server, "add_insecure_port", "open a gRPC server port")
            forbid(server, "add_secure_port", "open a gRPC server port")
        try:
            yield
        finally:
            for owner, name, original in reversed(originals):
                setattr(owner, name, original)


class UnitTierViolation(Exception):
    """A unit test started a process or a server."""
