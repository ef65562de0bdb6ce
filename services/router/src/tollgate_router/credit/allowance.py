"""Output allowances: the output tokens a generation of a model ordinarily needs, learned from
the model's recent generations in this router.

Billing holds a generation's whole worst case (the model's output window when the caller sets no
limit) while the team could pay a few of them; below that it holds the generation's
*allowance* instead, and the output limit sent upstream is clamped to it, so the cap stays
exact while a team near the end of its money runs many ordinary generations at once rather
than a few that could each write the whole window (docs/billing.md, "Output allowances").
The allowance is twice the 99th percentile of the output tokens of the model's last
generations, and never below a floor (``TOLLGATE_ROUTER_OUTPUT_ALLOWANCE``; 0 turns
allowances off).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

# Generations remembered per model, and how many new ones make the percentile be worked out
# again (a sort of the remembered ones).
SAMPLES = 1000
_REFRESH = 50
_PERCENTILE = 0.99
_HEADROOM = 2


@dataclass(slots=True)
class _Model:
    outputs: deque[int] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    fresh: int = 0  # outputs seen since ``high`` was worked out
    high: int = 0  # the percentile of ``outputs``


class OutputAllowances:
    """Per model, the output tokens of its last :data:`SAMPLES` successful generations."""

    def __init__(self, floor: int) -> None:
        self._floor = floor
        self._models: dict[str, _Model] = {}

    def observe(self, model: str, output_tokens: int) -> None:
        """A generation of ``model`` produced ``output_tokens``."""
        if self._floor <= 0 or output_tokens < 0:
            return
        seen = self._models.get(model)
        if seen is None:
            seen = self._models[model] = _Model()
        seen.outputs.append(output_tokens)
        seen.fresh += 1

    def allowance(self, models: Iterable[str]) -> int:
        """The output tokens a generation that may go to any of ``models`` is allowed under
        money pressure; 0 when allowances are off."""
        if self._floor <= 0:
            return 0
        return max([self._floor, *(_HEADROOM * self._high(model) for model in models)])

    def _high(self, model: str) -> int:
        seen = self._models.get(model)
        if seen is None or not seen.outputs:
            return 0
        if seen.fresh >= _REFRESH or (seen.fresh and len(seen.outputs) <= _REFRESH):
            ordered = sorted(seen.outputs)
            seen.high = ordered[min(len(ordered) - 1, int(len(ordered) * _PERCENTILE))]
            seen.fresh = 0
        return seen.high
