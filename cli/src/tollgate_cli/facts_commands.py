"""``tollgate facts dead-letters`` and ``tollgate facts replay``: the facts a consumer could never
process, kept in the ``TOLLGATE_DEAD_LETTERS`` stream, listed and published again.

Both talk to NATS directly (``--nats-url``, env ``TOLLGATE_NATS_URL``), not to the HTTP API: they
are an operator's tools, run where the services run. A replayed fact goes back on its original
subject under its original ``Nats-Msg-Id``; the consumers store each fact once (their inbox, or
the generation id), so replaying a fact that was applied after all changes nothing. While the
original is still inside its stream's duplicate window (two minutes) JetStream drops the copy:
the dead letter is then kept, and the command says to try again later.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError
from tollgate_common.bus import (
    CONSUMER_HEADER,
    DEAD_LETTER_STREAM,
    ORIGINAL_ID_HEADER,
    REASON_HEADER,
    SUBJECT_HEADER,
    Bus,
)
from tollgate_common.bus_link import with_credentials
from tollgate_common.internal_auth import InternalKeys

from tollgate_cli import nats_config
from tollgate_cli.output import show

DEFAULT_NATS_URL = "nats://127.0.0.1:4233"
LIST_COLUMNS = ("seq", "subject", "consumer", "reason", "time")
REPLAY_COLUMNS = ("seq", "subject", "msgId", "result")
# How long the CLI waits for NATS to answer before giving up.
CONNECT_SECONDS = 5.0


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    subject: str  # the original subject
    msg_id: str  # the original Nats-Msg-Id
    consumer: str
    reason: str
    time: str
    data: bytes

    def row(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "subject": self.subject,
            "msgId": self.msg_id,
            "consumer": self.consumer,
            "reason": self.reason,
            "time": self.time,
        }


async def _dead_letter(bus: Bus, seq: int) -> DeadLetter | None:
    try:
        message = await bus.js.get_msg(DEAD_LETTER_STREAM, seq=seq)
    except NotFoundError:
        return None
    headers = message.headers or {}
    return DeadLetter(
        seq=seq,
        subject=headers.get(SUBJECT_HEADER, ""),
        msg_id=headers.get(ORIGINAL_ID_HEADER, ""),
        consumer=headers.get(CONSUMER_HEADER, ""),
        reason=headers.get(REASON_HEADER, ""),
        time=message.time.isoformat() if message.time else "",
        data=message.data or b"",
    )


async def _all(bus: Bus) -> list[DeadLetter]:
    """Every dead letter still in the stream, oldest first."""
    state = (await bus.js.stream_info(DEAD_LETTER_STREAM)).state
    if not state.messages:
        return []
    found = [await _dead_letter(bus, seq) for seq in range(state.first_seq, state.last_seq + 1)]
    return [letter for letter in found if letter is not None]


async def _replay(bus: Bus, letter: DeadLetter) -> str:
    """Publish ``letter`` again on its subject; removed from the stream once published."""
    if not letter.subject:
        return "kept: it names no original subject"
    msg_id = letter.msg_id or f"replay-{letter.seq}"
    if await bus.publish(letter.subject, letter.data, msg_id):
        return "kept: its message id is still in the stream's duplicate window; retry later"
    await bus.js.delete_msg(DEAD_LETTER_STREAM, letter.seq)
    return "replayed"


async def _quiet(_error: Exception) -> None:
    """nats-py reports each failed attempt here; the command reports the last one itself."""


def _operator_url(url: str) -> str:
    """``url`` with the operator's NATS credentials: ``TOLLGATE_NATS_USER`` /
    ``TOLLGATE_NATS_PASSWORD``, else the ``operator`` user of the ``tollgate up`` whose data dir
    is ``TOLLGATE_DATA_DIR`` (docs/deploy.md, "Internal trust")."""
    user = os.environ.get("TOLLGATE_NATS_USER", "")
    password = os.environ.get("TOLLGATE_NATS_PASSWORD", "")
    secret = Path(os.environ.get("TOLLGATE_DATA_DIR") or ".tollgate") / "internal-secret"
    if not user and secret.is_file():
        keys = InternalKeys.load("", secret)
        if keys is not None:
            user = nats_config.OPERATOR
            password = nats_config.password(keys, user)
    return with_credentials(url, user, password)


async def _connect(args: argparse.Namespace) -> Bus:
    """Two attempts at most (a command should fail fast, not retry like a service)."""
    nc = await nats.connect(
        _operator_url(args.nats_url),
        name="tollgate-cli",
        connect_timeout=CONNECT_SECONDS,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.2,
        error_cb=_quiet,
    )
    bus = Bus(nc)
    await bus.ensure_streams()
    return bus


async def _list(args: argparse.Namespace) -> int:
    bus = await _connect(args)
    try:
        letters = await _all(bus)
    finally:
        await bus.close()
    show([letter.row() for letter in letters], LIST_COLUMNS, args.output, sys.stdout)
    return 0


async def _replay_command(args: argparse.Namespace) -> int:
    if not args.all and not args.seq:
        print("tollgate: name the dead letters to replay (SEQ ...) or pass --all", file=sys.stderr)
        return 2
    bus = await _connect(args)
    rows: list[dict[str, Any]] = []
    try:
        targets: list[tuple[int, DeadLetter | None]]
        if args.all:
            targets = [(letter.seq, letter) for letter in await _all(bus)]
        else:
            targets = [(seq, await _dead_letter(bus, seq)) for seq in args.seq]
        for seq, letter in targets:
            if letter is None:
                rows.append({"seq": seq, "result": "not found"})
            else:
                rows.append({**letter.row(), "result": await _replay(bus, letter)})
    finally:
        await bus.close()
    show(rows, REPLAY_COLUMNS, args.output, sys.stdout)
    return 0 if all(row["result"] == "replayed" for row in rows) else 1


def _run(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        args.output = getattr(args, "output", "table")
        try:
            return int(asyncio.run(command(args)))
        except Exception as exc:  # NATS unreachable or refusing: one line, not a traceback
            print(
                f"tollgate: NATS at {args.nats_url}: {exc or type(exc).__name__}", file=sys.stderr
            )
            return 1

    return run


def add_commands(commands: Any) -> None:
    nats = argparse.ArgumentParser(add_help=False)
    nats.add_argument(
        "-o", "--output", choices=("table", "json"), default="table", help="output format"
    )
    nats.add_argument(
        "--nats-url",
        default=os.environ.get("TOLLGATE_NATS_URL") or DEFAULT_NATS_URL,
        help=f"NATS server (env TOLLGATE_NATS_URL, default {DEFAULT_NATS_URL})",
    )
    facts = commands.add_parser(
        "facts", help="facts the services could not process"
    ).add_subparsers(dest="action", required=True)
    listing = facts.add_parser("dead-letters", help="list the dead letters", parents=[nats])
    listing.set_defaults(func=_run(_list))
    replay = facts.add_parser(
        "replay", help="publish dead letters again on their subjects", parents=[nats]
    )
    replay.add_argument("seq", type=int, nargs="*", help="dead letters' sequence numbers")
    replay.add_argument("--all", action="store_true", help="every dead letter")
    replay.set_defaults(func=_run(_replay_command))
