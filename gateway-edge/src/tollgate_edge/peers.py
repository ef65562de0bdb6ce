"""Long-lived gRPC channels to the peer services, and the app keys that hold them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from aiohttp import web
from tollgate.activity.v1 import activity_pb2_grpc
from tollgate.billing.v1 import billing_pb2_grpc
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common import telemetry
from tollgate_common.context import REQUEST_ID_METADATA
from tollgate_common.grpc_client import CHANNEL_OPTIONS, open_channel
from tollgate_common.internal_auth import TOKEN_METADATA

from tollgate_edge.lanes import GenerationLanes
from tollgate_edge.settings import EdgeSettings

if TYPE_CHECKING:
    from tollgate.activity.v1.activity_pb2_grpc import ActivityServiceAsyncStub
    from tollgate.billing.v1.billing_pb2_grpc import BillingServiceAsyncStub
    from tollgate.router.v1.router_pb2_grpc import RouterServiceAsyncStub

Metadata = tuple[tuple[str, str], ...]

# W3C trace context travels on from the HTTP request into the RPC (docs/telemetry.md).
_FORWARDED = ("traceparent", "tracestate")
_MAX_METADATA = 512


@dataclass(frozen=True, slots=True)
class Peers:
    """One channel per peer for the life of the process (``channels``, which readiness
    checks); stubs over them.

    ``generations`` is over a second channel to the router, for ``StreamGenerate`` alone,
    without the token interceptor: a grpc.aio client interceptor runs in a task of its own and
    relays every streamed message through one more async iterator (about a tenth of the edge's
    CPU per streamed chunk), so the edge puts its token in the call's metadata itself
    (``generation_token``). ``lanes`` carry the non-streaming generations over that channel
    (None when ``TOLLGATE_EDGE_GENERATION_LANES`` is 0: a Generate call each)."""

    channels: dict[str, grpc.aio.Channel]
    router: RouterServiceAsyncStub
    billing: BillingServiceAsyncStub
    activity: ActivityServiceAsyncStub
    generations_channel: grpc.aio.Channel
    generations: RouterServiceAsyncStub
    generation_token: Metadata
    lanes: GenerationLanes | None

    @classmethod
    def open(cls, settings: EdgeSettings) -> Peers:
        keys = settings.internal_keys()
        channels = {
            name: open_channel(addr, keys, "edge")
            for name, addr in (
                ("auth", settings.auth_addr),
                ("router", settings.router_addr),
                ("billing", settings.billing_addr),
                ("activity", settings.activity_addr),
            )
        }
        generations = grpc.aio.insecure_channel(
            settings.router_addr,
            options=CHANNEL_OPTIONS,
            interceptors=telemetry.client_interceptors() or None,
        )
        stub = router_pb2_grpc.RouterServiceStub(generations)
        token = () if keys is None else ((TOKEN_METADATA, keys.token("edge")),)
        lanes = settings.generation_lanes
        return cls(
            channels=channels,
            router=router_pb2_grpc.RouterServiceStub(channels["router"]),
            billing=billing_pb2_grpc.BillingServiceStub(channels["billing"]),
            activity=activity_pb2_grpc.ActivityServiceStub(channels["activity"]),
            generations_channel=generations,
            generations=stub,
            generation_token=token,
            lanes=GenerationLanes(stub, token, lanes) if lanes else None,
        )

    async def close(self, grace_seconds: float | None = None) -> None:
        if self.lanes is not None:
            await self.lanes.close()
        for channel in (*self.channels.values(), self.generations_channel):
            await channel.close(grace_seconds)


SETTINGS = web.AppKey("settings", EdgeSettings)
PEERS = web.AppKey("peers", Peers)


def _metadata_safe(value: str) -> bool:
    """gRPC ASCII metadata takes printable ASCII only; anything else would fail the call."""
    return 0 < len(value) <= _MAX_METADATA and value.isascii() and value.isprintable()


def request_id(request: web.Request) -> str:
    """Envoy's ``x-request-id``; one is made up when it is missing or unusable."""
    rid = request.headers.get(REQUEST_ID_METADATA, "")
    return rid if _metadata_safe(rid) else uuid.uuid4().hex


def call_metadata(request: web.Request, rid: str | None = None) -> Metadata:
    """gRPC metadata of an outgoing call: the request id and the trace context."""
    metadata: list[tuple[str, str]] = [(REQUEST_ID_METADATA, rid or request_id(request))]
    headers = request.headers
    for name in _FORWARDED:
        value = headers.get(name, "")
        if _metadata_safe(value):
            metadata.append((name, value))
    return tuple(metadata)
