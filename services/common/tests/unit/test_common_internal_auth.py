"""The internal allow-list and credentials (docs/architecture.md, "Trust")."""

from __future__ import annotations

from pathlib import Path

import pytest
from tollgate_common.bus_link import with_credentials
from tollgate_common.internal_auth import InternalKeys, allowed_callers, write_secret_once
from tollgate_common.settings import CommonSettings


def test_a_method_falls_back_to_its_service_rule_and_an_unknown_one_to_nobody() -> None:
    assert allowed_callers("/tollgate.auth.v1.AuthService/GetByokSecret") == {"router"}
    assert allowed_callers("/tollgate.auth.v1.AuthService/CreateTeam") == {"edge"}
    assert allowed_callers("/tollgate.billing.v1.BillingService/TopUp") == {"edge"}
    assert allowed_callers("/tollgate.billing.v1.BillingService/Reserve") == {"router"}
    assert allowed_callers("/envoy.service.auth.v3.Authorization/Check") == {"envoy", "edge"}
    assert allowed_callers("/some.Other/Method") == frozenset()


def test_a_token_names_its_caller_under_its_secret_only() -> None:
    keys, other = InternalKeys(b"one"), InternalKeys(b"two")
    assert keys.caller_of(keys.token("router")) == "router"
    assert keys.caller_of(other.token("router")) is None
    assert keys.caller_of("") is None
    assert "one" not in repr(keys)


def test_the_secret_is_written_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "internal-secret"
    write_secret_once(path)
    first = path.read_text()
    write_secret_once(path)
    assert path.read_text() == first and len(first.strip()) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    assert InternalKeys.load("", path) == InternalKeys(first.strip().encode())
    assert InternalKeys.load("", None) is None


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        InternalKeys.load("", empty)


def test_nats_credentials_go_into_every_server_that_names_none() -> None:
    url = "nats://a:4222,nats://b:4222"
    assert (
        with_credentials(url, "router", "p/w")
        == "nats://router:p%2Fw@a:4222,nats://router:p%2Fw@b:4222"
    )
    assert with_credentials("nats://x:y@a:4222", "router", "pw") == "nats://x:y@a:4222"
    assert with_credentials(url, "", "") == url


def test_a_rotation_accepts_the_other_secret_but_presents_only_its_own(tmp_path: Path) -> None:
    old, new = InternalKeys(b"old"), InternalKeys(b"new")
    # Phase one: every process still presents the old secret and accepts the new one too;
    # phase two: every process presents the new one and accepts the old one too.
    first, second = InternalKeys(b"old", (b"new",)), InternalKeys(b"new", (b"old",))
    for keys in (first, second):
        assert keys.caller_of(old.token("router")) == "router"
        assert keys.caller_of(new.token("edge")) == "edge"
        assert keys.caller_of(InternalKeys(b"third").token("router")) is None
    assert first.token("router") == old.token("router")
    assert second.token("router") == new.token("router")
    # Without phase one an old process refuses a new one's calls.
    assert old.caller_of(second.token("router")) is None
    accepted = tmp_path / "accepted"
    accepted.write_text("old\n")
    assert InternalKeys.load("new", None, "", accepted) == second
    assert InternalKeys.load("new", None, "new") == new  # the same secret twice: just one
    assert "old" not in repr(second)


def test_the_accepted_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_INTERNAL_SECRET", "new")
    monkeypatch.setenv("TOLLGATE_INTERNAL_SECRET_ACCEPTED", "old")
    keys = CommonSettings().internal_keys()
    assert keys == InternalKeys(b"new", (b"old",))
    assert "old" not in repr(CommonSettings())
