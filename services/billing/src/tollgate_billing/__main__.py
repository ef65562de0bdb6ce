"""``tollgate-billing [serve|migrate]``: settings from the environment → run the app."""

from __future__ import annotations

from collections.abc import Sequence

from tollgate_common.service_main import service_main

from tollgate_billing.app import MIGRATIONS_DIR, BillingApp
from tollgate_billing.settings import BillingSettings


def main(argv: Sequence[str] | None = None) -> None:
    service_main("billing", argv, BillingSettings, MIGRATIONS_DIR, BillingApp)


if __name__ == "__main__":
    main()
