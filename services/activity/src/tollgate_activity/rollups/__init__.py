"""Observability rollups: per team, scope, model and time bucket sums of the requests logged
(counts, errors, tokens, spend, the TTFT histogram), added in the transaction that stores the
requests, and the series an observability query reads from them."""
