"""A fact journal: append-only files in which a producer makes a fact durable with one
``write(2)`` before JetStream has acknowledged it or the outbox table has it.

What a ``write(2)`` to a local file survives is what a commit to a SQLite file in WAL mode with
``synchronous=NORMAL`` survives (the router's default outbox table), and what JetStream's
acknowledgement of a single server survives (it syncs its files every two minutes): the kill -9
of any process, not the loss of the machine's power. A journal is therefore only as good as the
table where the table is a local file; beside a PostgreSQL database, or a replicated stream, it
would be weaker, and the router does not keep one there (docs/architecture.md, "The fact path").

Layout: ``<directory>/facts-<ULID>.journal`` segments, each written by one process that holds
an exclusive ``flock`` on it for as long as it has the file open. A record is

    crc32 (4 bytes) | payload length (4) | subject length (2) | message id length (2)
    | subject | message id | payload

big-endian, the checksum over everything after it. A record cut by a crash in the middle of its
``write(2)`` (or a short write on a full disk) ends what is read of its segment: it was never
reported durable.

A segment is *sealed* when it reaches ``segment_bytes`` (the next fact opens a new one) or when
the journal closes; a sealed segment whose facts were all :meth:`Mark.settle`-d (acknowledged
by JetStream or stored in the table) is deleted. Segments of a process that died keep their
facts: the next journal opened on the directory claims every segment whose lock it can take
(:meth:`FactJournal.open`) and hands its facts back, to be stored in the table before the
segment is deleted (:meth:`FactJournal.forget`). Replaying a fact twice is harmless: JetStream
drops a repeated ``Nats-Msg-Id`` within its window, and every consumer applies a fact once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from ulid import ULID

from tollgate_common.fact import Fact

log = logging.getLogger(__name__)

_CRC = struct.Struct(">I")
_LENGTHS = struct.Struct(">IHH")  # payload, subject, message id
_HEAD_SIZE = _CRC.size + _LENGTHS.size
_SUFFIX = ".journal"


def encode(fact: Fact) -> bytes:
    """One record (no message headers: like the table, the journal keeps what is needed to
    publish the fact again, not its trace context)."""
    subject, msg_id = fact.subject.encode(), fact.msg_id.encode()
    body = _LENGTHS.pack(len(fact.payload), len(subject), len(msg_id)) + subject + msg_id
    body += fact.payload
    return _CRC.pack(zlib.crc32(body)) + body


def decode(data: bytes) -> list[Fact]:
    """The whole records at the start of ``data``: a torn or damaged record ends them."""
    facts, at = [], 0
    while at + _HEAD_SIZE <= len(data):
        (crc,) = _CRC.unpack_from(data, at)
        size, subject_len, msg_id_len = _LENGTHS.unpack_from(data, at + _CRC.size)
        end = at + _HEAD_SIZE + subject_len + msg_id_len + size
        if end > len(data) or zlib.crc32(data[at + _CRC.size : end]) != crc:
            break
        start = at + _HEAD_SIZE
        subject = data[start : start + subject_len].decode()
        msg_id = data[start + subject_len : start + subject_len + msg_id_len].decode()
        facts.append(Fact(subject, msg_id, data[start + subject_len + msg_id_len : end]))
        at = end
    if at != len(data):
        log.warning("fact journal: %d bytes after the last whole record ignored", len(data) - at)
    return facts


class _Segment:
    """One journal file, its lock held while its descriptor is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.size = 0
        self.unsettled = 0
        self.sealed = False

    def seal(self) -> None:
        self.sealed = True
        self._delete_if_settled()

    def settle(self) -> None:
        self.unsettled -= 1
        self._delete_if_settled()

    def release(self) -> None:
        """Close the file (releasing its lock), leaving it for the next journal to claim."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _delete_if_settled(self) -> None:
        if self.sealed and self.unsettled <= 0 and self.fd >= 0:
            self.path.unlink(missing_ok=True)  # before the lock goes: nobody claims it
            self.release()


@dataclass(frozen=True, eq=False)
class Mark:
    """Where one appended fact is: settle it once JetStream or the table has the fact."""

    segment: _Segment

    def settle(self) -> None:
        self.segment.settle()


@dataclass(frozen=True, eq=False)
class Orphan:
    """The facts of a segment whose writer died: stored elsewhere, then :meth:`FactJournal.forget`."""

    segment: _Segment
    facts: list[Fact]


class FactJournal:
    def __init__(self, directory: Path, *, segment_bytes: int = 4 << 20) -> None:
        self.directory = directory
        self._segment_bytes = segment_bytes
        self._current: _Segment | None = None
        self._held: list[_Segment] = []  # opened by this journal, not deleted yet

    @property
    def is_open(self) -> bool:
        return self._current is not None

    def open(self) -> list[Orphan]:
        """Open this process's first segment and claim the segments nobody holds (their
        writers died): their facts, to be stored before :meth:`forget`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        orphans = [o for o in map(self._claim, sorted(self.directory.glob(f"*{_SUFFIX}"))) if o]
        self._current = self._new_segment()
        return orphans

    def append(self, fact: Fact) -> Mark:
        """Write one fact (one ``write(2)``); raises OSError when it is not written whole."""
        segment = self._current
        if segment is None:
            raise OSError("the fact journal is not open")
        if segment.size >= self._segment_bytes:
            segment = self._rotate()
        record = encode(fact)
        written = os.write(segment.fd, record)
        segment.size += written
        if written != len(record):  # what follows a torn record would not be read back
            self._rotate()
            raise OSError(f"fact journal: {written} of {len(record)} bytes written")
        segment.unsettled += 1
        return Mark(segment)

    def forget(self, orphan: Orphan) -> None:
        """Delete a claimed segment whose facts are stored elsewhere now."""
        orphan.segment.unsettled = 0
        orphan.segment.seal()

    def close(self) -> None:
        """Seal every segment: those whose facts are all settled go, the others are released
        (closed, unlocked) for the next journal to claim."""
        self._current = None
        for segment in self._held:
            segment.seal()
            segment.release()
        self._held = []

    def _rotate(self) -> _Segment:
        assert self._current is not None
        self._current.seal()
        self._held = [s for s in self._held if s.fd >= 0]
        self._current = self._new_segment()
        return self._current

    def _new_segment(self) -> _Segment:
        path = self.directory / f"facts-{ULID()}{_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        segment = _Segment(path, fd)
        self._held.append(segment)
        return segment

    def _claim(self, path: Path) -> Orphan | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # deleted by its writer meanwhile
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its writer is alive
            os.close(fd)
            return None
        if not path.exists():  # deleted between the open and the lock: settled by its writer
            os.close(fd)
            return None
        with open(fd, "rb", closefd=False) as file:
            facts = decode(file.read())
        segment = _Segment(path, fd)
        segment.unsettled = len(facts)
        self._held.append(segment)
        return Orphan(segment, facts)
