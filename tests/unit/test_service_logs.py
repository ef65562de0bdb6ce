"""A failed test shows its stack's notable log lines: warnings, errors, tracebacks and native
messages, the last few per process; INFO lines never; the stack found among the test's
fixtures or one level down in one of them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.service_logs import log_dirs, notable_lines


def _line(level: str, msg: str) -> str:
    return json.dumps({"level": level, "service": "billing", "msg": msg})


def test_only_lines_above_info_and_the_last_few_of_each_log(tmp_path: Path) -> None:
    (tmp_path / "billing.log").write_text(
        "\n".join(
            [
                _line("INFO", "listening"),
                *(_line("WARNING", f"slow {i}") for i in range(20)),
                "Traceback (most recent call last):",
                _line("ERROR", "down"),
                "",
            ]
        )
    )
    (tmp_path / "auth.log").write_text(_line("INFO", "quiet") + "\n")
    (tmp_path / "router.log").write_text("I1207 fork_posix.cc:71] skipping fork() handlers\n")
    (tmp_path / "nats.log").write_text("[28990] 2026/12/07 03:29:29.529966 [INF] Starting\n")
    (tmp_path / "envoy.log").write_text(
        "[2026-12-07 03:29:30][29003][info][main] starting\n"
        "[2026-12-07 03:29:30][29003][warning][main] no connection limit\n"
    )

    shown = notable_lines(tmp_path, limit=4)

    assert shown.splitlines() == [
        "== billing.log (last 4 lines above INFO)",
        _line("WARNING", "slow 18"),
        _line("WARNING", "slow 19"),
        "Traceback (most recent call last):",
        _line("ERROR", "down"),
        "== envoy.log (last 1 lines above INFO)",
        "[2026-12-07 03:29:30][29003][warning][main] no connection limit",
        "== router.log (last 1 lines above INFO)",
        "I1207 fork_posix.cc:71] skipping fork() handlers",
    ]


def test_stacks_are_found_among_the_fixtures_or_held_by_one(tmp_path: Path) -> None:
    class Running:
        def __init__(self, log_dir: Path) -> None:
            self.log_dir = log_dir

    class Holder:
        def __init__(self, stack: Running) -> None:
            self.stack = stack

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    fixtures = [Running(first), Holder(Running(second)), Holder(Running(first)), "text", 3]
    assert log_dirs(fixtures) == [first, second]
    assert log_dirs([Running(tmp_path / "missing")]) == []
