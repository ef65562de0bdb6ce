"""Spans of a generation, named and attributed after OpenTelemetry's GenAI conventions.

One INTERNAL span per generation (``chat <model>``), a child of the gRPC server span, with one
CLIENT child per provider attempt (``chat <provider model id>``) from the request until the
provider's first event (or its failure). The generation span ends when the usage is settled and
carries the generation id, the provider that served, tokens and finish reason. Its context
travels with the usage fact (``traceparent`` in the NATS headers), so billing and activity
continue the same trace. Nothing here runs when tracing is off: callers get ``None``.
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from tollgate_common import telemetry

from tollgate_router.domain import GenerationRequest
from tollgate_router.usage import UsageRecord


class AttemptSpan:
    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def succeeded(self) -> None:
        self._span.end()

    def failed(self, status: int, error_type: str, message: str) -> None:
        self._span.set_attribute("error.type", error_type or (str(status) if status else "error"))
        if status:
            self._span.set_attribute("http.response.status_code", status)
        self._span.set_status(trace.Status(trace.StatusCode.ERROR, message))
        self._span.end()


class GenerationSpan:
    def __init__(self, tracer: trace.Tracer, span: trace.Span) -> None:
        self._tracer = tracer
        self._span = span
        self._context: Context = trace.set_span_in_context(span)

    def attempt(self, provider: str, provider_model_id: str, model_id: str) -> AttemptSpan:
        span = self._tracer.start_span(
            f"chat {provider_model_id}",
            context=self._context,
            kind=trace.SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": provider,
                "gen_ai.request.model": provider_model_id,
                "tollgate.model": model_id,
            },
        )
        return AttemptSpan(span)

    def carrier(self) -> tuple[tuple[str, str], ...]:
        """The trace context as message headers (``traceparent``, ``tracestate``)."""
        headers: dict[str, str] = {}
        propagate.inject(headers, context=self._context)
        return tuple(headers.items())

    def finish(self, record: UsageRecord, error: str = "") -> None:
        span, usage = self._span, record.usage
        span.set_attributes(
            {
                "gen_ai.response.id": record.generation_id,
                "gen_ai.response.model": record.model,
                "gen_ai.provider.name": record.provider,
                "gen_ai.usage.input_tokens": usage.input_tokens,
                "gen_ai.usage.output_tokens": usage.output_tokens,
                "gen_ai.usage.cache_read.input_tokens": usage.cached_input_tokens,
                "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
                "tollgate.generation.id": record.generation_id,
                "tollgate.credential_type": record.credential_type,
                "tollgate.streamed": record.streamed,
                "tollgate.ttft_ms": record.ttft_ms,
                "tollgate.attempts": record.attempts,
            }
        )
        if record.finish_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [record.finish_reason])
        if error:
            span.set_status(trace.Status(trace.StatusCode.ERROR, error))
        span.end()

    def fail(self, error_type: str, message: str) -> None:
        """The generation ended before any provider answered."""
        self._span.set_attribute("error.type", error_type)
        self._span.set_status(trace.Status(trace.StatusCode.ERROR, message))
        self._span.end()


def start_generation(request: GenerationRequest) -> GenerationSpan | None:
    if not telemetry.tracing_enabled():
        return None
    tracer = trace.get_tracer("tollgate.router")
    span = tracer.start_span(
        f"chat {request.model}",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": request.model,
            "tollgate.team.id": request.caller.team_id,
            "tollgate.project.id": request.caller.project_id,
            "tollgate.stream": request.stream,
        },
    )
    return GenerationSpan(tracer, span)
