"""``tollgate-activity [serve|migrate]``: settings from the environment → run the app."""

from __future__ import annotations

from collections.abc import Sequence

from tollgate_common.service_main import service_main

from tollgate_activity.app import MIGRATIONS_DIR, ActivityApp
from tollgate_activity.settings import ActivitySettings


def main(argv: Sequence[str] | None = None) -> None:
    service_main("activity", argv, ActivitySettings, MIGRATIONS_DIR, ActivityApp)


if __name__ == "__main__":
    main()
