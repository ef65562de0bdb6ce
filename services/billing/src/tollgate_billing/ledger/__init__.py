"""The ledger: each team's account (entries, balance, free tier), credits bought and adjusted,
usage charged exactly once, and the in-memory cache of balances with the holds and leases of
generations in flight (where reservations are checked against the balance and the budgets)."""
