"""What a service process loads: nats-py without aiohttp (it wants it only for WebSocket
connections to NATS). Each case runs in a fresh interpreter, as a service's entry point does."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_left_out_aiohttp_is_not_loaded_and_cannot_be() -> None:
    out = _run(
        "from tollgate_common import optional_imports\n"
        "optional_imports.leave_out()\n"
        "import sys, nats.aio.transport as t, tollgate_common.bus\n"
        "print(t.aiohttp, sys.modules['aiohttp'])\n"
        "try:\n"
        "    import aiohttp\n"
        "except ImportError:\n"
        "    print('refused')\n"
    )
    assert out.splitlines() == ["None None", "refused"]


def test_nats_imported_without_aiohttp_leaves_it_importable_later() -> None:
    out = _run(
        "from tollgate_common import optional_imports\n"
        "optional_imports.import_without('nats')\n"
        "import sys, nats.aio.transport as t\n"
        "print(t.aiohttp, 'aiohttp' in sys.modules)\n"
        "import aiohttp\n"
        "print(sys.modules['aiohttp'] is aiohttp)\n"
    )
    assert out.splitlines() == ["None False", "True"]


@pytest.mark.parametrize("service", ["router", "billing", "activity", "auth"])
def test_a_service_entry_point_keeps_aiohttp_out(service: str) -> None:
    """The entry point's module as the process runs it (``python -m tollgate_<service>``),
    then what a request path imports: no aiohttp."""
    out = _run(
        f"import runpy, sys\n"
        f"sys.argv = ['tollgate-{service}', '--help']\n"
        f"try:\n"
        f"    runpy.run_module('tollgate_{service}', run_name='__main__')\n"
        f"except SystemExit:\n"
        f"    pass\n"
        f"import tollgate_{service}.app\n"
        f"print(sys.modules.get('aiohttp') is not None)\n"
    )
    assert out.splitlines()[-1] == "False"
