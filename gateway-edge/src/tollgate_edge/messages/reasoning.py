"""Whose reasoning a signature or an opaque block is. Anthropic's ``thinking`` and
``redacted_thinking`` blocks have no field for it, yet other models sign their reasoning too
(Gemini's thought signatures, which Gemini wants back on its function calls). So a signature or
data of another format than Claude's travels as ``<format>#<value>``, and comes back in a later
turn to the provider that made it; Claude's own values are passed untouched (they never hold
``#``: they are base64)."""

from __future__ import annotations

import re
from typing import Final

CLAUDE_FORMAT: Final = "anthropic-claude-v1"
_TAGGED: Final = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*-v[0-9]+)#(.+)$", re.DOTALL)


def tagged(reasoning_format: str, value: str) -> str:
    """``value`` as a thinking block carries it."""
    if not value or reasoning_format in ("", CLAUDE_FORMAT, "unknown"):
        return value
    return f"{reasoning_format}#{value}"


def untagged(value: str) -> tuple[str, str]:
    """(format, value) of what a thinking block carries."""
    match = _TAGGED.match(value)
    if match is None:
        return CLAUDE_FORMAT, value
    return match.group(1), match.group(2)
