"""The floor under Tollgate's CPU per streamed chunk: what one grpc.aio server-streaming message
costs the sending and the receiving process, with nothing else done for it.

    .venv/bin/python bench/grpc_hop.py [--messages 200] [--streams 16] [--interceptor]

A server process (uvloop, as the router) streams ``StreamGenerateResponse`` text deltas 1 ms
apart, as a provider's tokens arrive; the client (uvloop, as the edge) reads them, four streams
at a time. The CPU of streams ``--messages`` longer minus that of short ones, per extra message,
is printed for each side. ``--interceptor`` puts a pass-through client interceptor on the
channel (as the internal token interceptor is). Set ``GRPC_*`` variables to compare gRPC's
settings (they apply to both processes).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
from typing import Any

import grpc
import psutil
import uvloop
from tollgate.router.v1 import router_pb2 as pb

SERVICE, METHOD = "bench.Hop", "Stream"
SHORT = 5


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _serve(port: int) -> None:
    message = pb.StreamGenerateResponse(text_delta=pb.TextDelta(text=" word"))

    async def stream(request: pb.Usage, context: Any) -> Any:
        for _ in range(request.input_tokens):
            await asyncio.sleep(0.001)
            await context.write(message)

    handler = grpc.unary_stream_rpc_method_handler(
        stream,
        request_deserializer=pb.Usage.FromString,
        response_serializer=pb.StreamGenerateResponse.SerializeToString,
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


class _PassThrough(grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(details, request)


async def _client(port: int, server_pid: int, args: argparse.Namespace) -> None:
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", interceptors=[_PassThrough()] if args.interceptor else None
    )
    call = channel.unary_stream(
        f"/{SERVICE}/{METHOD}",
        request_serializer=pb.Usage.SerializeToString,
        response_deserializer=pb.StreamGenerateResponse.FromString,
    )

    async def load(length: int) -> None:
        async def worker(count: int) -> None:
            for _ in range(count):
                async for _message in call(pb.Usage(input_tokens=length)):
                    pass

        await asyncio.gather(*(worker(args.streams // 4) for _ in range(4)))

    await load(SHORT)  # warm the channel
    server = psutil.Process(server_pid)
    spent: dict[int, tuple[float, float]] = {}
    for length in (SHORT, SHORT + args.messages):
        client0, server0 = _cpu(), sum(server.cpu_times()[:2])
        await load(length)
        spent[length] = (_cpu() - client0, sum(server.cpu_times()[:2]) - server0)
    extra = args.streams * args.messages
    client = (spent[SHORT + args.messages][0] - spent[SHORT][0]) / extra * 1e6
    served = (spent[SHORT + args.messages][1] - spent[SHORT][1]) / extra * 1e6
    print(
        f"µs of CPU per message: client {client:.1f}, server {served:.1f}, both {client + served:.1f}"
    )
    await channel.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--interceptor", action="store_true")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    uvloop.install()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    from tollgate_common.testing import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        asyncio.run(_client(port, server.pid, args))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
