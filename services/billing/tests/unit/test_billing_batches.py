"""Per-team batches: what arrives while a team's batch runs forms the next one, teams apart;
a batch that fails fails each of its callers and the next batch still runs; a runner that
leaves a caller unanswered does not leave it waiting; a batch takes at most its limit."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from tollgate_billing.ledger.batches import Item, TeamBatches


class Recorder:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.release = asyncio.Event()
        self.fail: set[int] = set()

    async def run(self, team_id: str, batch: list[Item[int, int]]) -> None:
        self.batches.append((team_id, [item.ask for item in batch]))
        await self.release.wait()
        if self.fail & {item.ask for item in batch}:
            raise RuntimeError("the database is down")
        for item in batch:
            if item.ask >= 0:
                item.answer(item.ask * 10)


def _batches(recorder: Recorder, limit: int = 256) -> TeamBatches[int, int]:
    return TeamBatches(recorder.run, contextlib.nullcontext, limit)


async def test_what_arrives_while_a_batch_runs_is_the_next_batch_of_its_team() -> None:
    recorder = Recorder()
    batches = _batches(recorder)
    first = asyncio.ensure_future(batches.submit("team_a", 1))
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(batches.submit("team_a", n)) for n in (2, 3)]
    other = asyncio.ensure_future(batches.submit("team_b", 4))
    await asyncio.sleep(0)
    recorder.release.set()
    assert await asyncio.gather(first, *later, other) == [10, 20, 30, 40]
    assert recorder.batches == [("team_a", [1]), ("team_b", [4]), ("team_a", [2, 3])]


async def test_a_failed_batch_fails_its_callers_and_the_next_one_runs() -> None:
    recorder = Recorder()
    recorder.fail = {1}
    batches = _batches(recorder)
    first = asyncio.ensure_future(batches.submit("team_a", 1))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(batches.submit("team_a", 2))
    recorder.release.set()
    with pytest.raises(RuntimeError, match="database is down"):
        await first
    assert await second == 20


async def test_a_caller_left_unanswered_gets_an_error_and_a_batch_takes_at_most_its_limit() -> None:
    recorder = Recorder()
    recorder.release.set()
    batches = _batches(recorder, limit=2)
    answers = await asyncio.gather(
        *(batches.submit("team_a", n) for n in (1, -1, 2, 3, 4)), return_exceptions=True
    )
    assert answers[0] == 10 and answers[2:] == [20, 30, 40]
    assert isinstance(answers[1], RuntimeError)
    assert recorder.batches == [("team_a", [1, -1]), ("team_a", [2, 3]), ("team_a", [4])]
