"""Render Envoy's config from gateway-edge/envoy/envoy.yaml."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

import tollgate_edge
from tollgate_common.telemetry import tracing_requested
from tollgate_edge.messages.errors import error_type

# Envoy's own local replies (not the edge's answers) in the OpenAI error envelope.
# 401 is absent on purpose: the auth service writes that body itself.
LOCAL_REPLIES: tuple[tuple[int, str, str, str], ...] = (
    (400, "invalid_request_error", "bad_request", "The request could not be parsed."),
    (404, "not_found", "not_found", "Not found."),
    (408, "timeout_error", "request_timeout", "The request was not received in time."),
    (413, "invalid_request_error", "request_too_large", "The request body is too large."),
    (431, "invalid_request_error", "headers_too_large", "The request headers are too large."),
    (500, "internal_server_error", "internal_error", "Internal error."),
    (502, "api_error", "bad_gateway", "The gateway could not reach a backend."),
    (503, "service_unavailable", "unavailable", "The gateway is unavailable; retry shortly."),
    (504, "timeout_error", "gateway_timeout", "The gateway timed out."),
)


@dataclass(frozen=True)
class EnvoyPorts:
    public: int
    admin: int
    edge: int
    auth: int
    listen_host: str = "127.0.0.1"
    edge_host: str = "127.0.0.1"
    auth_host: str = "127.0.0.1"


def template_path() -> Path:
    """gateway-edge/envoy/envoy.yaml beside the edge package."""
    return Path(tollgate_edge.__file__).resolve().parents[2] / "envoy" / "envoy.yaml"


# The Messages API's paths: their local replies use Anthropic's envelope, so the anthropic SDKs
# raise their usual errors even for a request Envoy refused before the edge saw it.
ANTHROPIC_PATH_PREFIX = "/v1/messages"


def _status_filter(indent: str, status: int) -> list[str]:
    return [
        f"{indent}status_code_filter:",
        f"{indent}  comparison:",
        f"{indent}    op: EQ",
        f"{indent}    value: {{ default_value: {status}, runtime_key: local_reply.status_{status} }}",
    ]


def _body(indent: str, envelope: Mapping[str, object]) -> list[str]:
    return [
        f"{indent}body_format_override:",
        f"{indent}  json_format: {json.dumps(envelope)}",
        f"{indent}  content_type: application/json",
    ]


def _mappers(indent: str) -> str:
    """Envoy's local-reply mappers: first the Messages paths' (Anthropic's envelope), then the
    rest (OpenAI's); Envoy uses the first mapper that matches."""
    lines: list[str] = []
    for status, _kind, _code, message in LOCAL_REPLIES:
        envelope = {"type": "error", "error": {"type": error_type(status), "message": message}}
        status_filter = _status_filter(indent + "          ", status)
        lines += [
            f"{indent}- filter:",
            f"{indent}    and_filter:",
            f"{indent}      filters:",
            f"{indent}        - header_filter:",
            f"{indent}            header:",
            f'{indent}              name: ":path"',
            f'{indent}              string_match: {{ prefix: "{ANTHROPIC_PATH_PREFIX}" }}',
            f"{indent}        - {status_filter[0].strip()}",
            *status_filter[1:],
            *_body(indent + "  ", envelope),
        ]
    for status, kind, code, message in LOCAL_REPLIES:
        envelope = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        lines += [
            f"{indent}- filter:",
            *_status_filter(indent + "    ", status),
            *_body(indent + "  ", envelope),
        ]
    return "\n".join(lines)


@dataclass(frozen=True)
class OtlpTarget:
    """Where Envoy sends its spans: an OTLP collector over gRPC, or over HTTP at ``path``."""

    host: str
    port: int
    grpc: bool
    path: str = "/v1/traces"


def otlp_target(environ: Mapping[str, str]) -> OtlpTarget | None:
    """Envoy's collector, from the same standard ``OTEL_*`` variables the services read (None
    when tracing is off; see ``tollgate_common.telemetry``)."""
    if not tracing_requested(environ):
        return None
    traces_endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
    endpoint = traces_endpoint or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    if not endpoint:
        return None  # e.g. the console exporter: nothing for Envoy to send to
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    url = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    grpc = protocol == "grpc"
    port = url.port or (4317 if grpc else 4318)
    # OTLP/HTTP: a per-signal endpoint is used as is; the general one gets /v1/traces appended.
    path = (url.path or "/") if traces_endpoint else url.path.rstrip("/") + "/v1/traces"
    return OtlpTarget(url.hostname or "127.0.0.1", port, grpc, path)


def _tracing(target: OtlpTarget | None) -> tuple[str, str]:
    """The connection manager's ``tracing`` block and the collector's cluster (or nothing)."""
    if target is None:
        return "", ""
    if target.grpc:
        transport = [
            "grpc_service:",
            "  envoy_grpc: { cluster_name: otel_collector }",
            "  timeout: 1s",
        ]
    else:
        transport = [
            "http_service:",
            "  http_uri:",
            f"    uri: http://{target.host}:{target.port}{target.path}",
            "    cluster: otel_collector",
            "    timeout: 1s",
        ]
    block = [
        "tracing:",
        "  provider:",
        "    name: envoy.tracers.opentelemetry",
        "    typed_config:",
        '      "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        "      service_name: tollgate-envoy",
        *("      " + line for line in transport),
    ]
    protocol = "http2_protocol_options: {}" if target.grpc else "http_protocol_options: {}"
    cluster = [
        "- name: otel_collector",
        "  type: STRICT_DNS",
        "  connect_timeout: 2s",
        "  typed_extension_protocol_options:",
        "    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:",
        '      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        "      explicit_http_config:",
        f"        {protocol}",
        "  load_assignment:",
        "    cluster_name: otel_collector",
        "    endpoints:",
        "      - lb_endpoints:",
        "          - endpoint:",
        "              address:",
        f"                socket_address: {{ address: {target.host}, port_value: {target.port} }}",
    ]
    return "\n".join(" " * 16 + line for line in block), "\n".join(
        " " * 4 + line for line in cluster
    )


# What stands for the Envoy token where the config is rendered without the secret (the
# Kubernetes manifests: the pod puts the token in at start, docs/deploy.md).
TOKEN_PLACEHOLDER = "__TOLLGATE_ENVOY_TOKEN__"  # noqa: S105 (a placeholder)


def render(
    ports: EnvoyPorts,
    max_request_bytes: int = 32 * 1024 * 1024,
    tracing: OtlpTarget | None = None,
    envoy_token: str = TOKEN_PLACEHOLDER,
) -> str:
    """Envoy's config. ``envoy_token``: what Envoy presents to auth and to the edge (the
    installation's ``envoy`` token, docs/architecture.md "Trust")."""
    template = Template(template_path().read_text())
    tracing_block, tracing_cluster = _tracing(tracing)
    return template.substitute(
        TRACING=tracing_block,
        TRACING_CLUSTER=tracing_cluster,
        ENVOY_TOKEN=envoy_token,
        ENVOY_ADMIN_PORT=ports.admin,
        LISTEN_HOST=ports.listen_host,
        PUBLIC_PORT=ports.public,
        EDGE_HOST=ports.edge_host,
        EDGE_PORT=ports.edge,
        AUTH_HOST=ports.auth_host,
        AUTH_PORT=ports.auth,
        MAX_REQUEST_BYTES=max_request_bytes,
        LOCAL_REPLY_MAPPERS=_mappers(" " * 20),
    )
