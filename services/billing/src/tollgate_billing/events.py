"""The facts billing publishes through its outbox: activity-log events (credit entries and
budget changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.events.v1 import activity_pb2
from tollgate_common.bus import ACTIVITY_RECORDED
from tollgate_common.ids import new_id
from tollgate_common.outbox import Fact


class FactSink(Protocol):
    """Where activity facts go (the outbox): ``put`` never blocks."""

    def put(self, fact: Fact) -> None: ...


def activity_event(
    team_id: str,
    type_: str,
    actor: activity_pb2.Actor,
    target: activity_pb2.Target,
    details: dict[str, str],
    at: datetime,
) -> Fact:
    """An activity-log event, as a fact for the outbox."""
    event_id = new_id("evt")
    occurred_at = Timestamp()
    occurred_at.FromDatetime(at)
    message = activity_pb2.ActivityRecorded(
        event_id=event_id,
        team_id=team_id,
        type=type_,
        actor=actor,
        target=target,
        details=details,
        occurred_at=occurred_at,
    )
    return Fact(subject=ACTIVITY_RECORDED, msg_id=event_id, payload=message.SerializeToString())
