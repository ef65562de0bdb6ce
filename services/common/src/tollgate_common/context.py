"""Per-request context carried through logs and outgoing calls."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("tollgate_request_id", default="")
trace_id_var: ContextVar[str] = ContextVar("tollgate_trace_id", default="")

REQUEST_ID_METADATA = "x-request-id"
