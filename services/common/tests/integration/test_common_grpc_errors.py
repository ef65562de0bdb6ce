"""A DomainError raised in a handler reaches the client as status + ErrorInfo; anything else
as INTERNAL without its message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from tollgate_common.errors import NotFound, error_details
from tollgate_common.grpc_client import is_serving, open_channel
from tollgate_common.grpc_server import GrpcService


class ModelMissing(NotFound):
    reason = "MODEL_NOT_FOUND"


async def _unary(request: bytes, context: Any) -> bytes:
    if request == b"missing":
        raise ModelMissing("no such model", metadata={"param": "model"})
    if request == b"boom":
        raise RuntimeError("secret internals")
    return b"ok:" + request


async def _stream(request: bytes, context: Any) -> AsyncIterator[bytes]:
    yield b"first"
    raise ModelMissing("gone mid-stream")


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    service = GrpcService("test", "127.0.0.1:0", grace_seconds=1)
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(_unary),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream),
    }
    service.server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("t.T", handlers),)
    )
    port = await service.start()
    chan = open_channel(f"127.0.0.1:{port}")
    yield chan
    await chan.close()
    await service.shutdown()


async def test_domain_error_carries_reason_and_metadata(channel: grpc.aio.Channel) -> None:
    call = channel.unary_unary("/t.T/Unary")
    assert await call(b"x") == b"ok:x"
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call(b"missing")
    details = error_details(failure.value)
    assert details.code == grpc.StatusCode.NOT_FOUND
    assert details.reason == "MODEL_NOT_FOUND"
    assert details.metadata == {"param": "model"}
    assert details.message == "no such model"


async def test_unexpected_error_is_internal_and_hides_its_message(
    channel: grpc.aio.Channel,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await channel.unary_unary("/t.T/Unary")(b"boom")
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (failure.value.details() or "")


async def test_stream_error_after_first_item(channel: grpc.aio.Channel) -> None:
    call = channel.unary_stream("/t.T/Stream")(b"")
    received: list[bytes] = []

    async def drain() -> None:
        async for item in call:
            received.append(item)

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await drain()
    assert received == [b"first"]
    assert error_details(failure.value).reason == "MODEL_NOT_FOUND"


async def test_health_reports_serving(channel: grpc.aio.Channel) -> None:
    assert await is_serving(channel)


async def test_a_taken_port_is_a_clear_error() -> None:
    first = GrpcService("first", "127.0.0.1:0", grace_seconds=0)
    port = await first.start()
    second = GrpcService("second", f"127.0.0.1:{port}", grace_seconds=0)
    try:
        with pytest.raises(OSError, match="cannot listen"):
            await second.start()
    finally:
        await first.shutdown()
