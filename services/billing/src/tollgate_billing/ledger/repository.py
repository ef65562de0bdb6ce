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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import RowMapping, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tollgate_common.errors import DomainError
from tollgate_common.inbox import Stored, refuses_values
from tollgate_common.money import ZERO

from tollgate_billing.budgets.budget import BudgetState
from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger import holds
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
from tollgate_billing.ledger.view import Hold
from tollgate_billing.models import GENERATION_ROWS, balances, generations, ledger_entries

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
    """What a reservation decides on, read under the team's row lock: the account (its
    ``held`` is what all its live holds hold), the hold of the asked id if there is one, and
    the budgets with their spend; with budgets, the live holds one by one too (``held`` then
    still counts them: take them out before summing both)."""

    account: Account
    existing: Hold | None
    holds: dict[str, Hold]
    budgets: list[BudgetState]


# Given the team's state, decide a hold: the new one to write (None for a repeat of a hold id)
# and what to answer.
HoldDecision = Callable[[TeamState], tuple[NewHold | None, Answer]]


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


def _account(row: RowMapping) -> Account:
    return Account(
        team_id=row["team_id"],
        balance=row["balance"],
        total_used=row["total_used"],
        free_balance=row["free_balance"],
        purchased=row["purchased"],
        free_anchor=row["free_anchor"],
        free_period=row["free_period"],
        held=row["held"],
    )


