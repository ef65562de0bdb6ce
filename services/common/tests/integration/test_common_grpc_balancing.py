"""A peer channel spreads its calls over every address its target resolves to (round_robin),
as the edge's channels do over a headless Service's pods in Kubernetes (docs/scaling.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from tollgate_common.grpc_client import open_channel
from tollgate_common.grpc_server import GrpcService

REPLICAS = 3
# Calls made before giving up on seeing every replica answer (pick_first: one answers them all).
MAX_CALLS = 300


def _replica(name: str) -> GrpcService:
    service = GrpcService(name, "127.0.0.1:0", grace_seconds=1)

    async def who(request: bytes, context: Any) -> bytes:
        return name.encode()

    handlers = {"Who": grpc.unary_unary_rpc_method_handler(who)}
    service.server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("t.T", handlers),)
    )
    return service


@pytest.fixture
async def replica_ports() -> AsyncIterator[list[int]]:
    services = [_replica(f"replica-{index}") for index in range(REPLICAS)]
    ports = [await service.start() for service in services]
    yield ports
    for service in services:
        await service.shutdown()


async def _answers(channel: grpc.aio.Channel) -> set[str]:
    who = channel.unary_unary("/t.T/Who")
    seen: set[str] = set()
    for _ in range(MAX_CALLS):
        seen.add((await who(b"")).decode())
        if len(seen) == REPLICAS:
            break
    return seen


async def test_calls_reach_every_address_of_the_target(replica_ports: list[int]) -> None:
    target = "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in replica_ports)
    channel = open_channel(target)
    try:
        assert await _answers(channel) == {f"replica-{index}" for index in range(REPLICAS)}
    finally:
        await channel.close()


async def test_a_dns_target_works_like_host_port(replica_ports: list[int]) -> None:
    channel = open_channel(f"dns:///localhost:{replica_ports[0]}")
    try:
        assert await channel.unary_unary("/t.T/Who")(b"") == b"replica-0"
    finally:
        await channel.close()
