"""The router's HTTP/1.1 client against servers on real sockets that write exactly the bytes a
test gives them: bodies framed by chunks (split anywhere, with extensions and trailers), by
length or by the connection's end; gzip; which connections are kept; what is refused before a
byte is sent; timeouts; the connection limit; TLS with the certificate checked; and the same
under uvloop, the router's loop."""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tollgate_router.providers import ProviderError
from tollgate_router.providers.http_client import (
    BadAnswer,
    ConnectError,
    HttpClient,
    RequestRefused,
    ServerDisconnected,
)
from tollgate_router.providers.transport import exchange, post, read_body


@dataclass
class ScriptedServer:
    """Answers each request with the next of ``answers`` (bytes written in pieces, a short
    pause between them, so the client reads them apart); ``close_after`` answers, it closes the
    connection; ``hold`` keeps it open, silent, after the last answer. Records each request's
    head and body, and which connection it came on."""

    answers: list[list[bytes]]
    close_after: bool = False
    hold: bool = False
    requests: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                self.requests.append((number, head, await reader.readexactly(length)))
                for piece in self.answers.pop(0):
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.01)
                if self.close_after:
                    break
            if self.hold:
                await asyncio.sleep(60)
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(read_seconds=5) as opened:
        yield opened


async def _serve(server: ScriptedServer) -> tuple[asyncio.Server, str]:
    running = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = running.sockets[0].getsockname()[1]
    return running, f"http://127.0.0.1:{port}/v1/chat/completions?alt=sse"


async def _body(client: HttpClient, url: str, **kwargs: float) -> tuple[int, bytes]:
    response = await client.post(url, b'{"n": 1}', {"Content-Type": "application/json"}, **kwargs)
    try:
        return response.status, await response.read()
    finally:
        response.release()


OK = b"HTTP/1.1 200 OK\r\n"


async def test_a_chunked_body_split_anywhere_with_extensions_and_trailers_is_read_whole(
    client: HttpClient,
) -> None:
    head = OK + b"Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n"
    pieces = [head + chunks[:3], chunks[3:9], chunks[9:20], chunks[20:31], chunks[31:]]
    server = ScriptedServer([pieces, [OK + b"Content-Length: 2\r\n\r\nok"]])
    running, url = await _serve(server)
    async with running:
        assert await _body(client, url) == (200, b"hello world!")
        assert await _body(client, url) == (200, b"ok")
    # Both on one connection: the chunked body's end (trailers included) was found.
    assert [number for number, _, _ in server.requests] == [0, 0]
    first_head = server.requests[0][1]
    assert first_head.startswith(b"POST /v1/chat/completions?alt=sse HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{url.split(':')[2].split('/')[0]}\r\n".encode() in first_head
    assert b"\r\nContent-Length: 8\r\n" in first_head and server.requests[0][2] == b'{"n": 1}'


async def test_read_some_returns_what_has_arrived(client: HttpClient) -> None:
    head = OK + b"Transfer-Encoding: chunked\r\n\r\n"
    server = ScriptedServer([[head, b"3\r\nabc\r\n", b"2\r\nde\r\n", b"0\r\n\r\n"]])
    running, url = await _serve(server)
    async with running:
        response = await client.post(url, b"", {})
        try:
            pieces = []
            while piece := await response.read_some():
                pieces.append(piece)
        finally:
            response.release()
    assert pieces == [b"abc", b"de"]


async def test_a_gzipped_body_is_decompressed(client: HttpClient) -> None:
    packed = gzip.compress(b'{"answer": 42}')
    head = OK + b"Content-Encoding: gzip\r\n" + f"Content-Length: {len(packed)}\r\n\r\n".encode()
    server = ScriptedServer([[head + packed[:10], packed[10:]]])
    running, url = await _serve(server)
    async with running:
        assert await _body(client, url) == (200, b'{"answer": 42}')
    assert b"\r\nAccept-Encoding: gzip, deflate\r\n" in server.requests[0][1]


async def test_a_body_ended_by_the_connection_is_read_and_the_connection_not_kept(
    client: HttpClient,
) -> None:
    server = ScriptedServer(
        [[OK + b"\r\nuntil", b" the end"], [OK + b"Content-Length: 2\r\n\r\nok"]],
        close_after=True,
    )
    running, url = await _serve(server)
    async with running:
        assert await _body(client, url) == (200, b"until the end")
        assert await _body(client, url) == (200, b"ok")
    assert [number for number, _, _ in server.requests] == [0, 1]


async def test_connection_close_is_honoured(client: HttpClient) -> None:
    close = OK + b"Connection: close\r\nContent-Length: 1\r\n\r\na"
    server = ScriptedServer([[close], [OK + b"Content-Length: 1\r\n\r\nb"]])
    running, url = await _serve(server)
    async with running:
        assert await _body(client, url) == (200, b"a")
        assert await _body(client, url) == (200, b"b")
    assert [number for number, _, _ in server.requests] == [0, 1]


async def test_a_body_cut_short_is_a_disconnection(client: HttpClient) -> None:
    server = ScriptedServer([[OK + b"Content-Length: 10\r\n\r\nabc"]], close_after=True)
    running, url = await _serve(server)
    async with running:
        with pytest.raises(ServerDisconnected):
            await _body(client, url)


@pytest.mark.parametrize(
    "answer",
    [b"SMTP 220 hello\r\n\r\n", OK + b"Content-Length: x\r\n\r\n", OK + b"bad header\r\n\r\n"],
    ids=["not-http", "bad-length", "bad-header"],
)
async def test_what_is_not_http_is_a_bad_answer(client: HttpClient, answer: bytes) -> None:
    server = ScriptedServer([[answer]], close_after=True)
    running, url = await _serve(server)
    async with running:
        with pytest.raises(BadAnswer):
            await _body(client, url)


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer sk-1\r\nX-Injected: 1"}, {"x-api-key": "sk-\n1"}],
    ids=["crlf", "lf"],
)
async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(
    client: HttpClient, headers: dict[str, str]
) -> None:
    server = ScriptedServer([[OK + b"Content-Length: 2\r\n\r\nok"]])
    running, url = await _serve(server)
    async with running:
        with pytest.raises(RequestRefused):
            await client.post(url, b"{}", headers)
        with pytest.raises(ProviderError) as refused:
            await post(client, url, b"{}", headers, 5)
    assert refused.value.status == 0 and "cannot be sent" in refused.value.message
    assert server.requests == [] and server.connections == 0


