"""The guard of the unit tier: armed, it refuses a new process, a listening socket and a gRPC
server port, and remembers each (code under test may swallow the error); disarmed, it lets
everything through."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.support.tiers import Guard, UnitTierViolation


def test_an_armed_guard_refuses_processes_and_servers() -> None:
    guard = Guard()
    with guard.installed():
        with guard.arm():
            with pytest.raises(UnitTierViolation):
                subprocess.run(["true"], check=True)
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                with pytest.raises(UnitTierViolation):
                    sock.listen()
            server = grpc.server(ThreadPoolExecutor(max_workers=1))
            with pytest.raises(UnitTierViolation):
                server.add_insecure_port("127.0.0.1:0")
            with contextlib.suppress(Exception):  # code under test that swallows the error
                subprocess.run(["true"], check=False)
        assert len(guard.violations) == 4
        assert "subprocess.Popen" in guard.violations[0]

        subprocess.run(["true"], check=True)  # disarmed: allowed again


async def test_asyncio_and_grpc_aio_servers_are_refused_too() -> None:
    guard = Guard()
    with guard.installed(), guard.arm():
        with pytest.raises(UnitTierViolation):
            await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        server = grpc.aio.server()
        with pytest.raises(UnitTierViolation):
            server.add_insecure_port("127.0.0.1:0")
    assert len(guard.violations) == 2
