"""Rate limits' rules on typed values: what a limit is, the one-minute windows it counts in,
and which limit refuses a request (and for how long).

Counts are kept per fixed UTC minute: a request counts once in the minute it was admitted,
its tokens at the estimate until it finishes and then at what it used. Concurrency counts the
requests admitted and not yet finished (their slot's lease not expired).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from tollgate_common.errors import InvalidArgument

from tollgate_billing.budgets.budget import Scope

WINDOW = timedelta(minutes=1)
# The most a single number may be (a guard against typos that would overflow nothing).
MAX_VALUE = 10**12
# Seconds to wait after a concurrency refusal: a running request may end at any moment.
CONCURRENCY_RETRY_SECONDS = 1

_SCOPE_ORDER = {Scope.TEAM: 0, Scope.PROJECT: 1, Scope.KEY: 2}


@dataclass(frozen=True, slots=True)
class RateLimit:
    team_id: str
    scope: Scope
    scope_id: str
    requests_per_minute: int  # 0: not limited
    tokens_per_minute: int
    concurrent_requests: int
    created_at: datetime
    updated_at: datetime

    @property
    def who(self) -> str:
        return "team" if self.scope is Scope.TEAM else f"{self.scope.value} {self.scope_id}"

    def sort_key(self) -> tuple[int, str]:
        return _SCOPE_ORDER[self.scope], self.scope_id


@dataclass(frozen=True, slots=True)
class Window:
    """What a limit counted in its current minute, and how many requests are running."""

    start: datetime
    requests: int
    tokens: int
    running: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Which limit refused a request: ``kind`` is OpenAI's error type (``requests`` or
    ``tokens``), ``param`` the limit's field name."""

    kind: str
    param: str
    message: str
    retry_after: int
    limit: int = 0  # the requests (tokens) limit that refused, for the x-ratelimit-* headers
    used: int = 0
    reset_ms: int = 0

    def metadata(self) -> dict[str, str]:
        """The refusal as the ErrorInfo metadata the edge reads (docs/internal-contracts.md)."""
        found = {
            "type": self.kind,
            "code": "rate_limit_exceeded",
            "param": self.param,
            "retry_after": str(self.retry_after),
        }
        if self.limit:
            found["limit"] = str(self.limit)
            found["remaining"] = str(max(0, self.limit - self.used))
            found["reset_ms"] = str(self.reset_ms)
        return found


@dataclass(frozen=True, slots=True)
class Status:
    """The most constrained limits after an admission, for the ``x-ratelimit-*`` headers."""

    limit_requests: int = 0
    remaining_requests: int = 0
    reset_requests_ms: int = 0
    limit_tokens: int = 0
    remaining_tokens: int = 0
    reset_tokens_ms: int = 0


def window_start(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def applies(limit: RateLimit, project_id: str, key_id: str) -> bool:
    if limit.scope is Scope.TEAM:
        return True
    wanted = project_id if limit.scope is Scope.PROJECT else key_id
    return bool(wanted) and wanted == limit.scope_id


def current(window: Window, at: datetime) -> Window:
    """``window`` as of ``at``: a new minute starts from zero (running requests stay)."""
    start = window_start(at)
    if window.start == start:
        return window
    return Window(start, 0, 0, window.running)


def _seconds_left(window: Window, at: datetime) -> int:
    return max(1, ceil((window.start + WINDOW - at).total_seconds()))


def refusal(limit: RateLimit, window: Window, tokens: int, at: datetime) -> Refusal | None:
    """Why ``limit`` cannot admit a request of ``tokens`` now, or None when it can."""
    rpm, tpm, most = limit.requests_per_minute, limit.tokens_per_minute, limit.concurrent_requests
    if rpm and window.requests + 1 > rpm:
        return Refusal(
            "requests",
            "requestsPerMinute",
            f"Rate limit reached for the {limit.who} on requests per minute (RPM): "
            f"Limit {rpm}, Used {window.requests}, Requested 1.",
            _seconds_left(window, at),
            rpm,
            window.requests,
            _ms_left(window, at),
        )
    if tpm and window.tokens + tokens > tpm:
        return Refusal(
            "tokens",
            "tokensPerMinute",
            f"Rate limit reached for the {limit.who} on tokens per minute (TPM): "
            f"Limit {tpm}, Used {window.tokens}, Requested {tokens}.",
            _seconds_left(window, at),
            tpm,
            window.tokens,
            _ms_left(window, at),
        )
    if most and window.running + 1 > most:
        return Refusal(
            "requests",
            "concurrentRequests",
            f"Rate limit reached for the {limit.who} on concurrent requests: "
            f"Limit {most}, Running {window.running}.",
            CONCURRENCY_RETRY_SECONDS,
        )
    return None


def status(counted: list[tuple[RateLimit, Window]], at: datetime) -> Status:
    """The headers' view after admission: the limit with the fewest requests (tokens) left."""
    requests = [(lim.requests_per_minute - w.requests, lim, w) for lim, w in counted]
    tokens = [(lim.tokens_per_minute - w.tokens, lim, w) for lim, w in counted]
    requests = [r for r in requests if r[1].requests_per_minute]
    tokens = [t for t in tokens if t[1].tokens_per_minute]
    found = Status()
    if requests:
        left, lim, w = min(requests, key=lambda r: r[0])
        found = Status(lim.requests_per_minute, max(0, left), _ms_left(w, at))
    if tokens:
        left, lim, w = min(tokens, key=lambda t: t[0])
        found = Status(
            found.limit_requests,
            found.remaining_requests,
            found.reset_requests_ms,
            lim.tokens_per_minute,
            max(0, left),
            _ms_left(w, at),
        )
    return found


def _ms_left(window: Window, at: datetime) -> int:
    return max(0, int((window.start + WINDOW - at).total_seconds() * 1000))


def parse_value(value: int | None, param: str) -> int:
    """A limit's number as set: positive, or absent (0: not limited)."""
    if value is None:
        return 0
    if value <= 0 or value > MAX_VALUE:
        raise InvalidArgument(
            f"{param} must be a positive integer of at most {MAX_VALUE}", metadata={"param": param}
        )
    return value
