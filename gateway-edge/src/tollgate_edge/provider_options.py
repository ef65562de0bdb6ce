"""``providerOptions.<provider>`` of a chat request: every key but ``gateway`` (routing) names a
provider slug whose options the router merges into that provider's request body when it serves
an attempt (docs/routing.md "Provider options"). Here they are only checked to be objects and
passed on as JSON; which fields a provider takes is the router's business."""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

from tollgate_edge.errors import invalid_request

_SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def provider_options(data: dict[str, Any]) -> dict[str, str]:
    """Provider slug → its options as a JSON object text (``gateway`` left out)."""
    options = data.get("providerOptions")
    if not isinstance(options, dict):
        return {}  # absent, or refused with the routing options
    found: dict[str, str] = {}
    for provider, value in options.items():
        if provider == "gateway":
            continue
        param = f"providerOptions.{provider}"
        if not _SLUG.match(provider):
            raise invalid_request(f"`providerOptions` has no provider {provider[:40]!r}", param)
        if not isinstance(value, dict):
            raise invalid_request(f"`{param}` must be an object", param)
        found[provider] = orjson.dumps(value).decode()
    return found
