"""The ledger in SQL: entries, balance rows and generation records, written together.

Every write locks the balance rows it changes (``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite a write to the rows first, which takes the database's one write lock before anything is
read), inserts the entries (unique per team and idempotency key) and updates the rows in the same
transaction, so a team's balance is always the sum of its entries. A team's holds are written
under the same lock (:mod:`tollgate_billing.ledger.holds`): a reservation reads the committed
balance and every live hold of the team, whichever billing process wrote them, and a usage fact
moves its cost from its hold to the balance in one transaction. Callers serialise their writes
within a process (the service's write lock).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.inbox import Stored, refuses_values
from tollgate_common.money import ZERO

from tollgate_billing.budgets.budget import BudgetState
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger import holds, rows
from tollgate_billing.ledger.account import (
    DEFAULT_FREE_TIER,
    Account,
    ActorType,
    EntryKind,
    FreeTier,
    Posting,
    apply,
    free_grant_due,
)
from tollgate_billing.ledger.holds import NewHold, UnsettledHold
from tollgate_billing.ledger.view import Hold, HoldTally
from tollgate_billing.models import balances, generations, ledger_entries

log = logging.getLogger(__name__)

# Given a team's account as locked, what to write: the account to store (free-tier state
# included) and the entries to post on top of it.
Decision = Callable[[Account], tuple[Account, list[Posting]]]


@dataclass(frozen=True, slots=True)
class Posted:
    """What one write changed: the account after it and the entries written (a posting whose
    idempotency key was used before is left out)."""

    account: Account
    postings: tuple[Posting, ...]


Answer = TypeVar("Answer")
# The team's budgets with their spend, read on the reservation's connection.
BudgetLoader = Callable[[AsyncConnection], Awaitable[list[BudgetState]]]


@dataclass(frozen=True, slots=True)
class TeamState:
    """What reservations decide on, read under the team's row lock: the account (its ``held``
    is what all its live holds hold), the holds stored under the asked ids, and the budgets
    with their spend; with budgets, the live holds one by one too (``held`` then still counts
    them: take them out before summing both), without them their :class:`HoldTally`."""

    account: Account
    existing: dict[str, Hold]
    holds: dict[str, Hold]
    budgets: list[BudgetState]
    tally: HoldTally = field(default_factory=HoldTally)


# Given the team's state, decide the holds of a batch of reservations: the new ones to write
# (none for an id stored before) and what to answer.
HoldDecision = Callable[[TeamState], tuple[list[NewHold], Answer]]


@dataclass(frozen=True, slots=True)
class Reserved(Generic[Answer]):
    """What a reservation's transaction did: the account after it, the free grant it posted
    (if one was due) and what the decision answered."""

    account: Account
    grant: Posting | None
    answer: Answer


@dataclass(frozen=True, slots=True)
class UsageApplied:
    """The result of applying a batch of usage facts."""

    stored: list[Stored]  # one per generation, in order
    accounts: dict[str, Account]  # every team whose account changed, after the batch
    grants: list[tuple[str, Posting]]  # free-tier grants the batch triggered
    settled: list[Generation]  # each generation stored now (its hold is settled)


_UPDATE_ACCOUNT = (
    update(balances)
    .where(balances.c.team_id == bindparam("b_team"))
    .values(
        balance=bindparam("balance"),
        total_used=bindparam("total_used"),
        free_balance=bindparam("free_balance"),
        purchased=bindparam("purchased"),
        free_anchor=bindparam("free_anchor"),
        free_period=bindparam("free_period"),
        held=bindparam("held"),
        updated_at=bindparam("updated_at"),
    )
)


class LedgerRepository:
    def __init__(
        self,
        engine: AsyncEngine,
        free_tier: FreeTier = DEFAULT_FREE_TIER,
        *,
        hold_commits_async: bool = False,
    ) -> None:
        self._engine = engine
        self._free_tier = free_tier
        # PostgreSQL: commit holds without waiting for the WAL flush (see BillingSettings).
        self._hold_commits_async = hold_commits_async and engine.dialect.name == "postgresql"

    @property
    def one_writer(self) -> bool:
        """Whether the database takes one writer at a time (SQLite): callers then queue their
        writes in the process rather than on its busy timeout."""
        return self._engine.dialect.name == "sqlite"

    async def load(self, team_id: str) -> Account | None:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(balances).where(balances.c.team_id == team_id)))
                .mappings()
                .first()
            )
        return None if row is None else rows.account_of(row)

    async def entries_total(self, team_id: str) -> tuple[int, Decimal]:
        """How many entries the team has and their amounts (for audits and tests)."""
        query = select(ledger_entries.c.amount).where(ledger_entries.c.team_id == team_id)
        async with self._engine.connect() as conn:
            amounts = list((await conn.execute(query)).scalars())
        return len(amounts), sum(amounts, ZERO)

    async def post(self, team_id: str, at: datetime, decide: Decision) -> Posted:
        """Lock (or create) the team's account, let ``decide`` say what to write, write it."""
        async with self._engine.begin() as conn:
            [account] = (await rows.lock_accounts(conn, [team_id], at)).values()
            account, postings = decide(account)
            written = await rows.new_postings(conn, team_id, postings)
            for posting in written:
                account = apply(account, posting)
            await rows.insert_entries(conn, [(team_id, p) for p in written], at)
            await conn.execute(_UPDATE_ACCOUNT, [rows.account_row(account, at)])
        return Posted(account, tuple(written))

    async def reserve(
        self,
        team_id: str,
        hold_ids: Sequence[str],
        at: datetime,
        budgets: BudgetLoader | None,
        decide: HoldDecision[Answer],
    ) -> Reserved[Answer]:
        """Lock (or create) the team's account, post its free grant if one is due at ``at``,
        read what the decisions on ``hold_ids`` need (:class:`TeamState`), let ``decide`` say
        which holds to add, write them and the account's new ``held``: one transaction for a
        whole batch of the team's reservations."""
        async with self._engine.begin() as conn:
            await self._hold_commit(conn)
            [account] = (await rows.lock_accounts(conn, [team_id], at)).values()
            grant = None
            due = free_grant_due(account, at, self._free_tier)
            if due is not None:
                account, posting = due
                for written in await rows.new_postings(conn, team_id, [posting] if posting else []):
                    account, grant = apply(account, written), written
                await rows.insert_entries(conn, [(team_id, grant)] if grant else [], at)
            new, answer = decide(await _team_state(conn, account, hold_ids, budgets))
            inserted = [hold for hold in new if await holds.insert_hold(conn, hold)]
            if len(inserted) < len(new):
                # An id stored meanwhile (not under this lock: never, short of a bug): decide
                # again, answering the holds stored under those ids.
                new, answer = decide(await _team_state(conn, account, hold_ids, budgets))
                inserted += [hold for hold in new if await holds.insert_hold(conn, hold)]
            if inserted:
                held = sum((hold.hold.amount for hold in inserted), ZERO)
                account = replace(account, held=account.held + held)
            if due is not None or inserted:
                await conn.execute(_UPDATE_ACCOUNT, [rows.account_row(account, at)])
        return Reserved(account, grant, answer)

    async def _hold_commit(self, conn: AsyncConnection) -> None:
        if self._hold_commits_async:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))

    async def read_state(self, team_id: str, budgets: BudgetLoader | None) -> TeamState:
        """The team's committed state as a reservation would read it (no lock: a figure)."""
        async with self._engine.connect() as conn:
            account = (await rows.read_accounts(conn, [team_id])).get(team_id) or Account(team_id)
            return await _team_state(conn, account, (), budgets)

    async def release(
        self, team_id: str, hold_id: str, spent: Decimal | None, in_use: bool = False
    ) -> None:
        """The router gives a hold back (see :meth:`Hold.give_back`), or shrinks a lease still
        in use (:meth:`Hold.shrink`); an unknown one is a no-op."""
        async with self._engine.begin() as conn:
            await self._hold_commit(conn)
            account = (await rows.read_accounts_for_update(conn, [team_id])).get(team_id)
            found = await holds.holds_named(conn, [(team_id, hold_id)])
            hold, state = found.get((team_id, hold_id), (None, None))
            if account is None or hold is None or state is not holds.HoldState.LIVE:
                return
            before = hold.amount
            if in_use:
                hold.shrink(ZERO if spent is None else spent)
                await holds.write_holds(conn, [(team_id, hold_id, hold)], [])
                after = hold.amount
            elif hold.give_back(spent):
                await holds.write_holds(conn, [], [(team_id, hold_id)])
                after = ZERO
            else:
                await holds.write_holds(conn, [(team_id, hold_id, hold)], [])
                after = hold.amount
            await rows.set_held(conn, team_id, account.held - before + after)

    async def expire_holds(self, before: datetime, at: datetime) -> int:
        """Let every live hold that expired before ``before`` go (each team under its lock);
        those their routers had not given back stay listed as unsettled. How many went."""
        async with self._engine.connect() as conn:
            teams = await holds.expired_teams(conn, before)
        gone = 0
        for team_id in teams:
            async with self._engine.begin() as conn:
                account = (await rows.read_accounts_for_update(conn, [team_id])).get(team_id)
                count, released = await holds.expire(conn, team_id, before, at)
                if account is not None and count:
                    await rows.set_held(conn, team_id, account.held - released)
                gone += count
        return gone

    async def unsettled(self, team_id: str | None, limit: int) -> list[UnsettledHold]:
        async with self._engine.connect() as conn:
            return await holds.unsettled(conn, team_id, limit)

    async def apply_usage(self, batch: Sequence[Generation], at: datetime) -> UsageApplied:
        """Record each generation not seen before and debit its cost, all in one transaction
        where possible (see :meth:`_apply_one_by_one` for the fallback)."""
        if not batch:
            return UsageApplied([], {}, [], [])
        try:
            async with self._engine.begin() as conn:
                return await self._apply(conn, batch, at)
        except IntegrityError:
            log.info("a concurrent delivery raced a batch of %d; one by one", len(batch))
        except DBAPIError as exc:
            if not refuses_values(exc):
                raise
            log.warning("the database refused a value in a batch of %d; one by one", len(batch))
        return await self._apply_one_by_one(batch, at)

    async def _apply_one_by_one(self, batch: Sequence[Generation], at: datetime) -> UsageApplied:
        """Each generation in its own transaction: the refused ones come back REJECTED."""
        total = UsageApplied([], {}, [], [])
        for generation in batch:
            try:
                async with self._engine.begin() as conn:
                    one = await self._apply(conn, [generation], at)
            except IntegrityError:
                if not await self._claimed(generation.generation_id):
                    raise
                total.stored.append(Stored.DUPLICATE)
                continue
            except DBAPIError as exc:
                if not refuses_values(exc):
                    raise
                log.error(
                    "the database refuses generation %s: %s", generation.generation_id, exc.orig
                )
                total.stored.append(Stored.REJECTED)
                continue
            total.stored.extend(one.stored)
            total.accounts.update(one.accounts)
            total.grants.extend(one.grants)
            total.settled.extend(one.settled)
        return total

    async def _apply(
        self, conn: AsyncConnection, batch: Sequence[Generation], at: datetime
    ) -> UsageApplied:
        unclaimed = await rows.insert_new_generations(conn, batch)
        stored: list[Stored] = []
        new: list[Generation] = []
        for generation in batch:
            if generation.generation_id in unclaimed:
                unclaimed.discard(
                    generation.generation_id
                )  # a repeat later in this batch is a duplicate
                new.append(generation)
                stored.append(Stored.NEW)
            else:
                stored.append(Stored.DUPLICATE)
        if not new:
            return UsageApplied(stored, {}, [], [])
        accounts = await rows.lock_accounts(conn, {g.team_id for g in new}, at)
        entries: list[tuple[str, Posting]] = []
        grants: list[tuple[str, Posting]] = []
        # Debits not yet applied to their team's account: summed, they change it exactly as
        # one by one would (usage spends the free part first either way), at a fraction of
        # the cost; they are applied before a grant and at the end.
        unapplied: dict[str, Decimal] = {}
        for generation in sorted(new, key=lambda g: g.created_at):
            team = generation.team_id
            # A request billing never saw before (it was down) still starts the free tier.
            if free_grant_due(accounts[team], generation.created_at, self._free_tier) is not None:
                account = rows.debit(accounts[team], unapplied.pop(team, ZERO))
                due = free_grant_due(account, generation.created_at, self._free_tier)
                assert due is not None  # due-ness does not depend on the balance
                account, grant = due
                if grant is not None:
                    grants.append((team, grant))
                    entries.append((team, grant))
                    account = apply(account, grant)
                accounts[team] = account
            if generation.cost:
                key = f"usage:{generation.generation_id}"
                entries.append((team, Posting(EntryKind.USAGE, -generation.cost, key)))
                unapplied[team] = unapplied.get(team, ZERO) + generation.cost
        for team, total in unapplied.items():
            accounts[team] = rows.debit(accounts[team], total)
        await rows.insert_entries(conn, entries, at)
        for team, released in (await _settle_holds(conn, new)).items():
            accounts[team] = replace(accounts[team], held=accounts[team].held - released)
        await conn.execute(_UPDATE_ACCOUNT, [rows.account_row(a, at) for a in accounts.values()])
        return UsageApplied(stored, accounts, grants, new)

    async def _claimed(self, msg_id: str) -> bool:
        query = select(generations.c.id).where(generations.c.id == msg_id)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None


