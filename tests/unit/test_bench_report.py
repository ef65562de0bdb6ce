"""The pure parts of the benchmark (bench/ is not run by the tests): what a row adds over its
provider, its ratios to LiteLLM's row and the issue's targets, and the LiteLLM config."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bench import report
from bench.peers import litellm


def raw(
    p50: float,
    p99: float,
    ttft: float,
    rps: float,
    cpu: float,
    chunk: float,
    rss: float,
    together: float | None,
) -> dict[str, Any]:
    return {
        "c1": {"p50_ms": p50, "p99_ms": p99},
        "c64": {"rps": rps, "cpu_ms_per_request": cpu, "errors": 0},
        "ttft": {"p50_ms": ttft},
        "stream_chunk": {"cpu_us_per_chunk": chunk},
        "rss_mib": rss,
        "together_mib": together,
    }


DIRECT = raw(0.5, 1.0, 0.6, 3000, 0.3, 5, 40, 38)
LITELLM = report.headline(raw(35.5, 61.0, 30.6, 25, 38.0, 3000, 410, 400), DIRECT)


def test_added_latency_is_over_the_direct_row_and_the_rest_is_the_rows_own() -> None:
    assert LITELLM == {
        "added_p50_ms": 35.0,
        "added_p99_ms": 60.0,
        "added_ttft_ms": 30.0,
        "rps_c64": 25,
        "cpu_ms_per_request": 38.0,
        "cpu_us_per_chunk": 3000,
        "rss_mib": 410,
        "together_mib": 400,
        "errors_c64": 0,
    }
    assert report.headline(DIRECT, None)["added_p50_ms"] == 0.0


def test_ratios_to_the_peer_say_which_targets_of_the_issue_are_met() -> None:
    tollgate = report.headline(raw(7.5, 20.0, 4.6, 300, 11.0, 150, 700, 380), DIRECT)
    ratios = report.ratios(tollgate, LITELLM)
    assert ratios["added_p50_ms"] == {"ratio": 0.2, "target": "<=0.2", "meets": True}
    assert ratios["rps_c64"] == {"ratio": 12.0, "target": ">=10", "meets": True}
    assert ratios["cpu_ms_per_request"]["meets"] is False  # 0.289 of LiteLLM's
    assert ratios["cpu_us_per_chunk"] == {"ratio": 0.05, "target": "<=0.05", "meets": True}
    assert ratios["rss_mib"]["meets"] is False  # 700 MiB against 410
    assert ratios["together_mib"] == {"ratio": 0.95, "target": "<=1", "meets": True}
    assert ratios["added_p99_ms"]["target"] is None  # reported, no target


@pytest.mark.parametrize(
    ("value", "peer", "expected"), [(1.0, 0.0, None), (1.0, -0.2, None), (None, 400.0, None)]
)
def test_a_peer_figure_within_the_noise_or_unmeasured_gives_no_ratio(
    value: float | None, peer: float, expected: float | None
) -> None:
    assert report.ratio(value, peer) is expected


def test_the_table_shows_each_row_and_its_ratios_under_it() -> None:
    rows = {
        "litellm/gpt-4o": {"figures": LITELLM},
        "tollgate/gpt-4o": {
            "figures": LITELLM,
            "peer": "litellm/gpt-4o",
            "vs_peer": report.ratios(LITELLM, LITELLM),
        },
    }
    lines = report.table(rows).splitlines()
    assert len(lines) == 5
    assert lines[2].startswith(
        "| litellm/gpt-4o | 35.0 | 60.0 | 30.0 | 25 | 38.00 | 3000 | 410 | 400 |"
    )
    assert lines[4] == "| ↳ ÷ litellm/gpt-4o |" + " 1.00x |" * 8 + " |"


def test_the_litellm_config_routes_each_model_to_the_fake_of_its_provider() -> None:
    upstreams = litellm.Upstreams("http://127.0.0.1:1/v1", "sk-o", "http://127.0.0.1:2", "sk-a")
    config = orjson.loads(
        litellm.render_config(
            upstreams, {"openai/gpt-4o": "gpt-4o", "anthropic/claude-sonnet-4": "claude-x"}
        )
    )
    assert config == {
        "model_list": [
            {
                "model_name": "openai/gpt-4o",
                "litellm_params": {
                    "model": "openai/gpt-4o",
                    "api_base": "http://127.0.0.1:1/v1",
                    "api_key": "sk-o",
                },
            },
            {
                "model_name": "anthropic/claude-sonnet-4",
                "litellm_params": {
                    "model": "anthropic/claude-x",
                    "api_base": "http://127.0.0.1:2",
                    "api_key": "sk-a",
                },
            },
        ],
        "general_settings": {"master_key": litellm.MASTER_KEY},
    }
    with pytest.raises(ValueError, match="no fake provider"):
        litellm.render_config(upstreams, {"google/gemini-2.5-pro": "gemini"})
