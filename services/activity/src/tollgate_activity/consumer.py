"""The durable ``activity-usage`` consumer: UsageRecorded facts → request log entries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from sqlalchemy.exc import DataError, SQLAlchemyError
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_common.bus import USAGE_RECORDED, Bus, Delivery, PoisonMessage, TransientError
from tollgate_common.money import parse_usd

from tollgate_activity.errors import InvalidUsage
from tollgate_activity.repository import USAGE_CONSUMER
from tollgate_activity.service import ActivityService, RequestLogEntry

log = logging.getLogger(__name__)

USAGE_STREAM = "TOLLGATE_USAGE"
RESTART_DELAY_SECONDS = 1.0


def entry_from_fact(fact: UsageRecorded, received_at: datetime) -> RequestLogEntry:
    """The request log entry a fact describes; :class:`InvalidUsage` for non-decimal amounts."""
    try:
        cost, market_cost = parse_usd(fact.cost), parse_usd(fact.market_cost)
    except ValueError as exc:
        raise InvalidUsage(str(exc)) from exc
    created_at = fact.created_at.ToDatetime(UTC) if fact.HasField("created_at") else received_at
    return RequestLogEntry(
        generation_id=fact.generation_id,
        created_at=created_at,
        team_id=fact.team_id,
        project_id=fact.project_id,
        key_id=fact.key_id,
        model=fact.model,
        provider=fact.provider,
        credential_type=fact.credential_type,
        input_tokens=fact.input_tokens,
        output_tokens=fact.output_tokens,
        cached_input_tokens=fact.cached_input_tokens,
        reasoning_tokens=fact.reasoning_tokens,
        cost=cost,
        market_cost=market_cost,
        ttft_ms=fact.ttft_ms,
        latency_ms=fact.latency_ms,
        streamed=fact.streamed,
        finish_reason=fact.finish_reason,
        status=fact.status,
        app_title=fact.app_title,
        app_referer=fact.app_referer,
        attempts=fact.attempts,
    )


class UsageConsumer:
    """Applies each UsageRecorded delivery once; the bus acks after :meth:`handle` returns."""

    def __init__(self, service: ActivityService) -> None:
        self._service = service

    async def handle(self, delivery: Delivery) -> None:
        try:
            fact = UsageRecorded.FromString(delivery.data)
        except DecodeError as exc:
            raise PoisonMessage(f"undecodable UsageRecorded {delivery.msg_id!r}") from exc
        if delivery.msg_id and delivery.msg_id != fact.generation_id:
            log.warning(
                "usage fact %s arrived with Nats-Msg-Id %s; deduplicating on the generation id",
                fact.generation_id,
                delivery.msg_id,
            )
        try:
            await self._service.record_request(entry_from_fact(fact, datetime.now(UTC)))
        except InvalidUsage as exc:
            raise PoisonMessage(f"invalid UsageRecorded {delivery.msg_id!r}: {exc}") from exc
        except DataError as exc:
            # The database refuses the values themselves: retrying cannot help.
            raise PoisonMessage(f"unstorable UsageRecorded {delivery.msg_id!r}") from exc
        except SQLAlchemyError as exc:
            raise TransientError(f"database error: {type(exc).__name__}") from exc

    async def run(self, bus: Bus, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, re-subscribing after a failure of the subscription."""
        while not stop.is_set():
            try:
                await bus.consume(
                    stream=USAGE_STREAM,
                    subject=USAGE_RECORDED,
                    durable=USAGE_CONSUMER,
                    handler=self.handle,
                    stop=stop,
                )
            except TimeoutError:
                # nats-py's fetch() sometimes raises a bare asyncio.TimeoutError on an idle
                # stream, which Bus.consume lets through: nothing failed, subscribe again.
                log.debug("%s fetch timed out; resubscribing", USAGE_CONSUMER)
                continue
            except Exception:
                log.exception("%s consumer failed; restarting", USAGE_CONSUMER)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)
