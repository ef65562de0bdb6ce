"""docs/scaling.md's measured figures are the ones in the result files it cites."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from tests.support import REPO

DOC = REPO / "docs" / "scaling.md"
# "- **B** = `bench/results/2026-11-25.json` ..."
SOURCE = re.compile(r"^- \*\*(?P<key>[A-Z])\*\* = `(?P<path>[^`]+\.json)`", re.MULTILINE)
# "| figure | 0.142 / 0.164 / 0.048 ms | P `processes.{router,edge,envoy}.cpu_ms_per_chunk` |"
ROW = re.compile(
    r"^\| [^|]+ \| (?P<values>[^|]+) \| (?P<key>[A-Z]) `(?P<field>[^`]+)` \|$", re.MULTILINE
)


def _fields(pattern: str) -> list[str]:
    """`processes.{a,b}.x` → [`processes.a.x`, `processes.b.x`]."""
    match = re.search(r"\{([^}]+)\}", pattern)
    if match is None:
        return [pattern]
    return [
        pattern[: match.start()] + choice + pattern[match.end() :] for choice in match[1].split(",")
    ]


def _lookup(data: Any, field: str) -> Any:
    for part in field.split("."):
        data = data[part]
    return data


def test_every_cited_figure_matches_its_result_file() -> None:
    text = DOC.read_text()
    sources = {m["key"]: json.loads((REPO / m["path"]).read_text()) for m in SOURCE.finditer(text)}
    assert set(sources) == {"B", "P"}
    rows = list(ROW.finditer(text))
    assert len(rows) >= 10
    for row in rows:
        quoted = re.findall(r"\d[\d,]*(?:\.\d+)?", row["values"])
        fields = _fields(row["field"])
        assert len(quoted) == len(fields), row[0]
        for number, field in zip(quoted, fields, strict=True):
            value = Decimal(str(_lookup(sources[row["key"]], field)))
            shown = Decimal(number.replace(",", ""))
            # The document rounds; the file's value must round to what it shows.
            step = Decimal(1).scaleb(shown.as_tuple().exponent)
            assert abs(value - shown) <= step / 2, f"{field}: file {value}, doc {shown}"
