"""An embeddings request is one trace from Envoy to billing and activity: the router's ``Embed``
span carries the GenAI attributes and its context travels with the usage fact."""

from __future__ import annotations

import openai

from tests.fakes.otlp_collector import ReceivedSpan
from tests.support.polling import eventually
from tests.support.telemetry import Observed, observed

__all__ = ["observed"]  # the module-scoped stack with an OTLP collector, used here too


def test_an_embeddings_request_is_one_trace_to_billing(observed: Observed) -> None:
    client = openai.OpenAI(
        base_url=observed.stack.base_url, api_key=observed.stack.bootstrap_key(), max_retries=0
    )
    response = client.embeddings.create(model="openai/text-embedding-3-small", input="trace me")
    generation_id = (response.model_extra or {})["providerMetadata"]["gateway"]["generationId"]

    def spans() -> list[ReceivedSpan]:
        received = observed.collector.spans()
        ids = {
            s.trace_id for s in received if s.attributes.get("gen_ai.response.id") == generation_id
        }
        found = [s for s in received if s.trace_id in ids] if len(ids) == 1 else []
        services = {s.service for s in found}
        wanted = {"tollgate-envoy", "tollgate-edge", "tollgate-router", "tollgate-billing"}
        return found if wanted <= services else []

    trace = eventually(spans)

    assert trace, "no single trace from Envoy to billing for the embeddings request"
    embed = next(s for s in trace if s.attributes.get("gen_ai.response.id") == generation_id)
    assert embed.attributes["gen_ai.operation.name"] == "embeddings"
    assert embed.attributes["gen_ai.usage.input_tokens"] == response.usage.prompt_tokens
