"""`tollgate up` keeps serving when one of its processes dies: it restarts it, `tollgate status`
shows the restart, a request through the dead process fails cleanly, and killing `tollgate up`
itself leaves no process behind."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import psutil
import pytest
from tollgate_cli.stack import Ports

from tests.support.polling import eventually
from tests.support.tollgate_up import BOOTSTRAP_KEY, RunningUp
from tests.support.upstreams import Upstream

MODEL = "openai/gpt-4.1-mini"


@pytest.fixture
def up(tmp_path: Path, upstream: Upstream) -> Iterator[RunningUp]:
    running = RunningUp(Ports.free(), tmp_path / "data", upstream.url)
    try:
        running.wait_for("Press Ctrl-C")
        yield running
    finally:
        running.kill()


def _api(up: RunningUp) -> openai.OpenAI:
    return openai.OpenAI(base_url=up.base_url, api_key=BOOTSTRAP_KEY, max_retries=0)


def _answers(api: openai.OpenAI, text: str) -> str | None:
    """The generation id of a served request, or None while the gateway cannot serve it."""
    try:
        reply = api.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": text}]
        )
    except openai.APIStatusError as error:
        if error.status_code != 503:  # unavailable while it restarts; anything else is a bug
            raise
        return None
    except openai.APIConnectionError:
        return None
    assert reply.choices[0].message.content == f"Echo: {text}"
    return reply.id


def _listen(port: int) -> socket.socket | None:
    """A socket listening on ``port``, once the process that held it is gone."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections in TIME_WAIT
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.listen()
    return sock


def test_a_killed_process_is_restarted_and_the_gateway_answers_again(up: RunningUp) -> None:
    api = _api(up)
    assert _answers(api, "before")
    for name in ("billing", "router", "edge", "envoy", "nats"):
        before = up.process_status(name)
        assert before["state"] == "up"
        os.kill(before["pid"], signal.SIGKILL)

        up.wait_for(f"{name} (pid {before['pid']}) killed by SIGKILL")
        after = eventually(
            lambda name=name: (s := up.process_status(name))["restarts"] == 1 and s, timeout=60
        )
        assert after["pid"] != before["pid"] and psutil.pid_exists(after["pid"])
        assert after["last_exit"] == "killed by SIGKILL"
        generation_id = eventually(lambda name=name: _answers(api, f"after {name}"), timeout=60)

    # Usage facts travel over the restarted NATS: billing records the last request.
    with httpx.Client(headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}) as http:
        eventually(
            lambda: (
                http.get(f"{up.base_url}/generation", params={"id": generation_id}).status_code
                == 200
            )
        )
    code, status = up.status()
    assert code == 0 and status["running"] is True
    assert all(p["state"] == "up" for p in status["processes"])
    assert up.process.poll() is None


def test_while_a_process_is_down_readiness_says_so_and_requests_fail_cleanly(
    up: RunningUp,
) -> None:
    api = _api(up)
    assert _answers(api, "before")
    billing = up.process_status("billing")
    os.kill(up.process.pid, signal.SIGSTOP)  # hold the supervisor: billing stays down
    try:
        os.kill(billing["pid"], signal.SIGKILL)
        ready = f"http://127.0.0.1:{up.ports.public}/readyz"
        reply = eventually(lambda: (r := httpx.get(ready)).status_code == 503 and r)
        assert reply.json()["checks"]["billing"] == "not_serving"
        # Billing answers the balance itself: with it down, a clean 503 in the OpenAI envelope.
        credits = httpx.get(
            f"{up.base_url}/credits", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}
        )
        assert credits.status_code == 503
        assert credits.json()["error"]["type"] == "service_unavailable"
    finally:
        os.kill(up.process.pid, signal.SIGCONT)
    eventually(lambda: httpx.get(ready).status_code == 200)
    assert _answers(api, "after")


def test_a_crash_loop_is_reported_and_retried_while_the_others_serve(up: RunningUp) -> None:
    activity = up.process_status("activity")
    os.kill(up.process.pid, signal.SIGSTOP)  # hold the supervisor while the port is taken
    try:
        os.kill(activity["pid"], signal.SIGKILL)
        taken = eventually(lambda: _listen(up.ports.activity))  # every restart fails on it
    finally:
        os.kill(up.process.pid, signal.SIGCONT)
    try:
        up.wait_for("ERROR activity is crash-looping", timeout=120)
        looping = up.process_status("activity")
        assert looping["state"] == "crash-loop" and looping["restarts"] >= 2
        assert looping["last_exit"].startswith("exited with status")
        assert _answers(_api(up), "others still serve")
        assert up.status()[0] == 1
    finally:
        taken.close()
    restarts = looping["restarts"]
    eventually(lambda: up.process_status("activity")["restarts"] > restarts, timeout=150)
    eventually(lambda: httpx.get(f"http://127.0.0.1:{up.ports.public}/readyz").status_code == 200)


def test_a_stream_through_a_killed_router_ends_with_an_error_event(
    up: RunningUp, upstream: Upstream
) -> None:
    api = _api(up)
    upstream.script(reply=" ".join(["word"] * 40), chunk_delay_ms=100)
    stream = api.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "long"}], stream=True
    )
    first = next(iter(stream))
    assert first.choices[0].delta.content is not None
    os.kill(up.process_status("router")["pid"], signal.SIGKILL)
    with pytest.raises(openai.APIError) as failed:
        for _chunk in stream:
            pass
    assert failed.value.message == "a Tollgate service is unavailable; retry shortly"


def test_killing_up_leaves_no_process_and_a_second_up_starts(
    up: RunningUp, tmp_path: Path, upstream: Upstream
) -> None:
    children = psutil.Process(up.process.pid).children(recursive=True)
    assert len(children) >= 7
    up.process.kill()  # kill -9: no chance to stop its children itself
    up.process.wait()
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"children left running: {alive}"

    second = RunningUp(up.ports, up.data_dir, upstream.url)
    try:
        second.wait_for("Press Ctrl-C")
        assert _answers(_api(second), "second run")
        second.process.send_signal(signal.SIGINT)
        assert second.process.wait(timeout=60) == 0
    finally:
        second.kill()
