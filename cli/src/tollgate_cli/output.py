"""What the CLI prints: JSON as the API answered it, or a plain table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print(
        "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        file=out,
    )
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)


def show(value: Any, columns: Sequence[str], fmt: str, out: TextIO) -> None:
    """A list (table rows) or one object (a one-row table) in ``fmt`` (``json``/``table``)."""
    if fmt == "json":
        print(json.dumps(value, indent=2), file=out)
        return
    rows = value if isinstance(value, list) else [value]
    table(rows, columns, out)
