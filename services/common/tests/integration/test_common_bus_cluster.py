"""Streams on a clustered JetStream (three real nats-server processes): created with the
replica count asked for, raised on an existing stream, and a message survives losing a node."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tollgate_common.bus import STREAMS, USAGE_RECORDED, Bus
from tollgate_common.testing import free_ports, nats_server_binary, wait_for_port


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    ports = free_ports(6)
    clients, routes = ports[:3], ports[3:]
    route_urls = ",".join(f"nats://127.0.0.1:{p}" for p in routes)
    nodes = []
    for index, (client, route) in enumerate(zip(clients, routes, strict=True)):
        process = subprocess.Popen(
            [
                nats_server_binary(),
                "-a", "127.0.0.1",
                "-p", str(client),
                "-js",
                "-sd", str(tmp_path / f"n{index}"),
                "--server_name", f"n{index}",
                "--cluster_name", "tollgate-test",
                "--cluster", f"nats://127.0.0.1:{route}",
                "--routes", route_urls,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        nodes.append((f"nats://127.0.0.1:{client}", process))
    try:
        for url, _ in nodes:
            wait_for_port(int(url.rsplit(":", 1)[1]))
        yield nodes
    finally:
        for _, process in nodes:
            process.terminate()
            process.wait(timeout=10)


async def connect_when_ready(url: str) -> Bus:
    """The cluster elects its JetStream meta leader a moment after the ports open."""
    bus = await Bus.connect(url, "cluster-test")
    for _ in range(100):
        try:
            await bus.js.account_info()
            return bus
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError("JetStream never became available on the cluster")


async def test_streams_get_the_replicas_asked_for_and_survive_a_node(
    cluster: list[tuple[str, subprocess.Popen[bytes]]],
) -> None:
    bus = await connect_when_ready(cluster[0][0])
    try:
        await bus.ensure_streams(replicas=1)
        await bus.ensure_streams(replicas=3)  # raised in place, not recreated
        for spec in STREAMS:
            info = await bus.js.stream_info(spec.name)
            assert info.config.num_replicas == 3
        for _ in range(50):  # the raised stream settles its new replicas first
            try:
                await bus.publish(USAGE_RECORDED, b"fact", "gen_cluster_1")
                break
            except Exception:
                await asyncio.sleep(0.3)
        else:
            raise AssertionError("the replicated stream never took a message")
    finally:
        await bus.close()

    cluster[0][1].terminate()
    cluster[0][1].wait(timeout=10)
    survivor = await connect_when_ready(cluster[1][0])
    try:
        for _ in range(100):  # a new stream leader is elected among the two left
            try:
                message = await survivor.js.get_last_msg("TOLLGATE_USAGE", USAGE_RECORDED)
                break
            except Exception:
                await asyncio.sleep(0.2)
        else:
            raise AssertionError("the stream did not come back with two of three nodes")
        assert message.data == b"fact"
    finally:
        await survivor.close()
