"""From the raw figures of each target to the rows the benchmark reports: what a target adds
over the provider it fronts, its ratios to LiteLLM's row for the same model in the same run, and
the table printed at the end. Pure functions (tests/unit/test_bench_report.py)."""

from __future__ import annotations

from typing import Any

# The figures each row reports, and the target for Tollgate's ratio to LiteLLM
# ("<=": at most that many times LiteLLM's, ">=": at least).
TARGETS: dict[str, tuple[str, float]] = {
    "added_p50_ms": ("<=", 0.2),
    "added_p99_ms": ("<=", float("inf")),  # reported, no target
    "added_ttft_ms": ("<=", 0.2),
    "rps_c64": (">=", 10.0),
    "cpu_ms_per_request": ("<=", 0.2),
    "cpu_us_per_chunk": ("<=", 0.05),
    "rss_mib": ("<=", 1.0),
    "together_mib": ("<=", 1.0),
}


def headline(raw: dict[str, Any], base: dict[str, Any] | None) -> dict[str, float | None]:
    """One row's figures; the added latencies are over ``base`` (the direct row of the same
    provider), zero for a direct row itself."""

    def added(section: str, key: str) -> float:
        return round(raw[section][key] - base[section][key], 3) if base else 0.0

    return {
        "added_p50_ms": added("c1", "p50_ms"),
        "added_p99_ms": added("c1", "p99_ms"),
        "added_ttft_ms": added("ttft", "p50_ms"),
        "rps_c64": raw["c64"]["rps"],
        "cpu_ms_per_request": raw["c64"]["cpu_ms_per_request"],
        "cpu_us_per_chunk": raw["stream_chunk"]["cpu_us_per_chunk"],
        "rss_mib": raw["rss_mib"],
        "together_mib": raw["together_mib"],
        "errors_c64": raw["c64"].get("errors", 0),
    }


def ratio(value: float | None, peer: float | None) -> float | None:
    """``value / peer``, or None when the peer's figure is not a positive quantity (an added
    latency within the noise can come out at zero or below) or either was not measured."""
    if value is None or peer is None or peer <= 0:
        return None
    return round(value / peer, 3)


def ratios(
    row: dict[str, float | None], peer: dict[str, float | None]
) -> dict[str, dict[str, Any]]:
    """Each figure's ratio to the peer's and whether it meets the issue's target."""
    out: dict[str, dict[str, Any]] = {}
    for name, (sense, bound) in TARGETS.items():
        r = ratio(row[name], peer[name])
        meets = None if r is None else (r <= bound if sense == "<=" else r >= bound)
        out[name] = {"ratio": r, "target": None if bound == float("inf") else f"{sense}{bound:g}"}
        out[name]["meets"] = None if bound == float("inf") else meets
    return out


COLUMNS = (
    ("added_p50_ms", "+p50 ms", "{:.1f}"),
    ("added_p99_ms", "+p99 ms", "{:.1f}"),
    ("added_ttft_ms", "+ttft ms", "{:.1f}"),
    ("rps_c64", "rps c64", "{:.0f}"),
    ("cpu_ms_per_request", "CPU ms/req", "{:.2f}"),
    ("cpu_us_per_chunk", "CPU µs/chunk", "{:.0f}"),
    ("rss_mib", "RSS MiB", "{:.0f}"),
    ("together_mib", "MiB together", "{:.0f}"),
    ("errors_c64", "failed c64", "{:.0f}"),
)


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def table(rows: dict[str, dict[str, Any]]) -> str:
    """Markdown: one line per target, and under each row with a peer its ratios to it."""
    head = "| target | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    lines = [head, "|" + " --- |" * (len(COLUMNS) + 1)]
    for name, row in rows.items():
        figures = row["figures"]
        lines.append(
            f"| {name} | " + " | ".join(_cell(figures[key], fmt) for key, _, fmt in COLUMNS) + " |"
        )
        if row.get("vs_peer"):
            cells = []
            for key, _, _ in COLUMNS[:-1]:
                r = row["vs_peer"][key]["ratio"]
                cells.append("—" if r is None else f"{r:.2f}x")
            lines.append(f"| ↳ ÷ {row['peer']} | " + " | ".join(cells) + " | |")
    return "\n".join(lines)


def by_process(rows: dict[str, dict[str, Any]], raw: dict[str, dict[str, Any]]) -> str:
    """CPU ms per request at c64 by process, one line per target with more than one process."""
    lines = []
    for name in rows:
        parts = raw[name]["c64"]["cpu_ms_per_request_by_process"]
        if len(parts) > 1:
            ordered = sorted(parts.items(), key=lambda item: -item[1])
            lines.append(f"{name}: " + ", ".join(f"{p} {ms:.2f}" for p, ms in ordered))
    return "\n".join(lines)
