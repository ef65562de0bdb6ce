"""Every test gets the marker of its tier from its folder (``tests/support/tiers.py``), and a
unit test fails if it starts a process or a server. ``pytest -m <tier>`` collects that tier's
folders only."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.tiers import TIERS, Guard, may_hold, tier_of

GUARD = pytest.StashKey[Guard]()
INSTALLED = pytest.StashKey[ExitStack]()


def pytest_configure(config: pytest.Config) -> None:
    guard = Guard()
    config.stash[GUARD] = guard
    config.stash[INSTALLED] = ExitStack()
    config.stash[INSTALLED].enter_context(guard.installed())


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[INSTALLED].close()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    tier = config.option.markexpr
    if tier in TIERS and not may_hold(collection_path, tier):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    outside = set()
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            outside.add(str(item.path))
        else:
            item.add_marker(getattr(pytest.mark, tier))
    if outside:
        raise pytest.UsageError(
            "tests outside every tier folder (tests/support/tiers.py): "
            + ", ".join(sorted(outside))
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    """Runs one phase of a unit test under the guard; fails it on what it started."""
    if item.get_closest_marker("unit") is None:
        return (yield)
    guard = item.config.stash[GUARD]
    with guard.arm():
        result = yield
    if guard.violations:
        pytest.fail("a unit test started what it must not: " + "; ".join(guard.violations))
    return result
