"""Observability of the whole suite: one request is one trace across Envoy, auth, edge,
router, billing and activity (exported over OTLP to a fake collector speaking the real
protocol), and every process serves Prometheus metrics that count it."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.otlp_collector import ReceivedSpan
from tests.support.polling import eventually
from tests.support.telemetry import PROCESSES, Observed, observed
from tests.support.upstreams import Upstream

__all__ = ["observed"]  # the module-scoped suite with an OTLP collector (tests/support)


def complete(observed: Observed, **kwargs: Any) -> Any:
    client = openai.OpenAI(
        base_url=observed.stack.base_url, api_key=observed.stack.bootstrap_key(), max_retries=0
    )
    return client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "trace me"}], **kwargs
    )


def trace_of(observed: Observed, generation_id: str) -> list[ReceivedSpan]:
    spans = observed.collector.spans()
    ids = {s.trace_id for s in spans if s.attributes.get("gen_ai.response.id") == generation_id}
    return [s for s in spans if s.trace_id in ids] if len(ids) == 1 else []


def test_one_request_is_one_trace_across_every_process(observed: Observed) -> None:
    completion = complete(observed)

    services = {f"tollgate-{n}" for n in (*PROCESSES, "envoy")}
    spans = eventually(
        lambda: (
            (s := trace_of(observed, completion.id)) and services <= {x.service for x in s} and s
        )
    )

    assert spans, f"no single trace reached {sorted(services)}"
    assert {s.service for s in spans} >= services
    generation = next(s for s in spans if s.attributes.get("gen_ai.response.id") == completion.id)
    assert generation.service == "tollgate-router"
    assert generation.name == "chat openai/gpt-4o-mini"
    assert generation.attributes["gen_ai.provider.name"] == "openai"
    assert generation.attributes["gen_ai.usage.input_tokens"] == completion.usage.prompt_tokens
    assert generation.attributes["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    attempt = next(s for s in spans if s.name == "chat gpt-4o-mini")
    assert attempt.parent_span_id == generation.span_id
    consumers = [s for s in spans if s.name == "process tollgate.usage.recorded.v1"]
    assert {s.service for s in consumers} == {"tollgate-billing", "tollgate-activity"}
    assert all(s.parent_span_id == generation.span_id for s in consumers)
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if s.parent_span_id not in by_id]
    assert [r.service for r in roots] == ["tollgate-envoy"]  # Envoy started the trace


def test_a_streamed_request_is_traced_too(observed: Observed) -> None:
    stream = complete(observed, stream=True, stream_options={"include_usage": True})
    ids = {chunk.id for chunk in stream}  # read to the end: the generation then finishes
    [generation_id] = ids

    spans = eventually(lambda: trace_of(observed, generation_id))

    generation = next(s for s in spans if s.attributes.get("gen_ai.response.id") == generation_id)
    assert generation.attributes["tollgate.streamed"] is True


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url).raise_for_status().text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(url: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        v
        for (sample, sample_labels), v in samples(url).items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_every_process_serves_metrics_that_count_the_request(observed: Observed) -> None:
    router, edge = observed.metrics["router"], observed.metrics["edge"]
    labels = {"model": "openai/gpt-4o-mini", "provider": "openai"}
    before = value(router, "tollgate_generations_total", status="success", **labels)
    tokens_before = value(router, "tollgate_tokens_total", kind="output", **labels)
    http_before = value(
        edge, "tollgate_http_requests_total", route="/v1/chat/completions", status="200"
    )

    completion = complete(observed)

    assert value(router, "tollgate_generations_total", status="success", **labels) == before + 1
    assert (
        value(router, "tollgate_tokens_total", kind="output", **labels)
        == tokens_before + completion.usage.completion_tokens
    )
    assert value(router, "tollgate_time_to_first_token_seconds_count", **labels) >= 1
    assert value(router, "tollgate_spend_usd_total", **labels) > 0
    assert (
        value(edge, "tollgate_http_requests_total", route="/v1/chat/completions", status="200")
        == http_before + 1
    )
    assert value(observed.metrics["auth"], "tollgate_grpc_server_handled_total", code="OK") >= 1
    for consumer in ("billing", "activity"):
        url = observed.metrics[consumer]
        assert eventually(
            lambda url=url: value(url, "tollgate_jetstream_messages_total", outcome="ack")
        )
        assert eventually(
            lambda url=url: (
                "tollgate_jetstream_consumer_pending_messages" in {name for name, _ in samples(url)}
            )
        )


def test_upstream_errors_are_counted_by_provider_and_status(
    observed: Observed, fresh_upstream: Upstream
) -> None:
    router = observed.metrics["router"]
    before = value(router, "tollgate_upstream_errors_total", provider="openai", status="500")
    fresh_upstream.script(status=500)

    with pytest.raises(openai.APIStatusError):
        complete(observed)

    assert value(router, "tollgate_upstream_errors_total", provider="openai", status="500") == (
        before + 1
    )
