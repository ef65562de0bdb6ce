"""Two router servers on one database keep an ``Idempotency-Key`` to one provider call: the
same keyed request sent to both at once is served by one and replayed by the other (SQLite
file, and PostgreSQL when TOLLGATE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.testing import scratch_database

from .support import RouterUnderTest, StartRouter


def keyed(key: str, *, stream: bool) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(team_id="team_1", key_id="key_1", request_id="req-1"),
        model="openai/gpt-4o-mini",
        messages=[pb.ChatMessage(role="user", text="hello both routers")],
        stream=stream,
        idempotency=pb.IdempotencyKey(key=key, body_hash="same-body"),
    )


def events(responses: list[pb.StreamGenerateResponse]) -> list[pb.StreamGenerateResponse]:
    flat: list[pb.StreamGenerateResponse] = []
    for response in responses:
        flat.extend(response.batch.events if response.HasField("batch") else [response])
    return flat


def started(responses: list[pb.StreamGenerateResponse]) -> pb.GenerationStarted:
    return next(e.started for e in events(responses) if e.HasField("started"))


def calls(*routers: RouterUnderTest) -> int:
    return sum(len(r.openai.requests) for r in routers)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
async def test_two_routers_on_one_database_call_the_provider_once(
    nats_url: str, start_router: StartRouter, tmp_path: Path, kind: str, stream: bool
) -> None:
    async with scratch_database(kind, tmp_path, "router_idempotency") as url:
        first = await start_router(nats_url, database_url=url)
        second = await start_router(nats_url, database_url=url)
        for router in (first, second):
            router.openai.script(latency_ms=800)
        request = keyed(f"replicas-{kind}-{stream}", stream=stream)
        answers = await asyncio.gather(first.generate(request), second.generate(request))
        assert calls(first, second) == 1
        a, b = (started(answer) for answer in answers)
        assert a.generation_id == b.generation_id
        assert sorted([a.replayed, b.replayed]) == [False, True]
        # The replay carries the same events as the answer, the replay mark aside.
        plain = [events(answer) for answer in answers]
        for answer in plain:
            for event in answer:
                event.started.replayed = False
        assert plain[0] == plain[1]
