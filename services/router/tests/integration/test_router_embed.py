"""The Embed RPC on a real router (gRPC, SQLite outbox, real nats-server) in front of the fake
OpenAI upstream: vectors as the provider sent them, the usage fact in JetStream, and errors as
gRPC statuses with ErrorInfo."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.errors import error_details

from tests.fakes.embedding_vectors import fake_vector

from .support import RouterUnderTest

MODEL = "openai/text-embedding-3-small"  # shipped catalog, served by the fake via openai


def embed_request(model: str = MODEL, **kwargs: object) -> pb.EmbedRequest:
    return pb.EmbedRequest(
        caller=pb.CallerContext(team_id="team_1", project_id="prj_1", request_id="req-embed"),
        model=model,
        inputs=[pb.EmbeddingInput(text="hello router"), pb.EmbeddingInput(text="again")],
        **kwargs,  # type: ignore[arg-type]
    )


async def test_embed_returns_vectors_and_publishes_the_usage_fact(router: RouterUnderTest) -> None:
    response = await router.stub.Embed(embed_request(dimensions=16), timeout=30)

    assert [list(e.values) for e in response.embeddings] == [
        fake_vector("hello router", 16),
        fake_vector("again", 16),
    ]
    assert (response.model, response.provider) == (MODEL, "openai")
    assert response.usage.input_tokens == 3 and response.usage.output_tokens == 0
    gateway = response.provider_metadata.gateway
    assert gateway.generation_id == response.generation_id
    assert Decimal(gateway.cost) == 3 * Decimal("0.00000002")
    (sent,) = router.openai.requests
    assert sent["path"] == "/v1/embeddings" and sent["body"]["dimensions"] == 16

    headers, fact = await router.usage_fact(response.generation_id)

    assert headers["Nats-Msg-Id"] == response.generation_id
    assert (fact.model, fact.provider, fact.provider_model_id) == (
        MODEL,
        "openai",
        "text-embedding-3-small",
    )
    assert (fact.input_tokens, fact.output_tokens, fact.streamed) == (3, 0, False)
    assert fact.team_id == "team_1" and fact.project_id == "prj_1"
    assert Decimal(fact.cost) == Decimal(gateway.cost) and fact.status == "success"


@pytest.mark.parametrize(
    ("model", "code", "reason"),
    [
        ("acme/echo-1", grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_MODEL"),
        ("acme/no-such-model", grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND"),
    ],
)
async def test_errors_are_statuses_with_a_reason(
    router: RouterUnderTest, model: str, code: grpc.StatusCode, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await router.stub.Embed(embed_request(model), timeout=30)

    details = error_details(failed.value)
    assert (details.code, details.reason) == (code, reason)
    assert details.metadata["param"] == "model"
    assert not router.openai.requests and not router.groq.requests


async def test_a_provider_failure_without_a_fallback_is_unavailable(
    router: RouterUnderTest,
) -> None:
    router.openai.script(status=500)

    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await router.stub.Embed(embed_request(), timeout=30)

    details = error_details(failed.value)
    assert (details.code, details.reason) == (grpc.StatusCode.UNAVAILABLE, "PROVIDER_ERROR")
