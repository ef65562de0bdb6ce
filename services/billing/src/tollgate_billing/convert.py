"""Proto ⇄ domain converters of the billing servicer: generations, credits, reservations' quotes,
unsettled holds, report rows, budgets and adjustment amounts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from tollgate.billing.v1 import billing_pb2
from tollgate_common.errors import InvalidArgument
from tollgate_common.money import format_usd, parse_usd
from tollgate_common.usage_record import Answer

from tollgate_billing.budgets.service import BudgetStatus
from tollgate_billing.domain import display
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger.account import Account
from tollgate_billing.ledger.holds import UnsettledHold
from tollgate_billing.ledger.view import Quote
from tollgate_billing.models import GENERATION_ROWS
from tollgate_billing.report.service import ReportRow

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


def price(text: str, param: str) -> Decimal:
    """A non-negative USD amount; INVALID_ARGUMENT naming ``param`` otherwise."""
    try:
        value = parse_usd(text)
    except ValueError:
        value = Decimal(-1)
    if value < 0:
        raise InvalidArgument(f"{param} must be a non-negative decimal", metadata={"param": param})
    return value


def quote_from_proto(request: billing_pb2.ReserveRequest) -> Quote:
    for name in (
        "input_tokens",
        "max_output_tokens",
        "model_max_output_tokens",
        "output_allowance",
        "running_generations",
    ):
        if getattr(request, name) < 0:
            raise InvalidArgument(f"{name} must not be negative", metadata={"param": name})
    return Quote(
        input_tokens=request.input_tokens,
        max_output_tokens=request.max_output_tokens,
        model_max_output_tokens=request.model_max_output_tokens,
        input_price=price(request.input_price, "input_price"),
        output_price=price(request.output_price, "output_price"),
        output_allowance=request.output_allowance,
        running_generations=request.running_generations,
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


def unsettled_to_proto(hold: UnsettledHold) -> billing_pb2.UnsettledHold:
    return billing_pb2.UnsettledHold(
        team_id=hold.team_id,
        hold_id=hold.hold_id,
        project_id=hold.project_id,
        key_id=hold.key_id,
        reserved=format_usd(hold.reserved),
        debited=format_usd(hold.debited),
        held=format_usd(hold.held),
        instance_id=hold.instance_id,
        created_at=_timestamp(hold.created_at),
        expires_at=_timestamp(hold.expires_at),
        expired_at=_timestamp(hold.expired_at),
    )


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
