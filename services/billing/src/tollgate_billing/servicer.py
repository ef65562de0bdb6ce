"""BillingService over gRPC: protobuf in, domain calls, protobuf out (no SQL, no rules)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate_common.errors import InvalidArgument
from tollgate_common.money import format_usd, parse_usd
from tollgate_common.usage_record import Answer

from tollgate_billing.budgets.service import BudgetService, BudgetStatus
from tollgate_billing.domain import display
from tollgate_billing.generations.service import Generation, GenerationService
from tollgate_billing.ledger.account import Account, EntryKind
from tollgate_billing.ledger.cache import Quote, Requester
from tollgate_billing.ledger.service import CreditsService
from tollgate_billing.models import GENERATION_ROWS
from tollgate_billing.report.service import ReportRow, SpendReports, report_query

SERVICE_NAME = "tollgate.billing.v1.BillingService"


# Each field of the lookup's message is the generation's fact field of its name.
_GENERATION = Answer(billing_pb2.Generation, GENERATION_ROWS.renames)


def generation_to_proto(generation: Generation) -> billing_pb2.Generation:
    return _GENERATION(generation)


def credits_to_proto(account: Account) -> billing_pb2.Credits:
    return billing_pb2.Credits(
        balance=display(account.balance), total_used=display(account.total_used)
    )


def report_row_to_proto(row: ReportRow) -> billing_pb2.SpendReportRow:
    return billing_pb2.SpendReportRow(
        key=row.key,
        total_cost=format_usd(row.total_cost),
        market_cost=format_usd(row.market_cost),
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cached_input_tokens=row.cached_input_tokens,
        cache_creation_input_tokens=row.cache_creation_input_tokens,
        reasoning_tokens=row.reasoning_tokens,
        request_count=row.request_count,
    )


def _price(text: str, param: str) -> Decimal:
    try:
        value = parse_usd(text)
    except ValueError:
        value = Decimal(-1)
    if value < 0:
        raise InvalidArgument(f"{param} must be a non-negative decimal", metadata={"param": param})
    return value


def quote_from_proto(request: billing_pb2.ReserveRequest) -> Quote:
    for name in ("input_tokens", "max_output_tokens", "model_max_output_tokens"):
        if getattr(request, name) < 0:
            raise InvalidArgument(f"{name} must not be negative", metadata={"param": name})
    return Quote(
        input_tokens=request.input_tokens,
        max_output_tokens=request.max_output_tokens,
        model_max_output_tokens=request.model_max_output_tokens,
        input_price=_price(request.input_price, "input_price"),
        output_price=_price(request.output_price, "output_price"),
    )


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def budget_to_proto(status: BudgetStatus) -> billing_pb2.Budget:
    budget = status.budget
    return billing_pb2.Budget(
        scope=budget.scope.value,
        scope_id=budget.scope_id,
        amount=display(budget.amount),
        period=budget.period.value,
        hard=budget.hard,
        spent=format_usd(status.spent),
        period_start=_timestamp(status.period_start),
        created_at=_timestamp(budget.created_at),
        updated_at=_timestamp(budget.updated_at),
    )


_ADJUSTMENT_KINDS = {"": EntryKind.ADJUSTMENT, "adjustment": EntryKind.ADJUSTMENT}
_ADJUSTMENT_KINDS["refund"] = EntryKind.REFUND
_MAX_REASON = 500


def adjustment_amount(text: str) -> Decimal:
    """A signed, non-zero decimal with at most 2 decimals, below 1,000,000,000 either way."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        value = Decimal(0)
    if (
        not value.is_finite()
        or not value
        or abs(value) >= Decimal(10) ** 9
        or value != value.quantize(Decimal("0.01"))
    ):
        raise InvalidArgument(
            "amount must be a non-zero signed decimal with at most 2 decimals",
            metadata={"param": "amount"},
        )
    return value


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    def __init__(
        self,
        service: GenerationService,
        credits: CreditsService,
        reports: SpendReports,
        budgets: BudgetService,
    ) -> None:
        self._service = service
        self._credits = credits
        self._reports = reports
        self._budgets = budgets

    async def GetGeneration(
        self,
        request: billing_pb2.GetGenerationRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.GetGenerationResponse:
        generation = await self._service.get_generation(request.team_id, request.generation_id)
        return billing_pb2.GetGenerationResponse(generation=generation_to_proto(generation))

    async def GetCredits(
        self,
        request: billing_pb2.GetCreditsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.GetCreditsResponse:
        account = await self._credits.credits(request.team_id)
        return billing_pb2.GetCreditsResponse(credits=credits_to_proto(account))

    async def TopUp(
        self,
        request: billing_pb2.TopUpRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.TopUpResponse:
        account = await self._credits.top_up(
            request.team_id,
            request.amount,
            request.idempotency_key,
            request.actor_type or "system",
            request.actor_id,
        )
        return billing_pb2.TopUpResponse(credits=credits_to_proto(account))

    async def Reserve(
        self,
        request: billing_pb2.ReserveRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.ReserveResponse:
        requester = Requester(request.project_id, request.key_id)
        reservation = await self._credits.reserve(
            request.team_id,
            request.hold_id,
            quote_from_proto(request),
            _price(request.lease_amount or "0", "lease_amount"),
            requester,
        )
        return billing_pb2.ReserveResponse(
            reserved=format_usd(reservation.reserved),
            max_output_tokens=reservation.max_output_tokens,
            available=format_usd(self._credits.available(request.team_id, requester)),
        )

    async def Release(
        self,
        request: billing_pb2.ReleaseRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.ReleaseResponse:
        spent = _price(request.spent, "spent") if request.spent else None
        self._credits.release(request.team_id, request.hold_id, spent)
        return billing_pb2.ReleaseResponse()

    async def GetSpendReport(
        self,
        request: billing_pb2.GetSpendReportRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.GetSpendReportResponse:
        query = report_query(
            request.team_id,
            request.start_date,
            request.end_date,
            group_by=request.group_by,
            date_part=request.date_part,
            model=request.model,
            provider=request.provider,
            credential_type=request.credential_type,
            user=request.user,
            tags=request.tags,
        )
        rows = await self._reports.report(query)
        return billing_pb2.GetSpendReportResponse(rows=[report_row_to_proto(r) for r in rows])

    async def ListBudgets(
        self,
        request: billing_pb2.ListBudgetsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.ListBudgetsResponse:
        found = await self._budgets.list(request.team_id)
        return billing_pb2.ListBudgetsResponse(budgets=[budget_to_proto(s) for s in found])

    async def PutBudget(
        self,
        request: billing_pb2.PutBudgetRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.PutBudgetResponse:
        status, created = await self._budgets.put(
            request.team_id,
            request.scope,
            request.scope_id,
            request.amount,
            request.period,
            request.hard,
            request.actor_id,
        )
        return billing_pb2.PutBudgetResponse(budget=budget_to_proto(status), created=created)

    async def DeleteBudget(
        self,
        request: billing_pb2.DeleteBudgetRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.DeleteBudgetResponse:
        await self._budgets.delete(
            request.team_id, request.scope, request.scope_id, request.actor_id
        )
        return billing_pb2.DeleteBudgetResponse()

    async def AdjustCredits(
        self,
        request: billing_pb2.AdjustCreditsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.AdjustCreditsResponse:
        kind = _ADJUSTMENT_KINDS.get(request.kind)
        if kind is None:
            raise InvalidArgument("kind must be adjustment or refund", metadata={"param": "kind"})
        reason = request.reason.strip()
        if not reason or len(reason) > _MAX_REASON:
            raise InvalidArgument(
                f"reason is required (at most {_MAX_REASON} characters)",
                metadata={"param": "reason"},
            )
        account = await self._credits.adjust(
            request.team_id,
            adjustment_amount(request.amount),
            request.idempotency_key,
            kind,
            request.actor_id,
            reason=reason,
            allow_negative=request.allow_negative,
        )
        return billing_pb2.AdjustCreditsResponse(credits=credits_to_proto(account))
