"""The bundled nats-server's users and what each may publish and subscribe to.

One user per service, with a password derived from the installation secret, and an
``operator`` user for ``tollgate facts`` (docs/architecture.md, "Trust"). A fact subject is
published by the service that owns the fact only: a process that is not the router cannot put
a usage fact (and so a charge) on the bus, one that is not auth cannot revoke a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from tollgate_common.internal_auth import InternalKeys
from tollgate_common.revocations import KEY_REVOKED, MEMBERSHIP_CHANGED

OPERATOR = "operator"

# What every service needs to use JetStream: its API (streams and consumers, publish acks),
# acknowledging what it consumed, flow control, and keeping a fact it cannot process as a
# dead letter.
_JETSTREAM = ("$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "tollgate.dead.>")

# The facts each service publishes (its outbox's subjects).
PUBLISHES: Mapping[str, tuple[str, ...]] = {
    "router": ("tollgate.usage.>",),
    "auth": ("tollgate.auth.>", "tollgate.activity.>"),
    "billing": ("tollgate.activity.>",),
    "activity": (),
}

# Replies come on inboxes; the router and auth follow auth's facts as they are published.
_SUBSCRIBES = ("_INBOX.>", "tollgate.auth.>")

# The edge publishes nothing and only follows the facts that take access away, for the cache
# of credentials of its hot model routes (docs/architecture.md, "Trust").
EDGE = "edge"
EDGE_SUBSCRIBES = (KEY_REVOKED, MEMBERSHIP_CHANGED)


# Every user of the bundled NATS.
USERS = (*PUBLISHES, EDGE, OPERATOR)


def password(keys: InternalKeys, user: str) -> str:
    """``user``'s NATS password: derived from the installation secret, so nothing else is
    stored."""
    return keys.token(f"nats:{user}")


def permissions(service: str) -> dict[str, object]:
    """What ``service``'s NATS user may publish and subscribe to."""
    return {
        "publish": {"allow": [*_JETSTREAM, *PUBLISHES[service]]},
        "subscribe": {"allow": list(_SUBSCRIBES)},
    }


def users(passwords: Mapping[str, str]) -> list[dict[str, object]]:
    """Every user with its password from ``passwords`` (user → password) and its permissions;
    the ``operator`` may do anything (``tollgate facts`` replays facts on their own subjects)."""
    found: list[dict[str, object]] = [
        {"user": service, "password": passwords[service], "permissions": permissions(service)}
        for service in PUBLISHES
    ]
    found.append(
        {
            "user": EDGE,
            "password": passwords[EDGE],
            "permissions": {
                "publish": {"deny": [">"]},
                "subscribe": {"allow": list(EDGE_SUBSCRIBES)},
            },
        }
    )
    found.append({"user": OPERATOR, "password": passwords[OPERATOR]})
    return found


def render(keys: InternalKeys) -> str:
    """The ``authorization`` block of nats-server's config (JSON is valid NATS config)."""
    derived = {user: password(keys, user) for user in USERS}
    return "authorization " + json.dumps({"users": users(derived)}, indent=2) + "\n"
