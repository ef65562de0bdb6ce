"""The key cache (TTL, negative TTL, bounds, invalidation) and the last-used tracker."""

from __future__ import annotations

from tollgate_auth.domain import AuthMethod, KeyRecord, Principal, Role
from tollgate_auth.keys.cache import KeyCache, LastUsedTracker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(key_id: str = "key_1", key_hash: str = "h1") -> KeyRecord:
    principal = Principal(
        team_id="team_1",
        team_slug="default",
        user_id="user_1",
        role=Role.OWNER,
        auth_method=AuthMethod.API_KEY,
        key_id=key_id,
    )
    return KeyRecord(key_hash=key_hash, principal=principal, expires_at=None, revoked_at=None)


def test_known_keys_live_for_the_ttl() -> None:
    clock = FakeClock()
    cache = KeyCache(ttl=30, negative_ttl=1, clock=clock)
    record = _record()
    cache.put("h1", record)
    clock.now += 29.9
    hit = cache.get("h1")
    assert hit is not None
    assert hit.record is record
    clock.now += 0.1
    assert cache.get("h1") is None
    assert len(cache) == 0


def test_unknown_keys_are_remembered_briefly() -> None:
    clock = FakeClock()
    cache = KeyCache(ttl=30, negative_ttl=1, clock=clock)
    cache.put("nope", None)
    hit = cache.get("nope")
    assert hit is not None
    assert hit.record is None
    clock.now += 1.0
    assert cache.get("nope") is None


def test_negative_ttl_zero_caches_nothing() -> None:
    cache = KeyCache(negative_ttl=0)
    cache.put("nope", None)
    assert cache.get("nope") is None


def test_a_found_key_replaces_its_negative_entry() -> None:
    cache = KeyCache()
    cache.put("h1", None)
    cache.put("h1", _record())
    hit = cache.get("h1")
    assert hit is not None
    assert hit.record is not None
    assert len(cache) == 1


def test_bounded_and_oldest_goes_first() -> None:
    cache = KeyCache(max_entries=3)
    for i in range(5):
        cache.put(f"h{i}", _record(key_id=f"key_{i}", key_hash=f"h{i}"))
    assert len(cache) == 3
    assert cache.get("h0") is None
    assert cache.get("h1") is None
    assert cache.get("h4") is not None


def test_a_flood_of_unknown_keys_cannot_push_out_known_ones() -> None:
    cache = KeyCache(max_entries=10, max_negative_entries=5)
    cache.put("good", _record(key_hash="good"))
    for i in range(100):
        cache.put(f"bad{i}", None)
    assert cache.get("good") is not None
    assert len(cache) == 6


def test_invalidate_by_key_id() -> None:
    cache = KeyCache()
    cache.put("h1", _record(key_id="key_1", key_hash="h1"))
    cache.put("h2", _record(key_id="key_2", key_hash="h2"))
    assert cache.invalidate_key("key_1") == 1
    assert cache.get("h1") is None
    assert cache.get("h2") is not None
    assert cache.invalidate_key("key_unknown") == 0


def test_last_used_tracker_keeps_the_latest_use_until_drained() -> None:
    clock = FakeClock()
    tracker = LastUsedTracker(clock=clock)
    tracker.touch("key_1")
    clock.now += 5
    tracker.touch("key_1")
    tracker.touch("key_2")
    drained = tracker.drain()
    assert drained == {"key_1": 1005.0, "key_2": 1005.0}
    assert tracker.drain() == {}

    clock.now += 5
    tracker.touch("key_1")
    tracker.restore(drained)  # a failed flush puts its batch back; newer uses win
    assert tracker.drain() == {"key_1": 1010.0, "key_2": 1005.0}


def test_a_lookup_that_raced_with_an_invalidation_is_not_cached() -> None:
    cache = KeyCache()
    generation = cache.generation  # a lookup starts...
    cache.invalidate_key("key_1")  # ...the key is revoked meanwhile...
    cache.put("h1", _record(), generation)  # ...and its stale answer arrives
    assert cache.get("h1") is None
    cache.put("h1", _record(), cache.generation)
    assert cache.get("h1") is not None


def test_a_max_age_distrusts_older_entries_without_dropping_them() -> None:
    clock = FakeClock()
    cache = KeyCache(ttl=30, clock=clock)
    cache.put("h1", _record())
    clock.now += 1.5
    assert cache.get("h1", max_age=1.0) is None  # while revocations may be missed
    assert cache.get("h1") is not None  # following them again: the TTL decides


def test_invalidate_member_drops_that_users_keys_in_that_team_only() -> None:
    cache = KeyCache()
    cache.put("h1", _record("key_1", "h1"))
    cache.put("h2", _record("key_2", "h2"))
    other = _record("key_3", "h3")
    other_team = KeyRecord(
        key_hash="h3",
        principal=Principal(
            team_id="team_2",
            team_slug="other",
            user_id="user_1",
            role=Role.OWNER,
            auth_method=AuthMethod.API_KEY,
            key_id="key_3",
        ),
        expires_at=other.expires_at,
        revoked_at=None,
    )
    cache.put("h3", other_team)
    generation = cache.generation
    assert cache.invalidate_member("team_1", "user_1") == 2
    assert cache.generation != generation
    assert cache.get("h1") is None and cache.get("h2") is None
    assert cache.get("h3") is not None


def test_invalidating_a_whole_team() -> None:
    cache = KeyCache()
    cache.put("h1", _record("key_1", "h1"))
    cache.put("h2", _record("key_2", "h2"))
    assert cache.invalidate_member("team_1", "") == 2
    assert len(cache) == 0
