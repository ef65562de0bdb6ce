"""Budgets: the spend caps of a team, a project or an API key per day or month, and what each
scope was charged in its current period (enforced by the ledger's reservations)."""