def _account_row(account: Account, at: datetime) -> dict[str, object]:
    return {
        "b_team": account.team_id,
        "balance": account.balance,
        "total_used": account.total_used,
        "free_balance": account.free_balance,
        "purchased": account.purchased,
        "free_anchor": account.free_anchor,
        "free_period": account.free_period,
        "held": account.held,
        "updated_at": at,
    }


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
        return None if row is None else _account(row)

    async def entries_total(self, team_id: str) -> tuple[int, Decimal]:
        """How many entries the team has and their amounts (for audits and tests)."""
        query = select(ledger_entries.c.amount).where(ledger_entries.c.team_id == team_id)
        async with self._engine.connect() as conn:
            amounts = list((await conn.execute(query)).scalars())
        return len(amounts), sum(amounts, ZERO)

    async def post(self, team_id: str, at: datetime, decide: Decision) -> Posted:
        """Lock (or create) the team's account, let ``decide`` say what to write, write it."""
        async with self._engine.begin() as conn:
            [account] = (await _lock_accounts(conn, [team_id], at)).values()
            account, postings = decide(account)
            written = await _new_postings(conn, team_id, postings)
            for posting in written:
                account = apply(account, posting)
            await _insert_entries(conn, [(team_id, p) for p in written], at)
            await conn.execute(_UPDATE_ACCOUNT, [_account_row(account, at)])
        return Posted(account, tuple(written))

    async def reserve(
        self,
        team_id: str,
        hold_id: str,
        at: datetime,
        budgets: BudgetLoader | None,
        decide: HoldDecision[Answer],
    ) -> Reserved[Answer]:
        """Lock (or create) the team's account, post its free grant if one is due at ``at``,
        read what the decision needs (:class:`TeamState`), let ``decide`` say which hold to add,
        write it and the account's new ``held``: one transaction."""
        async with self._engine.begin() as conn:
            await self._hold_commit(conn)
            [account] = (await _lock_accounts(conn, [team_id], at)).values()
            grant = None
            due = free_grant_due(account, at, self._free_tier)
            if due is not None:
                account, posting = due
                for written in await _new_postings(conn, team_id, [posting] if posting else []):
                    account, grant = apply(account, written), written
                await _insert_entries(conn, [(team_id, grant)] if grant else [], at)
            try:
                new, answer = decide(await _team_state(conn, account, "", budgets))
            except DomainError:  # refused; unless it repeats a hold made before
                state = await _team_state(conn, account, hold_id, budgets)
                if state.existing is None:
                    raise
                new, answer = decide(state)
            if new is not None and not await holds.insert_hold(conn, new):
                # A repeat of a hold id (rare): answer the hold made before.
                new, answer = decide(await _team_state(conn, account, hold_id, budgets))
            if new is not None:
                account = replace(account, held=account.held + new.hold.amount)
            if due is not None or new is not None:
                await conn.execute(_UPDATE_ACCOUNT, [_account_row(account, at)])
        return Reserved(account, grant, answer)

    async def _hold_commit(self, conn: AsyncConnection) -> None:
        if self._hold_commits_async:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))

    async def read_state(self, team_id: str, budgets: BudgetLoader | None) -> TeamState:
        """The team's committed state as a reservation would read it (no lock: a figure)."""
        async with self._engine.connect() as conn:
            account = (await _select(conn, [team_id])).get(team_id) or Account(team_id)
            return await _team_state(conn, account, "", budgets)

    async def release(
        self, team_id: str, hold_id: str, spent: Decimal | None, in_use: bool = False
    ) -> None:
        """The router gives a hold back (see :meth:`Hold.give_back`), or shrinks a lease still
        in use (:meth:`Hold.shrink`); an unknown one is a no-op."""
        async with self._engine.begin() as conn:
            await self._hold_commit(conn)
            account = (await _select_for_update(conn, [team_id])).get(team_id)
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
            await _set_held(conn, team_id, account.held - before + after)

    async def expire_holds(self, before: datetime, at: datetime) -> int:
        """Let every live hold that expired before ``before`` go (each team under its lock);
        those their routers had not given back stay listed as unsettled. How many went."""
        async with self._engine.connect() as conn:
            teams = await holds.expired_teams(conn, before)
        gone = 0
        for team_id in teams:
            async with self._engine.begin() as conn:
                account = (await _select_for_update(conn, [team_id])).get(team_id)
                count, released = await holds.expire(conn, team_id, before, at)
                if account is not None and count:
                    await _set_held(conn, team_id, account.held - released)
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
        unclaimed = await _insert_new_generations(conn, batch)
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
        accounts = await _lock_accounts(conn, {g.team_id for g in new}, at)
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
                account = _debit(accounts[team], unapplied.pop(team, ZERO))
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
            accounts[team] = _debit(accounts[team], total)
        await _insert_entries(conn, entries, at)
        for team, released in (await _settle_holds(conn, new)).items():
            accounts[team] = replace(accounts[team], held=accounts[team].held - released)
        await conn.execute(_UPDATE_ACCOUNT, [_account_row(a, at) for a in accounts.values()])
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
    conn: AsyncConnection, account: Account, hold_id: str, budgets: BudgetLoader | None
) -> TeamState:
    """What a reservation decides on: the account, the hold of ``hold_id`` if it exists, the
    team's budgets and, only when it has some (they count the holds of their scope), its live
    holds one by one."""
    team_id = account.team_id
    existing = None
    if hold_id:
        found = await holds.holds_named(conn, [(team_id, hold_id)])
        existing = found[(team_id, hold_id)][0] if found else None
    states = await budgets(conn) if budgets is not None else []
    live = await holds.live_holds(conn, team_id) if states else {}
    return TeamState(account, existing, live, states)


async def _set_held(conn: AsyncConnection, team_id: str, held: Decimal) -> None:
    await conn.execute(update(balances).where(balances.c.team_id == team_id).values(held=held))


def _debit(account: Account, total: Decimal) -> Account:
    return apply(account, Posting(EntryKind.USAGE, -total, "")) if total else account


