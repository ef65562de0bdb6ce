"""Pre-flight: before any provider is called, billing holds the generation's worst-case cost.

The router estimates the prompt from the request size (messages, tools, schemas, provider
options), works out the output the upstream request would allow (the caller's limit as the
adapters raise it for thinking and as ``providerOptions`` change it, times the choices:
:func:`planned`), and sends the highest prices among the providers the generation may go to;
billing (where the money is) answers with a hold, the output tokens the team can afford when
fewer, or INSUFFICIENT_FUNDS (nothing sent upstream). The tokens held become the request's
hard cap (``output_cap``), which every adapter applies to the body it sends. Holds are credit
leases (:mod:`tollgate_router.credit.leases`): while a team's lease covers the next
generation's worst case, the generation draws from it with no round trip to billing (under
money pressure, its output allowance: :mod:`tollgate_router.credit.allowance`). The usage fact
settles what a generation spent; one that never reaches a provider gives its share back.

When billing cannot be reached the policy is ``last-known`` (default) or ``closed``: see
docs/billing.md, "When billing is unreachable".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

import grpc
from tollgate.billing.v1 import billing_pb2
from tollgate_common.errors import DomainError, InvalidArgument, Unavailable, error_details
from tollgate_common.ids import new_id
from tollgate_common.money import ZERO, format_usd, parse_usd

from tollgate_router.credit.allowance import OutputAllowances
from tollgate_router.credit.estimates import estimate_prompt_tokens
from tollgate_router.credit.give_backs import GiveBacks, team_of_book
from tollgate_router.credit.holds import NO_HOLD, Hold
from tollgate_router.credit.leases import Draw, LeaseBook, Need
from tollgate_router.domain import Caller, GenerationRequest
from tollgate_router.providers import (
    Output,
    ProviderError,
    UpstreamCall,
    planned_output,
)
from tollgate_router.providers.provider_options import body_fields, costly_option
from tollgate_router.routing.planning import Candidate, Plan

if TYPE_CHECKING:
    from tollgate.billing.v1.billing_pb2_grpc import BillingServiceAsyncStub

log = logging.getLogger(__name__)

OutagePolicy = Literal["last-known", "closed"]

BYOK = "byok"
# Output tokens one generated image takes (Gemini's image models: 1,290 per image up to
# 1024x1024), the fewest an image may occupy within the output limit.
TOKENS_PER_IMAGE = 1290
# Output tokens held when neither the caller nor the catalog gives a limit (as billing does).
DEFAULT_OUTPUT_RESERVE = 4096
# Turns of the event loop a Reserve waits at most for generations arriving with it.
_ARRIVAL_TURNS = 8
_OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class InsufficientFunds(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "INSUFFICIENT_FUNDS"


class BudgetExceeded(DomainError):
    """A budget of the team, the project or the key is used up (the message names the budget
    and its period); retrying does not help until the period resets."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "BUDGET_EXCEEDED"


_REFUSALS: dict[str, type[DomainError]] = {
    BudgetExceeded.reason: BudgetExceeded,
    InsufficientFunds.reason: InsufficientFunds,
}


class BillingUnavailable(Unavailable):
    reason = "BILLING_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("billing is unavailable; try again shortly")


@dataclass(frozen=True, slots=True)
class Prices:
    input: Decimal
    output: Decimal


def worst_prices(
    candidates: tuple[Candidate, ...], input_tokens: int = 0, images: bool = False
) -> Prices:
    """The highest input (cache writes included) and output price among ``candidates``, at the
    long-context tier a prompt of ``input_tokens`` reaches (its prices apply to the whole
    generation, as :func:`tollgate_router.pricing.cost` charges it). When the generation may
    draw images priced by the image, each output token may be part of one: the per-image price
    spread over an image's tokens counts as an output price."""
    inputs, outputs = [ZERO], [ZERO]
    for candidate in candidates:
        pricing = candidate.offer.pricing
        if pricing is None:
            continue
        prices = pricing.for_prompt(input_tokens)
        inputs += [prices.input, prices.input_cache_write or ZERO]
        outputs.append(prices.output)
        if images and prices.image:
            outputs.append(prices.image / TOKENS_PER_IMAGE)
    return Prices(max(inputs), max(outputs))


def worst_of(
    input_tokens: int, max_output_tokens: int, model_max_output_tokens: int, prices: Prices
) -> Decimal:
    """The most a generation may cost: billing's quote of the same figures."""
    output = max_output_tokens or model_max_output_tokens or DEFAULT_OUTPUT_RESERVE
    return input_tokens * prices.input + output * prices.output


