"""Waiting for what travels asynchronously (facts over NATS, spans to the collector, a restarted
process): poll until the answer is there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """The first truthy answer of ``probe``, polled every 0.1 s. While the answer is not there
    (a falsy value, an HTTP error, a failed assertion inside ``probe``) it polls again; after
    ``timeout`` seconds the test fails with what it last saw."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
            last: object = value
        except (httpx.HTTPError, AssertionError) as error:
            value, last = None, error
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s; last: {last!r}")
        time.sleep(0.1)
