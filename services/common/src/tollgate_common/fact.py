"""A fact on its way to JetStream: what an outbox publishes, its table and journal keep."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    subject: str
    msg_id: str
    payload: bytes
    # Message headers besides Nats-Msg-Id, e.g. the trace context (``traceparent``). Not kept
    # in the table: a fact published from the backlog travels without them.
    headers: tuple[tuple[str, str], ...] = ()