def worst_case(message: billing_pb2.ReserveRequest) -> Decimal:
    """What billing holds for ``message``."""
    prices = Prices(parse_usd(message.input_price), parse_usd(message.output_price))
    return worst_of(
        message.input_tokens, message.max_output_tokens, message.model_max_output_tokens, prices
    )


def planned(request: GenerationRequest, candidates: tuple[Candidate, ...]) -> Output:
    """The most output the upstream request to any of ``candidates`` would allow: tokens (0:
    only the model's unknown max bounds it) and choices. A provider option that costs more
    than can be held is the caller's 400, naming it."""
    tokens, choices = 0, 1
    for candidate in candidates:
        offer = candidate.offer
        options = request.provider_options.get(offer.provider, {})
        if (costly := costly_option(offer.provider, offer.wire_protocol, options)) is not None:
            param = f"providerOptions.{offer.provider}.{costly[0]}"
            raise InvalidArgument(f"`{param}` {costly[1]}", metadata={"param": param})
        call = UpstreamCall(
            base_url="",
            api_key="",
            provider_model_id=offer.provider_model_id,
            messages=(),
            params=request.params,
            stream=False,
            max_output_tokens=candidate.model.max_output_tokens,
            provider_options=body_fields(offer.provider, offer.wire_protocol, options),
        )
        try:
            output = planned_output(offer.provider, offer.wire_protocol, call)
        except ProviderError:  # that provider refuses the request itself, before any output
            output = Output(candidate.model.max_output_tokens)
        tokens, choices = max(tokens, output.tokens), max(choices, output.choices)
    return Output(tokens, choices)


@dataclass(frozen=True, slots=True)
class Ask:
    """What a request may cost at worst, before the prices: who asks, for which plan."""

    caller: Caller
    plan: Plan
    input_tokens: int
    max_output_tokens: int = 0  # what the upstream request allows; 0: the model's max
    output: bool = True  # False: no output tokens to pay for (embeddings)
    images: bool = False  # it may draw images (``modalities``)


@dataclass(frozen=True, slots=True)
class Admission:
    hold: Hold
    plan: Plan  # narrowed to the team's BYOK candidates when it may not spend credits
    # The output tokens held: the hard cap of the upstream request; 0 when nothing is held.
    output_tokens: int = 0


class Generation(Protocol):
    """A generation about to be sent upstream, as pre-flight sees it: it may narrow the plan
    and clamp the request's output."""

    request: GenerationRequest
    plan: Plan


class Preflight(Protocol):
    async def reserve(self, generation: Generation) -> Hold:
        """Hold the worst case of ``generation`` (may clamp its ``max_tokens`` or narrow its
        plan); raises InsufficientFunds, BudgetExceeded or BillingUnavailable."""
        ...

    async def admit(self, ask: Ask) -> Admission:
        """Hold the worst case of ``ask``; raises as :meth:`reserve` does."""
        ...


class NoPreflight:
    """For a router run without billing (``TOLLGATE_ROUTER_PREFLIGHT=false``)."""

    async def reserve(self, generation: Generation) -> Hold:
        return NO_HOLD

    async def admit(self, ask: Ask) -> Admission:
        return Admission(NO_HOLD, ask.plan)


def lease_book_key(caller: Caller) -> str:
    """Leases are kept per team, project and key: billing caps a lease by the budgets of the
    project and key that asked for it, so only their generations may draw from it."""
    return "\n".join((caller.team_id, caller.project_id, caller.key_id))


def _renewed(message: billing_pb2.ReserveRequest) -> billing_pb2.ReserveRequest:
    """``message`` asked again as a new hold."""
    again = billing_pb2.ReserveRequest()
    again.CopyFrom(message)
    again.hold_id = new_id("lease")
    again.ClearField("lease_amount")
    return again


