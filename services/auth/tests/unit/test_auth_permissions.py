"""The permission table: the code's table is the one docs/permissions.md shows, and the
inference paths ext_authz guards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tollgate_auth.access.permissions import (
    ALLOWED,
    Action,
    allows,
    is_inference_path,
    permitted_actions,
    require,
)
from tollgate_auth.domain import Role
from tollgate_auth.errors import Forbidden

DOC = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"
_ROW = re.compile(
    r"^\|.*\(`([a-z:-]+)`\)\s*\|\s*(yes|no)[^|]*\|\s*(yes|no)[^|]*\|\s*(yes|no)[^|]*\|$"
)


def test_the_documented_table_is_the_enforced_one() -> None:
    documented: dict[str, frozenset[Role]] = {}
    for line in DOC.read_text().splitlines():
        match = _ROW.match(line.strip())
        if match:
            action, *answers = match.groups()
            roles = (Role.OWNER, Role.MEMBER, Role.VIEWER)
            documented[action] = frozenset(
                r for r, a in zip(roles, answers, strict=True) if a == "yes"
            )
    assert documented == {action.value: roles for action, roles in ALLOWED.items()}


def test_roles_as_admin_api_says() -> None:
    assert permitted_actions(Role.VIEWER) == (Action.READ,)
    assert allows(Role.MEMBER, Action.CALL_INFERENCE)
    assert allows(Role.MEMBER, Action.MANAGE_OWN_API_KEYS)
    assert not allows(Role.MEMBER, Action.MANAGE_ANY_API_KEYS)
    assert set(permitted_actions(Role.OWNER)) == set(Action)
    with pytest.raises(Forbidden) as refused:
        require(Role.VIEWER, Action.MANAGE_OWN_API_KEYS)
    assert refused.value.message == "a team viewer may not create or revoke API keys"


@pytest.mark.parametrize(
    ("path", "inference"),
    [
        ("/v1/chat/completions", True),
        ("/v1/chat/completions?x=1", True),
        ("/v1/chat/completions/", True),
        ("/v1/embeddings", True),
        ("/v1/ai/language-model", True),
        ("/v1/ai/embedding-model", True),
        ("/v1/ai/config", False),
        ("/v3/ai/language-model", True),
        ("/v3/ai/embedding-model", True),
        ("/v3/ai/config", False),
        ("/v1/models", False),
        ("/v1/api-keys", False),
        ("/v1/chat", False),
    ],
)
def test_inference_paths(path: str, inference: bool) -> None:
    assert is_inference_path(path) is inference
