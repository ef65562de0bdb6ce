"""The router's tables: only the outbox of the facts it publishes."""

from __future__ import annotations

from sqlalchemy import MetaData
from tollgate_common.outbox import outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)