class BillingPreflight:
    def __init__(
        self,
        stub: BillingServiceAsyncStub,
        *,
        deadline_seconds: float,
        outage: OutagePolicy,
        lease: Decimal = ZERO,
        lease_seconds: float = 30.0,
        lease_wait_seconds: float = 0.1,
        instance_id: str = "",
        output_allowance: int = 0,
    ) -> None:
        self._stub = stub
        self._instance_id = instance_id  # kept with each hold: who left an unsettled one
        self._deadline = deadline_seconds
        self._outage = outage
        self._lease = lease
        self._lease_seconds = lease_seconds
        self._give_backs = GiveBacks(stub, deadline_seconds)
        self._allowances = OutputAllowances(output_allowance)
        self._leases = LeaseBook(
            self._give_backs.give_back,
            lease_seconds,
            shrink=self._give_backs.shrink,
            observe=self._allowances.observe,
            finished=self._finished,
        )
        # Per team: its generations this router has running or starting (from pre-flight until
        # their draw settles), told to billing with each Reserve: a lease is one hold there
        # however many generations draw on it.
        self._running: dict[str, int] = {}
        self._lease_wait = lease_wait_seconds
        # Per book: the lease request in flight (done when it has an answer).
        self._acquiring: dict[str, asyncio.Future[None]] = {}
        # Per team: what billing last said was left after a hold (for the outage policy).
        self._last_known: dict[str, Decimal] = {}

    async def reserve(self, generation: Generation) -> Hold:
        request = generation.request
        params = request.params
        system = tuple(c for c in generation.plan.candidates if c.credential_type != BYOK)
        output = planned(request, system)
        admission = await self.admit(
            Ask(
                caller=request.caller,
                plan=generation.plan,
                input_tokens=estimate_prompt_tokens(
                    request.messages, params, request.provider_options
                ),
                max_output_tokens=output.tokens,
                images=params.wants_images,
            )
        )
        generation.plan = admission.plan
        if admission.output_tokens:
            if admission.output_tokens < output.choices:  # not one token per choice
                await admission.hold.release()
                raise InsufficientFunds(
                    f"Insufficient funds for {output.choices} choices: add credits to your "
                    "team (POST /v1/credits/top-up) or ask for fewer."
                )
            params = replace(params, output_cap=admission.output_tokens)
            generation.request = replace(request, params=params)
        return admission.hold

    async def admit(self, ask: Ask) -> Admission:
        team_id = ask.caller.team_id
        self._started(team_id)
        try:
            admission = await self._admit(ask)
        except BaseException:
            self._ended(team_id)
            raise
        if not isinstance(admission.hold, Draw):  # nothing held: nothing to settle later
            self._ended(team_id)
        return admission

    def _started(self, team_id: str) -> None:
        self._running[team_id] = self._running.get(team_id, 0) + 1

    def _ended(self, team_id: str) -> None:
        if (running := self._running.pop(team_id, 0) - 1) > 0:
            self._running[team_id] = running

    def _finished(self, book: str) -> None:
        self._ended(team_of_book(book))

    async def _admit(self, ask: Ask) -> Admission:
        system = tuple(c for c in ask.plan.candidates if c.credential_type != BYOK)
        found = worst_prices(system, ask.input_tokens, ask.images)
        prices = Prices(found.input, found.output if ask.output else ZERO)
        if not system or (prices.input == 0 and prices.output == 0):
            return Admission(NO_HOLD, ask.plan)  # BYOK only, or free: nothing to charge
        max_output = ask.max_output_tokens if ask.output else 0
        model_max = max(c.model.max_output_tokens for c in system)
        worst = worst_of(ask.input_tokens, max_output, model_max, prices)
        held = (max_output or model_max or DEFAULT_OUTPUT_RESERVE) if ask.output else 0
        need = Need(ask.input_tokens * prices.input, held, prices.output)
        book = lease_book_key(ask.caller)
        draw = self._leases.draw(book, need)  # most generations: no round trip to billing
        if draw is not None:
            return Admission(draw, ask.plan, draw.tokens)
        caller = ask.caller
        models = {c.model.id for c in system}
        message = billing_pb2.ReserveRequest(
            team_id=caller.team_id,
            hold_id=new_id("lease"),
            input_tokens=ask.input_tokens,
            max_output_tokens=max_output,
            model_max_output_tokens=model_max,
            input_price=format_usd(prices.input),
            output_price=format_usd(prices.output),
            project_id=caller.project_id,
            key_id=caller.key_id,
            instance_id=self._instance_id,
            output_allowance=self._allowances.allowance(models) if ask.output else 0,
        )
        leasing = self._acquiring.get(book)
        if leasing is None:
            return await self._new_lease(ask.plan, book, message, worst, need)
        # Another generation of the book is asking for a lease: draw from it if it comes soon,
        # else hold on our own, so that a slow billing never queues a book behind one call.
        await asyncio.wait((leasing,), timeout=self._lease_wait)
        draw = self._leases.draw(book, need)
        if draw is not None:
            return Admission(draw, ask.plan, draw.tokens)
        return await self._reserve(ask.plan, book, message, worst, need, lease=False)

    async def _new_lease(
        self, plan: Plan, book: str, message: billing_pb2.ReserveRequest, worst: Decimal, need: Need
    ) -> Admission:
        """At most one lease request per book is in flight; the others wait for it briefly."""
        leasing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acquiring[book] = leasing
        try:
            return await self._reserve(plan, book, message, worst, need, lease=True)
        finally:
            del self._acquiring[book]
            leasing.set_result(None)

    async def _reserve(
        self,
        plan: Plan,
        book: str,
        message: billing_pb2.ReserveRequest,
        worst: Decimal,
        need: Need,
        *,
        lease: bool,
    ) -> Admission:
        """Hold ``worst`` (``need``) at billing: a new lease or a one-off hold. Billing
        clamping or refusing it while this router's leases of the team hold money their
        generations do not need is no shortage: those leases are shrunk to what their
        generations may cost, and billing is asked once more."""
        team_id, reclaim = message.team_id, True
        await self._arrivals(team_id)
        while True:
            await self._give_backs.settled(team_id)
            message.running_generations = self._running.get(team_id, 0)
            if lease and self._lease > 0:
                # Sized to the book's demand: twice the worst cases its generations would draw.
                demand = worst * 2 * (self._leases.in_flight(book) + 1)
                if (amount := max(self._lease, demand)) > worst:
                    message.lease_amount = format_usd(amount)
            try:
                reply = await self._stub.Reserve(message, timeout=self._deadline)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                    if reclaim and await self._reclaimed(team_id):
                        message, reclaim = _renewed(message), False
                        continue
                    return self._without_system_credentials(plan, exc)
                if exc.code() in _OUTAGE_CODES:
                    return Admission(self._during_outage(team_id, worst), plan, need.tokens)
                raise
            if reply.max_output_tokens and reclaim and self._leases.unused(self._books(team_id)):
                await self._give_backs.release(team_id, message.hold_id, "")  # asked again below
                await self._reclaimed(team_id)
                message, reclaim = _renewed(message), False
                continue
            break
        self._last_known[team_id] = parse_usd(reply.available)
        reserved = parse_usd(reply.reserved)
        if reply.max_output_tokens:  # billing could only afford fewer output tokens
            need = replace(need, tokens=min(need.tokens, reply.max_output_tokens))
        add = self._leases.add if lease else self._leases.single
        draw = add(book, message.hold_id, reserved, need, reply.output_allowance)
        return Admission(draw, plan, draw.tokens)

    async def _arrivals(self, team_id: str) -> None:
        """Let the team's generations that reached the router with this one (the edge sends
        those queued together in one message: a burst's first dozens at once) get this far
        before it asks billing, so that the count it sends includes them: a burst's first
        ``Reserve`` otherwise says 1 and billing grants whole windows the rest of the burst
        then finds held. A few turns of the event loop, for as long as the count grows."""
        count = self._running.get(team_id, 0)
        for _ in range(_ARRIVAL_TURNS):
            await asyncio.sleep(0)
            now = self._running.get(team_id, 0)
            if now == count:
                return
            count = now

    def _books(self, team_id: str) -> list[str]:
        return [book for book in self._leases.books() if team_of_book(book) == team_id]

    async def _reclaimed(self, team_id: str) -> bool:
        """Retire this router's leases of the team, shrunk at billing to what their running
        generations may cost; True when they held money those did not need."""
        books = self._books(team_id)
        if not self._leases.unused(books):
            return False
        self._leases.retire(books)
        await self._give_backs.settled(team_id)
        return True

    async def run(self) -> None:
        """Retire leases past their time, so that an idle team's lease goes back to billing;
        on cancellation (shutdown), give every idle lease back."""
        try:
            while True:
                await asyncio.sleep(self._lease_seconds / 2)
                self._leases.sweep()
        finally:
            self._leases.retire_all()
            await self._give_backs.drain()

    @staticmethod
    def _without_system_credentials(plan: Plan, exc: grpc.aio.AioRpcError) -> Admission:
        """Out of credits, or over a budget (both count only what the team is charged): only
        the team's own (BYOK) credentials may still serve it."""
        byok = tuple(c for c in plan.candidates if c.credential_type == BYOK)
        if not byok:
            details = error_details(exc)
            refusal = _REFUSALS.get(details.reason, InsufficientFunds)
            raise refusal(exc.details() or "insufficient funds", metadata=dict(details.metadata))
        return Admission(NO_HOLD, Plan(byok, plan.skipped))

    def _during_outage(self, team_id: str, worst: Decimal) -> Hold:
        left = self._last_known.get(team_id) if self._outage == "last-known" else None
        if left is None or left < worst:
            log.warning("billing unreachable: refusing a generation of team %s", team_id)
            raise BillingUnavailable()
        self._last_known[team_id] = left - worst
        log.warning(
            "billing unreachable: admitting a generation of team %s on its last-known balance",
            team_id,
        )
        return NO_HOLD
