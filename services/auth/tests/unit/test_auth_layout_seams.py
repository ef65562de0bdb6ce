"""The small seams the sub-package split introduced: the page encoder the list RPCs share, the
OIDC token principal, and the name checks tenancy and its API keys share."""

from __future__ import annotations

import pytest
from tollgate.auth.v1 import auth_pb2
from tollgate_auth import convert
from tollgate_auth.domain import AuthMethod, Page, Principal, Role
from tollgate_auth.tenancy.validation import valid_email, valid_name, valid_role, valid_slug
from tollgate_common.errors import InvalidArgument


def test_page_to_proto_encodes_items_and_a_token_the_next_request_reads_back() -> None:
    items, token = convert.page_to_proto(Page(("a", "b"), next_after="user_42"), str.upper)
    assert items == ["A", "B"]
    request = auth_pb2.PageRequest(page_size=2, page_token=token)
    assert convert.page_from_proto(request).after == "user_42"


def test_page_to_proto_on_the_last_page_has_no_token() -> None:
    assert convert.page_to_proto(Page(("a",)), str.upper) == (["A"], "")


def test_an_oidc_token_acts_as_a_member_of_its_team_for_no_user() -> None:
    principal = Principal.of_oidc_token("team_1", "acme", "prj_1")
    assert principal == Principal(
        team_id="team_1",
        team_slug="acme",
        user_id="",
        role=Role.MEMBER,
        auth_method=AuthMethod.OIDC,
        project_id="prj_1",
    )


def test_names_slugs_emails_and_roles_are_checked_once_for_every_caller() -> None:
    assert valid_name("  Research  ") == "Research"
    assert valid_slug("acme-2") == "acme-2"
    assert valid_email(" Ada@Example.COM ") == "ada@example.com"
    assert valid_role(Role.VIEWER) is Role.VIEWER
    for check, value, param in (
        (valid_name, "", "name"),
        (valid_slug, "Acme", "slug"),
        (valid_email, "not-an-email", "email"),
        (valid_role, None, "role"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            check(value)
        assert refused.value.metadata == {"param": param}
