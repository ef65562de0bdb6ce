"""The ledger's rows in SQL, the statements :mod:`tollgate_billing.ledger.repository` composes
into its transactions: balance rows read, locked (created first when missing) and written,
entries inserted once per idempotency key, generation records inserted once per generation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tollgate_billing.generations.service import Generation
from tollgate_billing.ledger.account import Account, EntryKind, Posting, apply
from tollgate_billing.models import GENERATION_ROWS, balances, generations, ledger_entries


def account_of(row: RowMapping) -> Account:
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


def account_row(account: Account, at: datetime) -> dict[str, object]:
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


async def set_held(conn: AsyncConnection, team_id: str, held: Decimal) -> None:
    await conn.execute(update(balances).where(balances.c.team_id == team_id).values(held=held))


def debit(account: Account, total: Decimal) -> Account:
    return apply(account, Posting(EntryKind.USAGE, -total, "")) if total else account


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """``INSERT`` of the connection's dialect, which has ``on_conflict_do_nothing``."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover


async def insert_new_generations(conn: AsyncConnection, batch: Sequence[Generation]) -> set[str]:
    """Insert the generations whose ids are new; returns those ids.

    The generation row is the fact's idempotency record: its id is the fact's message id
    (``Nats-Msg-Id``), so inserting it claims the message in the same transaction as the debit.
    A repeat within ``batch`` is inserted once."""
    first = {g.generation_id: g for g in reversed(batch)}  # the first occurrence of each id wins
    # In id order: two writers inserting overlapping batches wait on each other in one
    # direction only (no deadlock).
    rows = [GENERATION_ROWS.row(first[gen_id]) for gen_id in sorted(first)]
    statement = (
        upsert(conn, generations)
        .on_conflict_do_nothing(index_elements=[generations.c.id])
        .returning(generations.c.id)
    )
    result = await conn.execute(statement, rows)
    return set(result.scalars())


async def lock_accounts(
    conn: AsyncConnection, team_ids: Iterable[str], at: datetime
) -> dict[str, Account]:
    """The accounts of ``team_ids``, created when missing, locked until the transaction ends
    (in team order, so two writers never wait on each other in a cycle)."""
    wanted = sorted(set(team_ids))
    accounts = await read_accounts_for_update(conn, wanted)
    missing = [team for team in wanted if team not in accounts]
    if missing:  # a team's first entry: create its row (a concurrent creator may win)
        rows = [account_row(Account(team_id=team), at) for team in missing]
        statement = upsert(conn, balances).on_conflict_do_nothing()
        await conn.execute(statement, [{**r, "team_id": r["b_team"]} for r in rows])
        accounts.update(await read_accounts_for_update(conn, missing))
    return accounts


async def read_accounts_for_update(
    conn: AsyncConnection, team_ids: list[str]
) -> dict[str, Account]:
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
        return {row["team_id"]: account_of(row) for row in rows}
    return await read_accounts(conn, team_ids, lock=True)


async def read_accounts(
    conn: AsyncConnection, team_ids: list[str], *, lock: bool = False
) -> dict[str, Account]:
    query = select(balances).where(balances.c.team_id.in_(team_ids)).order_by(balances.c.team_id)
    result = (await conn.execute(query.with_for_update() if lock else query)).mappings()
    return {row["team_id"]: account_of(row) for row in result}


async def taken_keys(
    conn: AsyncConnection, postings: Sequence[tuple[str, Posting]]
) -> set[tuple[str, str]]:
    teams = {team for team, _ in postings}
    keys = {p.idempotency_key for _, p in postings}
    query = select(ledger_entries.c.team_id, ledger_entries.c.idempotency_key).where(
        ledger_entries.c.team_id.in_(teams), ledger_entries.c.idempotency_key.in_(keys)
    )
    found = {(r.team_id, r.idempotency_key) for r in await conn.execute(query)}
    return found & {(team, p.idempotency_key) for team, p in postings}


async def new_postings(
    conn: AsyncConnection, team_id: str, postings: Sequence[Posting]
) -> list[Posting]:
    """``postings`` whose idempotency keys the team has not used yet (the row lock held)."""
    if not postings:
        return []
    taken = await taken_keys(conn, [(team_id, p) for p in postings])
    return [p for p in postings if (team_id, p.idempotency_key) not in taken]


async def insert_entries(
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
