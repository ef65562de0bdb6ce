"""Output allowances: what a generation is held for under money pressure is learnt from its
model's recent outputs, never below the floor, and off at 0."""

from __future__ import annotations

from tollgate_router.credit.allowance import SAMPLES, OutputAllowances


def test_before_any_generation_the_floor_is_the_allowance() -> None:
    assert OutputAllowances(4096).allowance(["anthropic/claude-sonnet-4"]) == 4096


def test_twice_the_99th_percentile_of_the_models_outputs() -> None:
    allowances = OutputAllowances(1024)
    for tokens in range(1, 1001):  # 1..1000 tokens: the 99th percentile is 991
        allowances.observe("openai/o3", tokens * 10)
    assert allowances.allowance(["openai/o3"]) == 2 * 9910
    # A model with short answers stays at the floor; a generation that may go to either
    # model is allowed what the longer one needs.
    allowances.observe("openai/gpt-4o", 200)
    assert allowances.allowance(["openai/gpt-4o"]) == 1024
    assert allowances.allowance(["openai/gpt-4o", "openai/o3"]) == 2 * 9910


def test_only_the_last_generations_count() -> None:
    allowances = OutputAllowances(100)
    for _ in range(SAMPLES):
        allowances.observe("m", 50_000)
    assert allowances.allowance(["m"]) == 100_000
    for _ in range(SAMPLES):
        allowances.observe("m", 300)
    assert allowances.allowance(["m"]) == 600


def test_a_floor_of_zero_turns_allowances_off() -> None:
    allowances = OutputAllowances(0)
    allowances.observe("m", 5000)
    assert allowances.allowance(["m"]) == 0
