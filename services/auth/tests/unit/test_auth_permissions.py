"""The permission table: the code's table is the one docs/permissions.md shows, and the
inference paths ext_authz guards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tollgate_auth.access.permissions import (
    ALLOWED,
    OPERATOR_ACTIONS,
    Action,
    allows,
    is_inference_path,
    permitted_actions,
    require,
    require_operator,
)
from tollgate_auth.domain import Role
from tollgate_auth.errors import Forbidden

DOC = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"
_ROW = re.compile(
    r"^\|.*\(`([a-z:-]+)`\)\s*\|\s*(yes|no)[^|]*\|\s*(yes|no)[^|]*\|\s*(yes|no)[^|]*"
    r"\|\s*(yes)?\s*\|$"
)


def test_the_documented_table_is_the_enforced_one() -> None:
    documented: dict[str, frozenset[Role]] = {}
    operator_only: set[str] = set()
    for line in DOC.read_text().splitlines():
        match = _ROW.match(line.strip())
        if match:
            action, *answers, operator = match.groups()
            roles = (Role.OWNER, Role.MEMBER, Role.VIEWER)
            documented[action] = frozenset(
                r for r, a in zip(roles, answers, strict=True) if a == "yes"
            )
            if operator:
                operator_only.add(action)
    assert documented == {action.value: roles for action, roles in ALLOWED.items()}
    assert operator_only == {action.value for action in OPERATOR_ACTIONS}


def test_roles_as_admin_api_says() -> None:
    assert permitted_actions(Role.VIEWER) == (Action.READ,)
    assert allows(Role.MEMBER, Action.CALL_INFERENCE)
    assert allows(Role.MEMBER, Action.MANAGE_OWN_API_KEYS)
    assert not allows(Role.MEMBER, Action.MANAGE_ANY_API_KEYS)
    assert set(permitted_actions(Role.OWNER)) == set(Action) - OPERATOR_ACTIONS
    assert set(permitted_actions(Role.VIEWER, operator=True)) == {Action.READ, *OPERATOR_ACTIONS}
    with pytest.raises(Forbidden) as refused:
        require(Role.VIEWER, Action.MANAGE_OWN_API_KEYS)
    assert refused.value.message == "a team viewer may not create or revoke API keys"


def test_only_an_operator_grants_credit_whatever_their_role() -> None:
    for role in Role:
        assert not allows(role, Action.TOP_UP_CREDITS)
    with pytest.raises(Forbidden) as refused:
        require_operator(False, Action.TOP_UP_CREDITS)
    assert refused.value.message == "only an operator may grant credit"
    require_operator(True, Action.TOP_UP_CREDITS)


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
        ("/v1/messages", True),
        ("/v1/messages/count_tokens", True),
    ],
)
def test_inference_paths(path: str, inference: bool) -> None:
    assert is_inference_path(path) is inference
