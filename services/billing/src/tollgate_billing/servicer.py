"""BillingService over gRPC: protobuf in, domain calls, protobuf out (no SQL, no rules)."""

from __future__ import annotations

from typing import Any

import grpc
from tollgate.billing.v1 import billing_pb2, billing_pb2_grpc
from tollgate_common.errors import InvalidArgument
from tollgate_common.money import format_usd

from tollgate_billing.budgets.service import BudgetService
from tollgate_billing.convert import (
    adjustment_amount,
    budget_to_proto,
    credits_to_proto,
    generation_to_proto,
    price,
    quote_from_proto,
    report_row_to_proto,
    unsettled_to_proto,
)
from tollgate_billing.generations.service import GenerationService
from tollgate_billing.ledger.account import EntryKind
from tollgate_billing.ledger.service import CreditsService
from tollgate_billing.ledger.view import Requester
from tollgate_billing.limits.service import RateLimitService
from tollgate_billing.limits.servicer import RateLimitRpcs
from tollgate_billing.report.service import SpendReports, report_query

SERVICE_NAME = "tollgate.billing.v1.BillingService"

_ADJUSTMENT_KINDS = {"": EntryKind.ADJUSTMENT, "adjustment": EntryKind.ADJUSTMENT}
_ADJUSTMENT_KINDS["refund"] = EntryKind.REFUND
_MAX_REASON = 500
_MAX_UNSETTLED = 500


class BillingServicer(RateLimitRpcs, billing_pb2_grpc.BillingServiceServicer):
    def __init__(
        self,
        service: GenerationService,
        credits: CreditsService,
        reports: SpendReports,
        budgets: BudgetService,
        limits: RateLimitService,
    ) -> None:
        self._service = service
        self._credits = credits
        self._reports = reports
        self._budgets = budgets
        self._limits = limits

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

    async def SetFreeTier(
        self,
        request: billing_pb2.SetFreeTierRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.SetFreeTierResponse:
        await self._credits.set_free_tier(request.team_id, request.eligible)
        return billing_pb2.SetFreeTierResponse()

    async def Reserve(
        self,
        request: billing_pb2.ReserveRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.ReserveResponse:
        granted = await self._credits.reserve(
            request.team_id,
            request.hold_id,
            quote_from_proto(request),
            price(request.lease_amount or "0", "lease_amount"),
            Requester(request.project_id, request.key_id),
            request.instance_id,
        )
        return billing_pb2.ReserveResponse(
            reserved=format_usd(granted.reservation.reserved),
            max_output_tokens=granted.reservation.max_output_tokens,
            output_allowance=granted.reservation.output_allowance,
            available=format_usd(granted.available),
        )

    async def Release(
        self,
        request: billing_pb2.ReleaseRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.ReleaseResponse:
        spent = price(request.spent, "spent") if request.spent else None
        await self._credits.release(request.team_id, request.hold_id, spent, request.in_use)
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

    async def ListUnsettledHolds(
        self,
        request: billing_pb2.ListUnsettledHoldsRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> billing_pb2.ListUnsettledHoldsResponse:
        if not request.all_teams and not request.team_id:
            raise InvalidArgument("team_id is required", metadata={"param": "team_id"})
        if not 0 <= request.limit <= _MAX_UNSETTLED:
            raise InvalidArgument(
                f"limit must be between 1 and {_MAX_UNSETTLED}", metadata={"param": "limit"}
            )
        found = await self._credits.unsettled(
            None if request.all_teams else request.team_id, request.limit or _MAX_UNSETTLED
        )
        return billing_pb2.ListUnsettledHoldsResponse(holds=[unsettled_to_proto(h) for h in found])
