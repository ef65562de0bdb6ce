"""Tollgate's JSON library, measured against the alternatives on the payloads its hot path handles
(issue 18: "a JSON library choice measured, not assumed").

    .venv/bin/python bench/json_choice.py [--out FILE] [--min-time 0.2] [--runs 5]

Payloads (``bench/json_payloads.py``), built from the shapes Tollgate really handles (no network):

* ``request`` (decode): a chat completion request body as a client sends it to the edge — a system
  prompt, a conversation of 20 messages with tool calls and results, four tools with JSON
  schemas, ~8 KB;
* ``provider_request`` (encode): the same conversation and tools as the router sends them on to
  OpenAI (the provider's model id, the gateway's own fields left out);
* ``openai_completion`` (decode): a provider's ``chat.completion`` response as the router reads
  it (built by the fake OpenAI upstream's own body builder);
* ``sse_chunk`` (encode): one ``chat.completion.chunk`` of a stream;
* ``sse_delta`` (encode): ``{"content": <token>}``, what the edge actually encodes per streamed
  text chunk (the rest of the chunk is a pre-encoded prefix);
* ``edge_completion`` (encode): the ``chat.completion`` body the edge renders, with
  ``provider_metadata.gateway`` (a fallback attempt, a skipped provider), built by the edge's own
  ``completion_body``;
* ``anthropic_event`` (decode): a Messages stream ``content_block_delta`` event's data, as the
  router's SSE decoder hands it over.

Candidates: the standard library's ``json``, ``orjson``, and ``msgspec.json`` and ``ujson`` when
they are importable (they are not Tollgate dependencies; to measure them:
``.venv/bin/uv pip install --python .venv/bin/python msgspec ujson``, and ``make install`` after
a lock change drops them again). Tollgate writes bytes, so the encoders that return ``str``
pay their ``.encode()``; each encoder writes compact UTF-8, as orjson does.

Per payload, each candidate is checked first: its decode must equal the standard library's (types
included: ``True`` is not ``1``), and what it encodes must decode (by the standard library) to
the same object. A candidate that differs is reported, not timed. The rest are timed with
``timeit``: loops enough for one run to take ``--min-time`` seconds, ``--runs`` runs taken in
turn across the candidates (so a busy moment of the machine hits them all), the best run kept;
µs per operation and the ratio to orjson. Prints a markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import json
import os
import platform
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.json_payloads import Payload, payloads  # noqa: E402

REFERENCE = "orjson"
OPTIONAL = ("msgspec", "ujson")

# -- candidates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    name: str
    version: str
    loads: Callable[[bytes], Any]
    dumps: Callable[[Any], bytes]


def _stdlib() -> Candidate:
    # Made once: json.dumps with any non-default argument builds a new encoder per call.
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def dumps(obj: Any) -> bytes:
        return encoder.encode(obj).encode()

    return Candidate("json", platform.python_version(), json.loads, dumps)


def _optional(name: str) -> Candidate | None:
    """orjson, msgspec.json or ujson as Tollgate would call it; None when it is not installed."""
    try:
        module = importlib.import_module("msgspec.json" if name == "msgspec" else name)
    except ImportError:
        return None
    version = importlib.metadata.version(name)
    if name == "orjson":
        return Candidate(name, version, module.loads, module.dumps)
    if name == "msgspec":
        # An encoder and a decoder made once, as a module would keep them.
        return Candidate(name, version, module.Decoder().decode, module.Encoder().encode)

    def dumps(obj: Any) -> bytes:
        text: str = module.dumps(obj, ensure_ascii=False, escape_forward_slashes=False)
        return text.encode()

    return Candidate(name, version, module.loads, dumps)


def candidates() -> tuple[list[Candidate], list[str]]:
    """The installed candidates (json and orjson first) and the names of the missing ones."""
    found, missing = [_stdlib()], []
    for name in (REFERENCE, *OPTIONAL):
        candidate = _optional(name)
        if candidate is None:
            missing.append(name)
        else:
            found.append(candidate)
    return found, missing


# -- equivalence --------------------------------------------------------------------------------


def difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where ``a`` (the candidate's) and ``b`` (the reference) differ, in value or type, else
    None."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r:.40} vs {type(b).__name__} {b!r:.40}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {sorted(a)} vs {sorted(b)}"
        for key in a:
            found = difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r:.40} vs {b!r:.40}"


def check(candidate: Candidate, payload: Payload) -> str | None:
    """What ``candidate`` gets wrong on ``payload`` (the standard library is the referee)."""
    try:
        if payload.operation == "decode":
            return difference(candidate.loads(payload.value), json.loads(payload.value))
        encoded = candidate.dumps(payload.value)
        if not isinstance(encoded, bytes):
            return f"encodes to {type(encoded).__name__}, not bytes"
        return difference(json.loads(encoded), payload.value)
    except Exception as exc:  # a candidate that raises is a finding, not a crash of the run
        return f"raises {type(exc).__name__}: {exc}"


# -- timing -------------------------------------------------------------------------------------


def _timer(candidate: Candidate, payload: Payload) -> timeit.Timer:
    function = candidate.loads if payload.operation == "decode" else candidate.dumps
    return timeit.Timer("f(v)", globals={"f": function, "v": payload.value})


def _loops(timer: timeit.Timer, min_time: float) -> int:
    """Loops for one run to take at least ``min_time`` seconds."""
    loops = 1
    while True:
        if timer.timeit(loops) >= min_time:
            return loops
        loops *= 2


def measure(
    payload: Payload, timed: list[Candidate], runs: int, min_time: float
) -> dict[str, dict[str, Any]]:
    """µs per operation of each candidate on ``payload``: the best of ``runs`` runs, the runs
    taken in turn across the candidates."""
    timers = {c.name: _timer(c, payload) for c in timed}
    loops = {name: _loops(timer, min_time) for name, timer in timers.items()}
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(runs):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(loops[name]) / loops[name] * 1e6)
    return {
        name: {"us_per_op": min(runs_us), "loops": loops[name], "runs_us": runs_us}
        for name, runs_us in samples.items()
    }


def call_overhead(runs: int, min_time: float) -> float:
    """µs that timing ``f(v)`` costs with nothing done (``id``): part of every figure, and most
    of the smallest ones."""
    timer = timeit.Timer("f(v)", globals={"f": id, "v": None})
    loops = _loops(timer, min_time)
    return min(timer.timeit(loops) / loops * 1e6 for _ in range(runs))


def run(runs: int, min_time: float) -> dict[str, Any]:
    found, missing = candidates()
    stdlib = found[0]  # the referee, also for an encoded payload's size
    rows = []
    for payload in payloads():
        size = len(payload.value if payload.operation == "decode" else stdlib.dumps(payload.value))
        differs = {c.name: d for c in found if (d := check(c, payload)) is not None}
        timed = [c for c in found if c.name not in differs]
        figures = measure(payload, timed, runs, min_time)
        base = figures.get(REFERENCE, {}).get("us_per_op")
        for entry in figures.values():
            entry["ratio_to_orjson"] = round(entry["us_per_op"] / base, 2) if base else None
            entry["us_per_op"] = round(entry["us_per_op"], 3)
            entry["runs_us"] = [round(us, 3) for us in entry["runs_us"]]
        rows.append(
            {
                "payload": payload.name,
                "operation": payload.operation,
                "bytes": size,
                "about": payload.about,
                "results": figures,
                "differs": differs,
            }
        )
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "libraries": {c.name: c.version for c in found},
        "missing": missing,
        "method": f"timeit, best of {runs} runs of >= {min_time} s each, runs interleaved "
        "across candidates; encoders returning str include .encode()",
        "call_overhead_us": round(call_overhead(runs, min_time), 3),
        "payloads": rows,
    }


def table(result: dict[str, Any]) -> str:
    names = list(result["libraries"])
    lines = [
        "| payload | op | bytes | " + " | ".join(names) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for row in result["payloads"]:
        cells = []
        for name in names:
            entry = row["results"].get(name)
            if entry is None:
                cells.append("differs" if name in row["differs"] else "—")
            elif name == REFERENCE:
                cells.append(f"**{entry['us_per_op']:.2f} µs**")
            elif entry["ratio_to_orjson"] is None:  # orjson itself differed
                cells.append(f"{entry['us_per_op']:.2f} µs")
            else:
                cells.append(f"{entry['us_per_op']:.2f} µs ({entry['ratio_to_orjson']:.1f}x)")
        lines.append(
            f"| {row['payload']} | {row['operation']} | {row['bytes']:,} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / f"{today}-json.json"
    )
    parser.add_argument("--runs", type=int, default=5, help="timeit runs per candidate (best kept)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per run, at least")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.min_time <= 0:
        parser.error("--runs must be at least 1 and --min-time positive")
    load_before = os.getloadavg()
    result = run(args.runs, args.min_time)
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    if result["missing"]:
        missing = " ".join(result["missing"])
        print(
            f"not installed, skipped: {missing} (to measure them: "
            f".venv/bin/uv pip install --python .venv/bin/python {missing})",
            file=sys.stderr,
        )
    for row in result["payloads"]:
        for name, why in row["differs"].items():
            print(f"{name} differs on {row['payload']}, not timed: {why}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(result))
    print(f"\n(each figure includes ~{result['call_overhead_us']:.3f} µs of timing overhead)")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
