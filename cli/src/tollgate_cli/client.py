"""A small HTTP client of Tollgate's admin API for the CLI (stdlib only, synchronous)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

DEFAULT_BASE_URL: Final = "http://127.0.0.1:8080"
TIMEOUT_SECONDS: Final = 30.0


class ApiError(Exception):
    """An error answer of the API (its OpenAI envelope), or no answer at all (status 0)."""

    def __init__(
        self, status: int, message: str, type_: str = "", code: str = "", param: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param

    def __str__(self) -> str:
        what = ", ".join(
            f"{k}: {v}"
            for k, v in (("type", self.type), ("code", self.code), ("param", self.param))
            if v
        )
        prefix = f"HTTP {self.status}: " if self.status else ""
        return f"{prefix}{self.message}" + (f" ({what})" if what else "")


def _from_response(status: int, raw: bytes) -> ApiError:
    try:
        error = json.loads(raw)["error"]
        return ApiError(
            status,
            str(error.get("message") or "error"),
            str(error.get("type") or ""),
            str(error.get("code") or ""),
            str(error.get("param") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return ApiError(status, raw.decode(errors="replace")[:200] or "error")


def resolve_base_url(flag: str | None, env: Mapping[str, str]) -> str:
    """The origin to call: ``--base-url``, else ``TOLLGATE_BASE_URL``, else the local default.
    A trailing ``/v1`` (the OpenAI base URL) is accepted and dropped."""
    url = (flag or env.get("TOLLGATE_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def resolve_api_key(flag: str | None, env: Mapping[str, str]) -> str | None:
    """``--api-key``, else ``TOLLGATE_API_KEY``, else the bootstrap key file of a local
    ``make run`` (``$TOLLGATE_DATA_DIR/bootstrap-key``, default ``.tollgate/bootstrap-key``)."""
    if flag:
        return flag
    if env.get("TOLLGATE_API_KEY"):
        return env["TOLLGATE_API_KEY"]
    path = Path(env.get("TOLLGATE_DATA_DIR") or ".tollgate") / "bootstrap-key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class Client:
    base_url: str
    api_key: str | None

    @classmethod
    def from_env(cls, base_url: str | None = None, api_key: str | None = None) -> Client:
        env = os.environ
        return cls(resolve_base_url(base_url, env), resolve_api_key(api_key, env))

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON answer (``None`` for 204); :class:`ApiError` for an error."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"accept": "application/json"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:  # noqa: S310
                raw = reply.read()
        except urllib.error.HTTPError as exc:
            raise _from_response(exc.code, exc.read()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(0, f"cannot reach {self.base_url}: {reason}") from None
        return json.loads(raw) if raw else None

    def pages(self, path: str, query: Mapping[str, str] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following ``nextCursor``."""
        params = dict(query or {})
        params["limit"] = "200"
        while True:
            page = self.request("GET", path, query=params)
            yield from page["data"]
            cursor = page.get("nextCursor")
            if not cursor:
                return
            params["cursor"] = cursor
