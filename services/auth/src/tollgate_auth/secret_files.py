"""Secrets generated on first start and kept in the data dir (the key pepper, the bootstrap key,
the BYOK KEK): written once, atomically, readable only by their owner."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_secret_once(path: Path, content: bytes) -> bytes:
    """Create ``path`` (mode 0600) holding ``content`` unless it exists; return what it holds.

    Safe when several processes race: the file appears atomically (hard link of a complete
    temporary file), so a reader never sees half of it, and the first writer wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_bytes()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
        return content
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
