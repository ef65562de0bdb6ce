"""The fact journal on real files: what one journal appended and did not settle is claimed by
the next one opened on the directory, whole records only; settled segments are deleted; a
segment whose writer still holds it is left alone."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from sqlalchemy import MetaData, select
from tollgate_common.bus import USAGE_RECORDED
from tollgate_common.db import create_engine
from tollgate_common.fact_journal import FactJournal, decode, encode
from tollgate_common.outbox import Fact, Outbox, outbox_table


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.journal"))


def _abandon(directory: Path) -> None:
    """What a kill -9 leaves: the files as they are, their descriptors closed by the kernel
    and so their locks released (the journal objects are not used again)."""
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(directory)) and target.endswith(".journal"):
                os.close(int(fd))


def test_a_record_reads_back_as_it_was_written() -> None:
    fact = Fact("tollgate.usage.recorded.v1", "gen_01", b"\x00\x01payload\xff")
    assert decode(encode(fact) * 2) == [fact, fact]


def test_a_torn_or_damaged_record_ends_what_is_read(tmp_path: Path) -> None:
    a, b = Fact("s", "gen_a", b"aa"), Fact("s", "gen_b", b"bb")
    whole = encode(a) + encode(b)
    assert decode(whole[:-1]) == [a]  # cut in the middle of its write
    damaged = bytearray(whole)
    damaged[-1] ^= 0xFF
    assert decode(bytes(damaged)) == [a]


def test_unsettled_facts_are_claimed_by_the_next_journal(tmp_path: Path) -> None:
    first = FactJournal(tmp_path)
    assert first.open() == []
    marks = [first.append(Fact(USAGE_RECORDED, f"gen_{i}", f"p{i}".encode())) for i in range(3)]
    marks[1].settle()  # published; the other two are not
    [left] = _segments(tmp_path)
    _abandon(tmp_path)

    second = FactJournal(tmp_path)
    [orphan] = second.open()
    # All three: a segment is settled as a whole, and a repeat is harmless downstream.
    assert [f.msg_id for f in orphan.facts] == ["gen_0", "gen_1", "gen_2"]
    assert orphan.facts[2].payload == b"p2" and orphan.facts[2].subject == USAGE_RECORDED
    second.forget(orphan)
    [own] = _segments(tmp_path)
    assert own != left


def test_a_segment_whose_writer_is_alive_is_not_claimed(tmp_path: Path) -> None:
    alive = FactJournal(tmp_path)
    alive.open()
    alive.append(Fact(USAGE_RECORDED, "gen_live", b"x"))
    assert FactJournal(tmp_path).open() == []  # its lock is held


def test_settled_segments_are_deleted_and_a_full_one_is_sealed(tmp_path: Path) -> None:
    journal = FactJournal(tmp_path, segment_bytes=100)
    journal.open()
    marks = [journal.append(Fact(USAGE_RECORDED, f"gen_{i}", b"x" * 40)) for i in range(6)]
    assert len(_segments(tmp_path)) > 1  # 100 bytes hold two records
    for mark in marks[:-1]:
        mark.settle()
    assert len(_segments(tmp_path)) == 1  # the sealed ones went; the current one stays
    marks[-1].settle()
    journal.close()
    assert _segments(tmp_path) == []


def test_a_journal_closed_with_unsettled_facts_leaves_them(tmp_path: Path) -> None:
    journal = FactJournal(tmp_path)
    journal.open()
    journal.append(Fact(USAGE_RECORDED, "gen_kept", b"x"))
    journal.close()
    [orphan] = FactJournal(tmp_path).open()
    assert [f.msg_id for f in orphan.facts] == ["gen_kept"]


async def test_deliver_returns_at_once_and_a_dead_producers_facts_reach_the_table(
    tmp_path: Path,
) -> None:
    """No NATS and no table yet: ``deliver`` is durable in the journal all the same. The
    producer dies; its successor stores the facts in the table and deletes the segment."""
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    journal = FactJournal(tmp_path / "journal")
    outbox = Outbox(engine, table, retry_seconds=0.05, journal=journal)
    relay = asyncio.create_task(outbox.run())
    await asyncio.sleep(0)  # the relay opened the journal
    assert await outbox.deliver(Fact(USAGE_RECORDED, "gen_a", b"a")) is True
    outbox.put(Fact(USAGE_RECORDED, "gen_b", b"b"))
    await asyncio.sleep(0.1)  # the relay fails to write them (no table) and retries
    relay.cancel()  # the producer dies
    await asyncio.gather(relay, return_exceptions=True)
    assert outbox.tally.kept == 2 and outbox.tally.lost == 0

    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    successor = Outbox(engine, table, retry_seconds=0.05, journal=FactJournal(journal.directory))
    relay = asyncio.create_task(successor.run())
    for _ in range(100):
        if successor.tally.recovered == 2:
            break
        await asyncio.sleep(0.02)
    async with engine.connect() as conn:
        stored = list((await conn.execute(select(table.c.msg_id).order_by(table.c.id))).scalars())
    assert stored == ["gen_a", "gen_b"]
    await successor.close()
    await asyncio.wait_for(relay, timeout=5)
    assert _segments(journal.directory) == []  # nothing unsettled is left
    await engine.dispose()


async def test_facts_stored_by_the_relay_are_settled_in_the_journal(tmp_path: Path) -> None:
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    journal = FactJournal(tmp_path / "journal")
    outbox = Outbox(engine, table, retry_seconds=0.05, journal=journal)
    relay = asyncio.create_task(outbox.run())
    await asyncio.sleep(0)
    for i in range(5):
        assert await outbox.deliver(Fact(USAGE_RECORDED, f"gen_{i}", b"x")) is True
    for _ in range(100):
        if outbox.tally.stored == 5:
            break
        await asyncio.sleep(0.02)
    assert outbox.tally.stored == 5
    await outbox.close()
    await asyncio.wait_for(relay, timeout=5)
    assert _segments(journal.directory) == [] and outbox.tally.kept == 0
    await engine.dispose()
