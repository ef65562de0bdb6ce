"""Idempotent retries: a client's ``Idempotency-Key`` (per team) claims a request once; a
repeat with the same body is answered with the first request's kept answer, without a
provider call or a second charge. The claims and answers live in the router's database, so
every router replica that shares it sees them."""
