"""The benchmark's memory figure (bench/measure.py) on real processes: what two processes take
together counts the pages they share once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import measure


def test_memory_together_counts_a_page_two_processes_share_once() -> None:
    """Two Python processes map the same interpreter and libraries: their summed RSS counts
    those pages twice, their memory together once; one process alone is its RSS."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, grpc, aiohttp; sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    try:
        import grpc  # noqa: F401  (the same libraries mapped here)

        time.sleep(1.5)
        alone_rss, alone = measure.memory_mib([os.getpid()])
        rss, together = measure.memory_mib([os.getpid(), child.pid])
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
    if os.geteuid() != 0:  # page frame numbers are hidden from others
        assert alone is None and together is None
        return
    assert alone is not None and together is not None
    assert abs(alone - alone_rss) < 0.05 * alone_rss
    assert together < rss - 5  # at least the interpreter's and gRPC's pages, once
