"""``tollgate-billing [serve|migrate]``: settings from the environment → run the app."""

from __future__ import annotations

from tollgate_common import grpc_defaults, optional_imports

grpc_defaults.apply()  # before gRPC is first imported
optional_imports.leave_out()  # aiohttp: this service makes no use of it

from collections.abc import Sequence  # noqa: E402

from tollgate_common.service_main import service_main  # noqa: E402

from tollgate_billing.app import MIGRATIONS_DIR, BillingApp  # noqa: E402
from tollgate_billing.settings import BillingSettings  # noqa: E402


def main(argv: Sequence[str] | None = None) -> None:
    service_main("billing", argv, BillingSettings, MIGRATIONS_DIR, BillingApp)


if __name__ == "__main__":
    main()
