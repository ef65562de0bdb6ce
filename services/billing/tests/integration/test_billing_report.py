"""The spend report over real generations (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tollgate_billing.ledger.repository import LedgerRepository
from tollgate_billing.ledger.service import CreditsService
from tollgate_billing.report.repository import ReportRepository
from tollgate_billing.report.service import SpendReports, report_query
from tollgate_common.errors import InvalidArgument

from .support import Facts, generation

D = Decimal
DAY1 = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
DAY2 = DAY1 + timedelta(hours=1)  # 2026-05-02 00:30


@pytest.fixture
async def reports(engine: AsyncEngine) -> SpendReports:
    credits = CreditsService(LedgerRepository(engine), Facts())
    await credits.apply_usage(
        [
            generation("gen_1", "0.1", created_at=DAY1, input_tokens=10, output_tokens=5),
            generation("gen_2", "0.0000001", created_at=DAY2, model="anthropic/claude"),
            generation(
                "gen_3",
                "0",
                created_at=DAY2,
                credential_type="byok",
                market_cost=D("0.5"),
                provider="anthropic",
                model="anthropic/claude",
                cached_input_tokens=4,
                cache_write_tokens=2,
                reasoning_tokens=3,
            ),
            generation("gen_other_team", "9", team_id="team_b", created_at=DAY1),
            generation("gen_before", "7", created_at=DAY1 - timedelta(days=1)),
        ]
    )
    return SpendReports(ReportRepository(engine))


async def test_per_day_exact_and_only_the_callers_team(reports: SpendReports) -> None:
    rows = await reports.report(report_query("team_a", "2026-05-01", "2026-05-02"))
    assert [(r.key, r.total_cost, r.request_count) for r in rows] == [
        ("2026-05-01", D("0.1"), 1),
        ("2026-05-02", D("0.0000001"), 2),
    ]
    assert rows[1].market_cost == D("0.5000001")
    assert (rows[1].cached_input_tokens, rows[1].cache_creation_input_tokens) == (4, 2)
    assert rows[1].reasoning_tokens == 3


async def test_per_hour_model_provider_and_credential_type(reports: SpendReports) -> None:
    hours = await reports.report(
        report_query("team_a", "2026-05-01", "2026-05-02", date_part="hour")
    )
    assert [r.key for r in hours] == ["2026-05-01T23:00:00Z", "2026-05-02T00:00:00Z"]
    models = await reports.report(
        report_query("team_a", "2026-05-01", "2026-05-02", group_by="model")
    )
    assert [(r.key, r.request_count) for r in models] == [
        ("anthropic/claude", 2),
        ("openai/gpt-4o", 1),
    ]
    byok = await reports.report(
        report_query(
            "team_a", "2026-05-01", "2026-05-02", group_by="provider", credential_type="byok"
        )
    )
    assert [(r.key, r.total_cost, r.market_cost) for r in byok] == [("anthropic", D(0), D("0.5"))]


async def test_the_range_is_whole_utc_days(reports: SpendReports) -> None:
    rows = await reports.report(report_query("team_a", "2026-05-02", "2026-05-02"))
    assert [r.key for r in rows] == ["2026-05-02"]
    assert await reports.report(report_query("team_a", "2026-06-01", "2026-06-30")) == []


@pytest.mark.parametrize(
    ("args", "changes", "param"),
    [
        (("2026-05-01", "2026-04-30"), {}, "end_date"),
        (("2026-5-1", "2026-05-02"), {}, "start_date"),
        (("2026-05-01", "tomorrow"), {}, "end_date"),
        (("2025-01-01", "2026-05-02"), {}, "end_date"),
        (("2026-05-01", "2026-05-02"), {"group_by": "colour"}, "group_by"),
        (("2026-05-01", "2026-05-02"), {"date_part": "minute"}, "date_part"),
        (("2026-05-01", "2026-05-02"), {"credential_type": "mine"}, "credential_type"),
    ],
)
def test_bad_queries_name_their_parameter(
    args: tuple[str, str], changes: dict[str, str], param: str
) -> None:
    with pytest.raises(InvalidArgument) as bad:
        report_query("team_a", *args, **changes)
    assert bad.value.metadata["param"] == param


async def test_per_end_user_and_tag_with_their_filters(engine: AsyncEngine) -> None:
    credits = CreditsService(LedgerRepository(engine), Facts())
    await credits.apply_usage(
        [
            generation("gen_a", "1", created_at=DAY1, end_user="alice", tags=("beta", "x")),
            generation("gen_b", "2", created_at=DAY1, end_user="bob", tags=("beta",)),
            generation("gen_c", "4", created_at=DAY1),
        ]
    )
    reports = SpendReports(ReportRepository(engine))

    async def keyed(**options: object) -> list[tuple[str, Decimal, int]]:
        query = report_query("team_a", "2026-05-01", "2026-05-01", **options)  # type: ignore[arg-type]
        return [(r.key, r.total_cost, r.request_count) for r in await reports.report(query)]

    assert await keyed(group_by="user") == [("", D(4), 1), ("alice", D(1), 1), ("bob", D(2), 1)]
    # gen_a counts in both of its tags; gen_c, without tags, in none.
    assert await keyed(group_by="tag") == [("beta", D(3), 2), ("x", D(1), 1)]
    assert await keyed(group_by="model", user="alice") == [("openai/gpt-4o", D(1), 1)]
    assert await keyed(group_by="user", tags=("x", "nope")) == [("alice", D(1), 1)]
