"""The generations of the AI SDK gateway protocol Tollgate serves, keyed on the URL prefix
(docs/ai-sdk.md): ``/v1/ai`` for ``@ai-sdk/gateway`` 1.x-2.x (``ai`` 5,
LanguageModelV2) and ``/v3/ai`` for 3.x (``ai`` 6, LanguageModelV3). They share routes, requests
and stream part names; the finish reason, usage and warnings differ in shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from tollgate.router.v1 import router_pb2

# OpenAI's finish reasons (what the router reports) → the AI SDK's.
_FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "function_call": "tool-calls",
    "content_filter": "content-filter",
    "error": "error",
}


@dataclass(frozen=True, slots=True)
class Spec:
    prefix: str
    version: int

    @property
    def name(self) -> str:
        """``specificationVersion`` of ``/config``'s entries."""
        return f"v{self.version}"

    def finish_reason(self, raw: str) -> Any:
        """V2: a string (``unknown`` when unmapped); V3: ``{unified, raw}``."""
        mapped = _FINISH_REASONS.get(raw or "stop")
        if self.version == 2:
            return mapped or "unknown"
        return {"unified": mapped or "other", "raw": raw or "stop"}

    def usage(self, usage: router_pb2.Usage | None) -> dict[str, Any]:
        """V2: flat token counts; V3: input split into uncached / cache read / cache write,
        output into text / reasoning."""
        if usage is None:
            usage = router_pb2.Usage()
        total_in, total_out = usage.input_tokens, usage.output_tokens
        if self.version == 2:
            return {
                "inputTokens": total_in,
                "outputTokens": total_out,
                "totalTokens": usage.total_tokens or total_in + total_out,
                "reasoningTokens": usage.reasoning_tokens,
                "cachedInputTokens": usage.cached_input_tokens,
            }
        cached = usage.cached_input_tokens + usage.cache_write_tokens
        return {
            "inputTokens": {
                "total": total_in,
                "noCache": max(total_in - cached, 0),
                "cacheRead": usage.cached_input_tokens,
                "cacheWrite": usage.cache_write_tokens,
            },
            "outputTokens": {
                "total": total_out,
                "text": max(total_out - usage.reasoning_tokens, 0),
                "reasoning": usage.reasoning_tokens,
            },
        }

    def unsupported_setting(self, setting: str) -> dict[str, Any]:
        if self.version == 2:
            return {"type": "unsupported-setting", "setting": setting}
        return {"type": "unsupported", "feature": setting}

    def unsupported_tool(self, tool: dict[str, Any]) -> dict[str, Any]:
        if self.version == 2:
            return {"type": "unsupported-tool", "tool": tool}
        return {"type": "unsupported", "feature": f"tool {tool.get('id') or tool.get('name')}"}


V2 = Spec("/v1/ai", 2)
V3 = Spec("/v3/ai", 3)
SPECS = (V2, V3)


def spec_of(request: web.Request) -> Spec:
    """The protocol generation of ``request``'s path."""
    return V3 if request.path.startswith(V3.prefix + "/") else V2
