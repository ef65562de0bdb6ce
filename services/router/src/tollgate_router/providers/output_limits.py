"""The output an upstream request body lets the provider produce, and the hard cap put on it.

Pre-flight holds a generation's output at billing before any provider is called; what it holds
for is what the finished body allows (:func:`allowed_output`): after thinking budgets have
raised a limit and ``providerOptions`` have been merged, all choices together. Each adapter
then applies the held tokens to its finished body (:func:`cap_output`), so nothing a request
carries can let a provider produce more than was held:

* OpenAI chat: ``max_tokens`` / ``max_completion_tokens`` per choice, times ``n``; without
  either, the model's max output. The cap shares its tokens among the ``n`` choices, and sets
  ``max_tokens`` when the request had no limit the cap is below.
* OpenAI Responses: ``max_output_tokens`` (reasoning included); without it, the model's max
  output. The cap lowers it, or sets it when the request had none the cap is below.
* Anthropic: ``max_tokens`` bounds the answer and the thinking together. Under the cap, the
  thinking budget stays below ``max_tokens`` and at least 1024 (Anthropic's rules), else
  thinking is left out.
* Gemini: ``maxOutputTokens`` (else the model's max output) plus an explicit
  ``thinkingBudget`` (held on top: whether thoughts count within ``maxOutputTokens`` is not
  documented the same way everywhere), times ``candidateCount``.

Answer and thinking share a cap below what they ask for together by :func:`share`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollgate_router.providers.anthropic_options import MIN_BUDGET

_OPENAI_LIMITS = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True, slots=True)
class Output:
    tokens: int  # all choices together; 0: unbounded as far as the body says
    choices: int = 1


def _count(value: Any) -> int | None:
    """A token count as the body carries it (JSON numbers only; not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _choices(value: Any) -> int:
    count = _count(value)
    return count if count is not None and count > 1 else 1


def share(total: int, answer: int, thinking: int) -> tuple[int, int]:
    """``total`` tokens split between an answer and thinking that ask for more together: each
    keeps what it asked for when that is at most half, the other gets the rest."""
    half = total // 2
    if answer <= half:
        return answer, total - answer
    if thinking <= half:
        return total - thinking, thinking
    return total - half, half


def allowed_output(body: dict[str, Any], wire_protocol: str, model_max: int) -> Output:
    """The most output tokens ``body`` lets the provider produce (``model_max``: the catalog's
    max output of the model, 0 when unknown)."""
    match wire_protocol:
        case "openai-chat":
            limits = [c for k in _OPENAI_LIMITS if (c := _count(body.get(k))) is not None]
            per_choice = max(limits) if limits else model_max
            choices = _choices(body.get("n"))
            return Output(per_choice * choices, choices)
        case "openai-responses":
            return Output(_count(body.get("max_output_tokens")) or model_max)
        case "anthropic-messages":
            return Output(_count(body.get("max_tokens")) or model_max)
        case "google-gemini":
            config = body.get("generationConfig")
            config = config if isinstance(config, dict) else {}
            answer = _count(config.get("maxOutputTokens")) or model_max
            choices = _choices(config.get("candidateCount"))
            return Output((answer + _gemini_budget(config)) * choices if answer else 0, choices)
        case _:
            return Output(model_max)


def cap_output(body: dict[str, Any], wire_protocol: str, cap: int | None, model_max: int) -> None:
    """Shrink ``body`` so that it allows at most ``cap`` output tokens (None: no cap)."""
    if cap is None:
        return
    match wire_protocol:
        case "openai-chat":
            _cap_openai(body, cap, model_max)
        case "openai-responses":
            _cap_responses(body, cap, model_max)
        case "anthropic-messages":
            _cap_anthropic(body, cap)
        case "google-gemini":
            _cap_gemini(body, cap, model_max)


def _cap_openai(body: dict[str, Any], cap: int, model_max: int) -> None:
    per_choice = max(cap // _choices(body.get("n")), 1)
    present = False
    for name in _OPENAI_LIMITS:
        if name in body:
            present = True
            count = _count(body[name])
            body[name] = per_choice if count is None else min(count, per_choice)
    if not present and (not model_max or per_choice < model_max):
        body["max_tokens"] = per_choice


def _cap_responses(body: dict[str, Any], cap: int, model_max: int) -> None:
    limit = _count(body.get("max_output_tokens"))
    if limit is not None and limit <= cap:
        return
    if limit is None and model_max and model_max <= cap:
        return
    body["max_output_tokens"] = cap


def _cap_anthropic(body: dict[str, Any], cap: int) -> None:
    limit = _count(body.get("max_tokens"))
    if limit is not None and limit <= cap:
        return
    body["max_tokens"] = cap
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return
    budget = _count(thinking.get("budget_tokens")) or 0
    answer = max((limit or cap) - budget, 1)
    answer, budget = share(cap, answer, budget)
    if budget < MIN_BUDGET:  # no room to think: the answer gets all of it
        del body["thinking"]
    else:
        thinking["budget_tokens"] = budget


def _gemini_budget(config: dict[str, Any]) -> int:
    thinking = config.get("thinkingConfig")
    if not isinstance(thinking, dict):
        return 0
    return max(_count(thinking.get("thinkingBudget")) or 0, 0)  # -1: dynamic, 0: off


def _cap_gemini(body: dict[str, Any], cap: int, model_max: int) -> None:
    config = body.get("generationConfig")
    if not isinstance(config, dict):
        config = {}
    per_choice = max(cap // _choices(config.get("candidateCount")), 1)
    answer = _count(config.get("maxOutputTokens")) or model_max
    budget = _gemini_budget(config)
    if answer and answer + budget <= per_choice:
        return
    body["generationConfig"] = config
    if not budget:
        config["maxOutputTokens"] = per_choice
        return
    answer, budget = share(per_choice, answer or per_choice, budget)
    config["maxOutputTokens"] = max(answer, 1)
    config["thinkingConfig"]["thinkingBudget"] = budget