async def test_a_silent_server_times_out_on_the_read_timeout_and_on_the_deadline() -> None:
    server = ScriptedServer([[]], hold=True)  # reads the request, never answers
    running, url = await _serve(server)
    async with running, HttpClient(read_seconds=0.2) as impatient:
        with pytest.raises(TimeoutError):
            await _body(impatient, url)
    server = ScriptedServer([[OK + b"Content-Length: 5\r\n\r\nab"]], hold=True)  # no rest
    running, url = await _serve(server)
    async with running, HttpClient(read_seconds=30) as patient:
        with pytest.raises(TimeoutError):
            await _body(patient, url, deadline=0.3)


async def test_the_connection_limit_makes_a_request_wait_not_fail() -> None:
    answers = [[OK + b"Content-Length: 1\r\n\r\n" + bytes([97 + i])] for i in range(3)]
    server = ScriptedServer(answers)
    running, url = await _serve(server)
    async with running, HttpClient(max_connections=1) as one:
        results = await asyncio.gather(*(_body(one, url) for _ in range(3)))
    assert sorted(body for _, body in results) == [b"a", b"b", b"c"]
    assert server.connections == 1


async def test_a_connection_refused_is_a_status_0_provider_error(client: HttpClient) -> None:
    running, url = await _serve(ScriptedServer([]))
    running.close()
    await running.wait_closed()
    with pytest.raises(ProviderError) as failed:
        await exchange(
            client,
            url,
            b"{}",
            {},
            stream=False,
            deadline=5,
            parser=_no_parser,
            parse_body=lambda raw: [],
            parse_error=lambda status, raw: ProviderError(status, "error"),
        )
    assert failed.value.status == 0 and "ConnectError" in failed.value.message


def _no_parser() -> object:
    raise AssertionError("not a stream")


def test_an_exchange_under_uvloop() -> None:
    """The router runs on uvloop, whose transports are not asyncio's classes."""

    async def scenario() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        head = OK + b"Transfer-Encoding: chunked\r\n\r\n"
        server = ScriptedServer(
            [[head, b"2\r\nhi\r\n0\r\n\r\n"], [OK + b"Content-Length: 0\r\n\r\n"]]
        )
        running, url = await _serve(server)
        async with running, HttpClient() as uv_client:
            first = await _body(uv_client, url)
            response = await uv_client.post(url, b"", {})
            try:
                second = response.status, await read_body(response)
            finally:
                response.release()
        assert server.connections == 1
        return first, second

    run: Callable[..., tuple[tuple[int, bytes], tuple[int, bytes]]] = uvloop.run
    assert run(scenario()) == ((200, b"hi"), (200, b""))


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_with_the_providers_certificate_checked(tmp_path: Path) -> None:
    """Providers are called over TLS: the certificate is verified against the trusted CAs
    (here the test's own), and the pooled TLS connection is reused."""
    cert, key = _self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    answers = [[OK + b"Content-Length: 3\r\n\r\none"], [OK + b"Content-Length: 3\r\n\r\ntwo"]]
    server = ScriptedServer(answers)
    running = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=served)
    url = f"https://127.0.0.1:{running.sockets[0].getsockname()[1]}/v1/chat/completions"
    trusting = ssl.create_default_context(cafile=str(cert))
    async with running:
        async with HttpClient(ssl_context=trusting) as client:
            assert await _body(client, url) == (200, b"one")
            assert await _body(client, url) == (200, b"two")
        assert server.connections == 1
        async with HttpClient() as default:  # the system's CAs do not know this certificate
            with pytest.raises(ConnectError):
                await _body(default, url)


async def test_a_base_url_with_a_user_and_password_never_sends_them(client: HttpClient) -> None:
    server = ScriptedServer([[OK + b"Content-Length: 2\r\n\r\nok"]])
    running, url = await _serve(server)
    async with running:
        with_user = url.replace("http://", "http://someone:secret@")
        assert await _body(client, with_user) == (200, b"ok")
    head = server.requests[0][1]
    assert b"secret" not in head and b"someone" not in head
