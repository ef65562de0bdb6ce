"""Our servers accept the keepalive pings our own channels send: otherwise a server answers an
idle channel's pings with GOAWAY "too_many_pings" and the calls in flight on it fail (a 502 at
the edge, seen in a full suite run)."""

from __future__ import annotations

from tollgate_common.grpc_client import CHANNEL_OPTIONS
from tollgate_common.grpc_server import SERVER_OPTIONS

# gRPC's server default: one ping per 5 minutes on a connection without data.
SERVER_DEFAULT_MIN_PING_INTERVAL_MS = 300_000


def test_servers_accept_the_keepalive_cadence_of_our_channels() -> None:
    client = dict(CHANNEL_OPTIONS)
    server = dict(SERVER_OPTIONS)
    assert client["grpc.keepalive_permit_without_calls"] == 1  # pings on idle channels too
    accepted = server.get(
        "grpc.http2.min_ping_interval_without_data_ms", SERVER_DEFAULT_MIN_PING_INTERVAL_MS
    )
    assert accepted < client["grpc.keepalive_time_ms"]
