"""Calls as one of the suite's own processes would make them: with a service's internal token
(docs/architecture.md, "Trust")."""

from __future__ import annotations

from tollgate_cli.stack import Stack
from tollgate_common.internal_auth import EDGE_HEADER, TOKEN_METADATA, InternalKeys

Metadata = tuple[tuple[str, str], ...]


def as_caller(stack: Stack, caller: str) -> Metadata:
    """gRPC metadata that presents ``caller``'s token of ``stack``'s installation."""
    return ((TOKEN_METADATA, stack.internal_keys().token(caller)),)


def as_stranger(caller: str) -> Metadata:
    """``caller``'s token, derived from a secret that is not the installation's."""
    return ((TOKEN_METADATA, InternalKeys(b"not-the-installation-secret").token(caller)),)


def from_envoy(stack: Stack) -> dict[str, str]:
    """The header Envoy adds to every request it forwards to the edge."""
    return {EDGE_HEADER: stack.internal_keys().token("envoy")}
