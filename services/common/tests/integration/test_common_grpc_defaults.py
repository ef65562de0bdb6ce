"""Every service process starts gRPC with Tollgate's settings: they are in the environment
before gRPC is first imported (it reads them once, then), and an operator's own win."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tollgate_common.grpc_defaults import EXPERIMENTS

MAINS = (
    "tollgate_auth.__main__",
    "tollgate_router.__main__",
    "tollgate_billing.__main__",
    "tollgate_activity.__main__",
    "tollgate_edge.__main__",
)

# Records GRPC_EXPERIMENTS as it is when the first module of gRPC is imported.
_PROBE = """
import os, sys
class Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "grpc" and not hasattr(self, "seen"):
            self.seen = True
            print("at gRPC's import:", os.environ.get("GRPC_EXPERIMENTS"))
        return None
sys.meta_path.insert(0, Probe())
import importlib
importlib.import_module(sys.argv[1])
"""


def _seen(main: str, environ: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, main],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [line] = [x for x in done.stdout.splitlines() if x.startswith("at gRPC's import:")]
    return line.removeprefix("at gRPC's import: ")


@pytest.mark.parametrize("main", MAINS)
def test_grpc_starts_with_tollgates_settings(main: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"}
    assert _seen(main, environ) == EXPERIMENTS


def test_an_operators_own_grpc_experiments_are_kept() -> None:
    environ = os.environ | {"GRPC_EXPERIMENTS": "-some_experiment"}
    assert _seen("tollgate_router.__main__", environ) == "-some_experiment"
