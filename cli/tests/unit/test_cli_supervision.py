"""What `tollgate up` reports about its processes: exit statuses in words, the restart backoff,
and the status file `tollgate status` reads."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tollgate_cli.__main__ import main
from tollgate_cli.status import STATUS_FILE, ProcessStatus, SupervisorStatus, describe_exit
from tollgate_cli.supervisor import Backoff


def test_an_exit_reads_as_a_status_or_the_signal_that_killed_it() -> None:
    assert describe_exit(1) == "exited with status 1"
    assert describe_exit(0) == "exited with status 0"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(-200) == "killed by signal 200"


def test_the_restart_backoff_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=30.0)
    assert [backoff.delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_the_status_file_reads_back_what_was_written(tmp_path: Path) -> None:
    billing = ProcessStatus("billing", 4242, restarts=2)
    billing.exited(-signal.SIGKILL, 0.0)
    SupervisorStatus(os.getpid(), processes=[billing]).write(tmp_path / STATUS_FILE)
    read = SupervisorStatus.read(tmp_path / STATUS_FILE)
    assert read is not None and read.supervisor_alive()
    assert read.processes == [billing]
    assert read.processes[0].last_exit == "killed by SIGKILL"
    assert read.processes[0].last_exit_at == "1970-01-01T00:00:00Z"


def test_status_says_when_up_is_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = SupervisorStatus(os.getpid(), running=False, processes=[ProcessStatus("nats", 7)])
    status.write(tmp_path / STATUS_FILE)
    assert main(["status", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "not running" in out
    assert "nats" in out and "stopped" in out


def test_status_without_a_status_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--data-dir", str(tmp_path)]) == 1
    assert str(tmp_path / STATUS_FILE) in capsys.readouterr().err


def test_a_stacks_free_ports_are_distinct_and_not_the_taken_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tollgate_cli import stack
    from tollgate_common import testing

    # The probe may find the same unbound port twice: nothing holds a port between picks.
    given = iter([20001, 20002, 20001, 20003, 20004, 20002, 20005, 20006, 20007, 20008])
    monkeypatch.setattr(testing, "_unbound_port", lambda: next(given))
    ports = stack.Ports.free()
    assert sorted(vars(ports).values()) == list(range(20001, 20009))

    given = iter([20009, 20010, 20011, 20012, 20013, 20014, 20015, 20016, 20017, 20018])
    ports = stack.Ports.free(taken=[20010, 20013])
    assert sorted(vars(ports).values()) == [20009, 20011, 20012, *range(20014, 20019)]
