"""Deterministic embedding vectors for the fake providers: the same input and size always give
the same unit-length vector, each value exactly a float32 (as real embedding APIs compute them),
so a test can compute what a fake sent and compare it with what a client received."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Sequence


def fake_vector(item: str | Sequence[int], dimensions: int) -> list[float]:
    """The vector of one input (text, or token ids) with ``dimensions`` values."""
    seed = (
        item.encode() if isinstance(item, str) else b"tokens:" + ",".join(map(str, item)).encode()
    )
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        block = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        raw.extend((byte - 127.5) / 127.5 for byte in block)
        counter += 1
    raw = raw[:dimensions]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return list(
        struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *(v / norm for v in raw)))
    )


def as_base64(vector: Sequence[float]) -> str:
    """Standard base64 of little-endian float32, as OpenAI's ``encoding_format: base64``."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
