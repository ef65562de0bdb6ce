"""The router's Generations lanes: requests that came in one message are each answered, and
answers ready together go out in one message to a caller that reads them, one by one to one
that does not; a message is bounded in count and size; each request runs with the request id
and trace context its metadata carries (streaming requests: test_router_lane_streams.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from opentelemetry import trace
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common import together
from tollgate_common.context import request_id_var
from tollgate_common.testing import recorded_spans
from tollgate_router.lanes import Lanes


def _request(id_: int, text: str = "") -> pb.GenerationsRequest:
    return pb.GenerationsRequest(id=id_, request=pb.StreamGenerateRequest(model=text or "m"))


async def _serve(
    messages: list[pb.GenerationsRequest], together: bool, count: int
) -> list[pb.GenerationsResponse]:
    """Serve ``messages`` with answers that all finish at the same moment; the caller
    half-closes once ``count`` answers are in."""
    release = asyncio.Event()
    answered = asyncio.Event()
    seen: list[int] = []

    async def answer(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> pb.StreamGenerateResponse:
        await release.wait()
        text = pb.StreamGenerateResponse(text_delta=pb.TextDelta(text=request.model))
        return pb.StreamGenerateResponse(batch=pb.EventBatch(events=[text]))

    async def requests() -> AsyncIterator[pb.GenerationsRequest]:
        for message in messages:
            yield message
        release.set()
        await answered.wait()

    out: list[pb.GenerationsResponse] = []
    async for message in Lanes(answer).serve(requests(), together):
        out.append(message)
        seen.extend(reply.id for reply in (message, *message.more))
        if len(seen) == count:
            answered.set()
    return out


async def test_requests_in_one_message_are_each_answered() -> None:
    message = _request(1, "one")
    message.more.extend([_request(2, "two"), _request(3, "three")])
    out = await _serve([message], together=False, count=3)
    assert len(out) == 3 and all(not m.more for m in out)  # one answer each, as before
    said = {m.id: m.answer.batch.events[0].text_delta.text for m in out}
    assert said == {1: "one", 2: "two", 3: "three"}


async def test_answers_ready_together_share_a_message_for_a_caller_that_reads_them() -> None:
    out = await _serve([_request(n) for n in range(1, 6)], together=True, count=5)
    assert len(out) == 1
    assert sorted(r.id for r in (out[0], *out[0].more)) == [1, 2, 3, 4, 5]
    assert all(r.WhichOneof("result") == "answer" for r in (out[0], *out[0].more))


async def test_a_message_carries_no_more_than_its_bounds() -> None:
    count = together.MAX_TOGETHER + 6
    out = await _serve([_request(n) for n in range(1, count + 1)], together=True, count=count)
    assert [1 + len(m.more) for m in out] == [together.MAX_TOGETHER, 6]

    # Each a third of the size bound: two share a message, a third would pass the bound.
    big = "x" * (together.MAX_TOGETHER_BYTES // 3)
    out = await _serve([_request(n, big) for n in range(1, 5)], together=True, count=4)
    assert [1 + len(m.more) for m in out] == [2, 2]
    assert all(m.ByteSize() < together.MAX_TOGETHER_BYTES for m in out)


async def test_a_request_runs_with_its_request_id_and_continues_its_callers_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = recorded_spans(monkeypatch)
    seen: list[tuple[str, int]] = []

    async def answer(
        request: pb.StreamGenerateRequest, seconds: float | None
    ) -> pb.StreamGenerateResponse:
        seen.append((request_id_var.get(), trace.get_current_span().get_span_context().trace_id))
        return pb.StreamGenerateResponse()

    request = _request(1)
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    request.metadata.update(
        {"x-request-id": "req_9", "traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
    )
    replies: list[object] = []
    await Lanes(answer)._one(request, replies.append)

    assert seen == [("req_9", int(trace_id, 16))]
    assert request_id_var.get() == ""  # reset once answered
    [span] = exporter.get_finished_spans()
    assert span.kind is trace.SpanKind.SERVER and span.parent is not None
    assert span.parent.span_id == int("b7ad6b7169203331", 16)
    assert len(replies) == 1
