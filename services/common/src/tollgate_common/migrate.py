"""``python -m tollgate_common.migrate <service> <script location> [<log level>]``: upgrade the
database whose URL is read from stdin to head, then exit.

A serving process runs its start-up migration in this child (:func:`tollgate_common.db.
migrate_in_child`): Alembic, Mako and Pygments stay out of the server's memory.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tollgate_common.db import migrate
from tollgate_common.logs import configure_logging


def main(argv: Sequence[str] | None = None) -> None:
    service, script_location, *rest = sys.argv[1:] if argv is None else argv
    configure_logging(service, rest[0] if rest else "INFO")
    try:
        migrate(sys.stdin.read().strip(), Path(script_location))
    except Exception:
        logging.getLogger(__name__).exception("%s: the migration failed", service)
        sys.exit(1)


if __name__ == "__main__":
    main()