async def _settle_holds(conn: AsyncConnection, new: Sequence[Generation]) -> dict[str, Decimal]:
    """Each new generation's cost leaves the hold it drew from (its router's lease, named by
    ``hold_id``; else its own hold, named by its id, which goes), in the transaction that
    debits it: what the team has available never moves twice. A fact that arrives after its
    hold expired unsettled still counts in its ``debited`` (the operator sees it). Returns
    what each team's live holds released."""
    found = await holds.holds_named(conn, [(g.team_id, g.hold_id or g.generation_id) for g in new])
    if not found:
        return {}
    before = {key: hold.amount for key, (hold, _) in found.items()}
    changed: dict[tuple[str, str], Hold] = {}
    done: set[tuple[str, str]] = set()
    for g in new:
        key = (g.team_id, g.hold_id or g.generation_id)
        if key not in found or key in done:
            continue
        hold, state = found[key]
        finished = hold.charge(g.cost) or not g.hold_id
        if finished and state is holds.HoldState.LIVE:
            done.add(key)
            changed.pop(key, None)
        else:
            changed[key] = hold
    await holds.write_holds(
        conn, [(team, hold_id, h) for (team, hold_id), h in changed.items()], sorted(done)
    )
    released: dict[str, Decimal] = {}
    for key, (hold, state) in found.items():
        if state is holds.HoldState.LIVE and (key in done or key in changed):
            after = ZERO if key in done else hold.amount
            released[key[0]] = released.get(key[0], ZERO) + before[key] - after
    return released


async def _team_state(
    conn: AsyncConnection, account: Account, hold_ids: Sequence[str], budgets: BudgetLoader | None
) -> TeamState:
    """What reservations decide on: the account, the holds stored under ``hold_ids``, the
    team's budgets and, only when it has some (they count the holds of their scope), its live
    holds one by one; else their tally."""
    team_id = account.team_id
    found = await holds.holds_named(conn, [(team_id, hold_id) for hold_id in hold_ids])
    existing = {hold_id: hold for (_, hold_id), (hold, _) in found.items()}
    states = await budgets(conn) if budgets is not None else []
    if states:
        return TeamState(account, existing, await holds.live_holds(conn, team_id), states)
    return TeamState(account, existing, {}, states, await holds.tally(conn, team_id))


__all__ = [
    "ActorType",
    "Decision",
    "HoldDecision",
    "LedgerRepository",
    "Posted",
    "Reserved",
    "TeamState",
    "UsageApplied",
]
