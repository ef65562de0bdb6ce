"""Deterministic embedding vectors for the fake providers: the same input and size always give
the same unit-length vector, each value exactly a float32 (as real embedding APIs compute them),
so a test can compute what a fake sent and compare it with what a client received."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from collections.abc import Sequence


def fake_vector(item: str | Sequence[int], dimensions: int) -> list[float]:
    """The vector of one input (text, or token ids) with ``dimensions`` values."""
    seed = (
        item.encode() if isinstance(item, str) else b"tokens:" + ",".join(map(str, item)).encode()
    )
    rng = random.Random(hashlib.sha256(seed).digest())
    raw = [rng.uniform(-1.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(math.fsum(v * v for v in raw)) or 1.0
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in raw))
    return list(struct.unpack(f"<{dimensions}f", packed))


def as_base64(vector: Sequence[float]) -> str:
    """Standard base64 of little-endian float32, as OpenAI's ``encoding_format: base64``."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
