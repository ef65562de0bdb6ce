"""The router serves while NATS is down; the usage fact waits in the outbox and goes out once
NATS is up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.testing import free_port, nats_server_binary, wait_for_port

from .support import StartRouter


async def test_usage_is_published_once_nats_comes_up(
    start_router: StartRouter, tmp_path: Path
) -> None:
    port = free_port()
    router = await start_router(f"nats://127.0.0.1:{port}")  # nothing listens there yet

    responses = await router.generate(
        pb.StreamGenerateRequest(
            model="openai/gpt-4o-mini",
            messages=[pb.ChatMessage(role="user", text="still there?")],
            stream=True,
        )
    )
    assert responses[-1].HasField("finished")
    generation_id = responses[0].started.generation_id

    process = await asyncio.create_subprocess_exec(
        nats_server_binary(),
        *("-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "js")),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.to_thread(wait_for_port, port)
        headers, fact = await router.usage_fact(generation_id, timeout=30)
        assert headers["Nats-Msg-Id"] == generation_id
        assert fact.cost == "0.0000021"  # 2 * 0.00000015 + 3 * 0.0000006
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
