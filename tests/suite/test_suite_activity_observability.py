"""The activity service's data through the whole suite: requests from two apps (different
``x-title`` / ``http-referer``) made with the OpenAI SDK show up in ``/v1/requests`` with their
attribution and in ``/v1/observability`` (read from the rollups, which agree with the rows);
an activity fact published on the bus shows up in ``/v1/activity`` of its team only."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import openai
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.events.v1.activity_pb2 import ActivityRecorded, Actor, ActorType, Target
from tollgate.events.v1.usage_pb2 import UsageRecorded
from tollgate_cli.stack import Stack
from tollgate_common.bus import ACTIVITY_RECORDED, USAGE_RECORDED, Bus

from tests.support.polling import eventually
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4o-mini"
APPS = {
    "Suite App One": "https://one.example/",
    "Suite App Two": "https://two.example/chat",
}


def _get(stack: Stack, path: str, **params: str) -> Any:
    reply = httpx.get(
        f"{stack.base_url}{path}",
        params=params,
        headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _all_requests(stack: Stack, since: str, until: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params = {"since": since, "until": until, "limit": "200"}
    while True:
        page = _get(stack, "/requests", **params)
        rows.extend(page["data"])
        if not page["nextCursor"]:
            return rows
        params["cursor"] = page["nextCursor"]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _app_client(stack: Stack, title: str, referer: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=stack.base_url,
        api_key=stack.bootstrap_key(),
        max_retries=0,
        default_headers={"x-title": title, "http-referer": referer},
    )


def test_two_apps_show_in_the_request_log_and_in_observability(
    stack: Stack, fresh_upstream: Upstream
) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    made: dict[str, str] = {}
    for title, referer in APPS.items():
        app = _app_client(stack, title, referer)
        for index in range(2):
            completion = app.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": f"hello from {title} #{index}"}],
                stream=index == 1,
                **({"stream_options": {"include_usage": True}} if index == 1 else {}),
            )
            if isinstance(completion, openai.Stream):
                ids = {chunk.id for chunk in completion}
                made[ids.pop()] = title
            else:
                made[completion.id] = title

    until = _iso(datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2))

    def ours() -> list[dict[str, Any]]:
        rows = [r for r in _all_requests(stack, _iso(start), until) if r["generationId"] in made]
        return rows if len(rows) == len(made) else []

    rows = eventually(ours)
    assert len(rows) == 4, "activity never logged the four requests"
    for row in rows:
        title = made[row["generationId"]]
        assert (row["appTitle"], row["appReferer"]) == (title, APPS[title])
        assert (row["model"], row["provider"], row["status"]) == (MODEL, "openai", "success")
        assert row["inputTokens"] > 0 and row["outputTokens"] > 0
        assert row["ttftMs"] >= 0 and row["latencyMs"] >= row["ttftMs"]
        assert Decimal(row["cost"]) > 0 and row["credentialType"] == "system"
        assert row["finishReason"] == "stop" and row["attempts"] == 1
        assert "messages" not in row and "content" not in row
    assert sorted(r["streamed"] for r in rows) == [False, False, True, True]
    # Newest first.
    stamps = [r["createdAt"] for r in _all_requests(stack, _iso(start), until)]
    assert stamps == sorted(stamps, reverse=True)
    # A range that ends before the requests shows none of them.
    before = _all_requests(stack, _iso(start - timedelta(days=1)), _iso(start))
    assert not any(r["generationId"] in made for r in before)

    # Observability (from rollups) agrees with the request rows of the same minutes.
    def agreeing() -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        requests = _get(
            stack,
            "/observability",
            metric="requests",
            granularity="minute",
            since=_iso(start),
            until=until,
        )
        spend = _get(
            stack,
            "/observability",
            metric="spend",
            granularity="minute",
            since=_iso(start),
            until=until,
        )
        rows = _all_requests(stack, _iso(start), until)
        counted = sum(p["value"] for s in requests["series"] for p in s["points"])
        spent = sum((Decimal(p["value"]) for s in spend["series"] for p in s["points"]), Decimal(0))
        logged = sum((Decimal(r["cost"]) for r in rows), Decimal(0))
        return (requests, rows) if counted == len(rows) and spent == logged else None

    agreed = eventually(agreeing)
    assert agreed is not None, "observability never agreed with the request log"
    requests, rows = agreed
    assert requests["scope"] == "team" and requests["unit"] == "count"
    [series] = [s for s in requests["series"] if s["model"] == MODEL]
    assert sum(p["value"] for p in series["points"]) >= 4

    ttft = _get(stack, "/observability", metric="ttft", since=_iso(start), until=until)
    [ttft_series] = [s for s in ttft["series"] if s["model"] == MODEL]
    for point in ttft_series["points"]:
        assert point["p50"] <= point["p95"]
        assert point["value"] >= 0
    tokens = _get(stack, "/observability", metric="tokens", granularity="day")
    [token_series] = [s for s in tokens["series"] if s["model"] == MODEL]
    assert sum(p["value"]["input"] for p in token_series["points"]) >= sum(
        r["inputTokens"] for r in rows if r["model"] == MODEL
    )


def test_bad_observability_parameters_are_400(stack: Stack) -> None:
    reply = httpx.get(
        f"{stack.base_url}/observability",
        params={"metric": "latency"},
        headers={"authorization": f"Bearer {stack.bootstrap_key()}"},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "metric"


async def _publish_and_find_team(
    stack: Stack, generation_id: str, facts: list[ActivityRecorded]
) -> str:
    """The team of ``generation_id`` as the router published it on the bus; then publish
    ``facts`` with that team filled in where it is empty."""
    bus = await Bus.connect(stack.nats_url, "suite-activity-test")
    try:
        team_id = ""
        for _ in range(200):
            last = await bus.js.get_last_msg("TOLLGATE_USAGE", USAGE_RECORDED)
            fact = UsageRecorded.FromString(last.data or b"")
            if fact.generation_id == generation_id:
                team_id = fact.team_id
                break
            await asyncio.sleep(0.1)
        assert team_id, "the router never published the usage fact"
        for activity in facts:
            activity.team_id = activity.team_id or team_id
            await bus.publish(ACTIVITY_RECORDED, activity.SerializeToString(), activity.event_id)
        return team_id
    finally:
        await bus.close()


def test_an_activity_fact_shows_in_its_teams_log_only(stack: Stack) -> None:
    completion = openai.OpenAI(
        base_url=stack.base_url, api_key=stack.bootstrap_key(), max_retries=0
    ).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "whoami"}])
    occurred = Timestamp()
    occurred.FromDatetime(datetime.now(UTC))
    suffix = f"{time.time_ns()}"
    ours = ActivityRecorded(
        event_id=f"evt_suite_{suffix}",
        type="byok-credential-added",
        actor=Actor(id="user_suite", type=ActorType.ACTOR_TYPE_USER),
        target=Target(type="byok-credential", id="openai"),
        details={"provider": "openai"},
        occurred_at=occurred,
    )
    theirs = ActivityRecorded(
        event_id=f"evt_other_{suffix}",
        team_id="team_someone_else",
        type="byok-credential-added",
        actor=Actor(id="user_other", type=ActorType.ACTOR_TYPE_USER),
        occurred_at=occurred,
    )
    asyncio.run(_publish_and_find_team(stack, completion.id, [theirs, ours, ours]))

    def logged() -> list[dict[str, Any]]:
        page = _get(stack, "/activity", type="byok-credential-added")
        return [e for e in page["data"] if e["id"].endswith(suffix)]

    events = eventually(logged)
    assert [e["id"] for e in events] == [ours.event_id]
    [event] = events
    assert event["actor"] == {"id": "user_suite", "type": "user"}
    assert event["target"] == {"type": "byok-credential", "id": "openai"}
    assert (event["accountType"], event["details"]) == ("team", {"provider": "openai"})
