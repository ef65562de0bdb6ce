"""A provider's redirect is not followed. Followed, a 307 or 308 would send the prompt and the
credential headers wherever the answer points (an HTTP client drops only ``Authorization`` on
the way to another host, not Anthropic's ``x-api-key`` or Azure's ``api-key``), and a 301 or
302 would turn the POST into a GET. The router reports where it pointed, and tries the next
provider as after any failure of the provider's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from tollgate.router.v1 import router_pb2 as pb
from tollgate_common.errors import error_details

from tests.fakes.openai_upstream import FakeOpenAI

from .support import RouterUnderTest


def request(model: str, *, stream: bool) -> pb.StreamGenerateRequest:
    return pb.StreamGenerateRequest(
        caller=pb.CallerContext(team_id="team_1", request_id="req-redirect"),
        model=model,
        messages=[pb.ChatMessage(role="user", text="a prompt for openai only")],
        stream=stream,
    )


@pytest.fixture
async def elsewhere() -> AsyncIterator[FakeOpenAI]:
    """Another host, where a redirect points: it records whatever reaches it."""
    fake = FakeOpenAI("sk-elsewhere")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("status", [307, 308, 301, 302])
async def test_a_redirect_is_reported_and_nothing_goes_where_it_points(
    router: RouterUnderTest, elsewhere: FakeOpenAI, status: int, stream: bool
) -> None:
    target = f"{elsewhere.base_url}/chat/completions"
    router.openai.script(status=status, redirect_to=f"{target}?token=secret")

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await router.generate(request("openai/gpt-4o-mini", stream=stream))

    details = error_details(raised.value)
    assert details.code == grpc.StatusCode.UNAVAILABLE
    assert details.reason == "PROVIDER_ERROR"
    assert f"HTTP {status}" in details.message
    assert f"redirected the request to {target}" in details.message
    assert "secret" not in details.message
    assert len(router.openai.requests) == 1  # asked once, not again at the new address
    assert list(elsewhere.requests) == []


async def test_a_redirecting_provider_is_passed_over_for_the_next(
    router: RouterUnderTest, elsewhere: FakeOpenAI
) -> None:
    router.openai.script(status=308, redirect_to=f"{elsewhere.base_url}/chat/completions")

    responses = await router.generate(request("acme/echo-1", stream=True))

    assert responses[0].started.provider == "groq"
    routing = responses[-1].finished.provider_metadata.gateway.routing
    redirected, served = routing.attempts
    assert (redirected.provider, redirected.success, redirected.status_code) == (
        "openai",
        False,
        308,
    )
    assert "not followed" in redirected.error_message
    assert (served.provider, served.success) == ("groq", True)
    assert list(elsewhere.requests) == []
