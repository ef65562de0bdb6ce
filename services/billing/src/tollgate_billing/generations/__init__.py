"""Generations: the usage facts billing records (each exactly once, charged by the ledger) and
looks up by id; the durable consumer that feeds them in."""
