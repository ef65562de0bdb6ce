"""A pass-through HTTP proxy in front of the gateway that records each request's method, path
and answered status: how a test sees every request a client made, including the ones Tollgate
refused before any provider was called (which no fake records). The answer is relayed whole
once the gateway has finished it (streams included): enough for clients under test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

# Hop-by-hop headers, and the length / encoding httpx has already undone.
_DROPPED = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}
)


@dataclass
class Recorded:
    base_url: str  # the proxy's root, to give the client instead of the gateway's
    exchanges: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    refusals: list[str] = field(default_factory=list)  # the bodies of the answers >= 400


@contextmanager
def recording_proxy(target: str) -> Iterator[Recorded]:
    """Serve on a free local port, forwarding to ``target`` (a root URL, no trailing slash)."""
    recorded = Recorded(base_url="")
    client = httpx.Client(timeout=120)

    class Handler(BaseHTTPRequestHandler):
        def _relay(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _DROPPED}
            reply = client.request(self.command, target + self.path, content=body, headers=headers)
            recorded.exchanges.append((self.command, self.path, reply.status_code))
            if reply.status_code >= 400:
                recorded.refusals.append(reply.text)
            self.send_response(reply.status_code)
            for name, value in reply.headers.multi_items():
                if name.lower() not in _DROPPED:
                    self.send_header(name, value)
            self.send_header("content-length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        do_GET = do_POST = do_PUT = do_DELETE = _relay

        def log_message(self, format: str, *args: object) -> None:
            pass  # no stderr noise per request

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorded.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
        client.close()
