"""Tollgate's HTTP API as the suite tests call it with the bootstrap key: the OpenAI SDK
pointed at it, a generation's record, the credits."""

from __future__ import annotations

from typing import Any

import httpx
import openai
from tollgate_cli.stack import Stack


def auth(stack: Stack) -> dict[str, str]:
    return {"authorization": f"Bearer {stack.bootstrap_key()}"}


def generation(stack: Stack, generation_id: str) -> dict[str, Any] | None:
    """``GET /v1/generation``; None while it is not recorded yet (or billing restarts)."""
    reply = httpx.get(
        f"{stack.base_url}/generation", params={"id": generation_id}, headers=auth(stack)
    )
    if reply.status_code in (404, 502, 503):
        return None
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()["data"]
    return data


def credits(stack: Stack) -> dict[str, str]:
    reply = httpx.get(f"{stack.base_url}/credits", headers=auth(stack))
    reply.raise_for_status()
    data: dict[str, str] = reply.json()
    return data


def client(stack: Stack, key: str | None = None) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the suite, with the bootstrap key unless ``key``."""
    return openai.OpenAI(
        base_url=stack.base_url, api_key=key or stack.bootstrap_key(), max_retries=0
    )