def _upsert(conn: AsyncConnection, table: Table) -> Any:
    """``INSERT`` of the connection's dialect, which has ``on_conflict_do_nothing``."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover


async def _insert_new_generations(conn: AsyncConnection, batch: Sequence[Generation]) -> set[str]:
    """Insert the generations whose ids are new; returns those ids.

    The generation row is the fact's idempotency record: its id is the fact's message id
    (``Nats-Msg-Id``), so inserting it claims the message in the same transaction as the debit.
    A repeat within ``batch`` is inserted once."""
    first = {g.generation_id: g for g in reversed(batch)}  # the first occurrence of each id wins
    # In id order: two writers inserting overlapping batches wait on each other in one
    # direction only (no deadlock).
    rows = [GENERATION_ROWS.row(first[gen_id]) for gen_id in sorted(first)]
    statement = (
        _upsert(conn, generations)
        .on_conflict_do_nothing(index_elements=[generations.c.id])
        .returning(generations.c.id)
    )
    result = await conn.execute(statement, rows)
    return set(result.scalars())


async def _lock_accounts(
    conn: AsyncConnection, team_ids: Iterable[str], at: datetime
) -> dict[str, Account]:
    """The accounts of ``team_ids``, created when missing, locked until the transaction ends
    (in team order, so two writers never wait on each other in a cycle)."""
    wanted = sorted(set(team_ids))
    accounts = await _select_for_update(conn, wanted)
    missing = [team for team in wanted if team not in accounts]
    if missing:  # a team's first entry: create its row (a concurrent creator may win)
        rows = [_account_row(Account(team_id=team), at) for team in missing]
        statement = _upsert(conn, balances).on_conflict_do_nothing()
        await conn.execute(statement, [{**r, "team_id": r["b_team"]} for r in rows])
        accounts.update(await _select_for_update(conn, missing))
    return accounts


async def _select_for_update(conn: AsyncConnection, team_ids: list[str]) -> dict[str, Account]:
    if conn.dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE, and would read outside the transaction until its first
        # write: writing first takes the one write lock (waiting for another process's), so
        # the rows it returns are the latest committed and nobody writes until the commit.
        touch = (
            update(balances)
            .where(balances.c.team_id.in_(team_ids))
            .values(team_id=balances.c.team_id)
            .returning(*balances.c)
        )
        rows = (await conn.execute(touch)).mappings()
        return {row["team_id"]: _account(row) for row in rows}
    return await _select(conn, team_ids, lock=True)


async def _select(
    conn: AsyncConnection, team_ids: list[str], *, lock: bool = False
) -> dict[str, Account]:
    query = select(balances).where(balances.c.team_id.in_(team_ids)).order_by(balances.c.team_id)
    result = (await conn.execute(query.with_for_update() if lock else query)).mappings()
    return {row["team_id"]: _account(row) for row in result}


async def _taken_keys(
    conn: AsyncConnection, postings: Sequence[tuple[str, Posting]]
) -> set[tuple[str, str]]:
    teams = {team for team, _ in postings}
    keys = {p.idempotency_key for _, p in postings}
    query = select(ledger_entries.c.team_id, ledger_entries.c.idempotency_key).where(
        ledger_entries.c.team_id.in_(teams), ledger_entries.c.idempotency_key.in_(keys)
    )
    found = {(r.team_id, r.idempotency_key) for r in await conn.execute(query)}
    return found & {(team, p.idempotency_key) for team, p in postings}


async def _new_postings(
    conn: AsyncConnection, team_id: str, postings: Sequence[Posting]
) -> list[Posting]:
    """``postings`` whose idempotency keys the team has not used yet (the row lock held)."""
    if not postings:
        return []
    taken = await _taken_keys(conn, [(team_id, p) for p in postings])
    return [p for p in postings if (team_id, p.idempotency_key) not in taken]


async def _insert_entries(
    conn: AsyncConnection, entries: Sequence[tuple[str, Posting]], at: datetime
) -> None:
    if not entries:
        return
    await conn.execute(
        insert(ledger_entries),
        [
            {
                "team_id": team,
                "kind": p.kind.value,
                "amount": p.amount,
                "idempotency_key": p.idempotency_key,
                "actor_type": p.actor_type.value,
                "actor_id": p.actor_id,
                "created_at": at,
            }
            for team, p in entries
        ],
    )


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
