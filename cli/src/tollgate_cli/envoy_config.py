"""Render Envoy's config from gateway-edge/envoy/envoy.yaml."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from string import Template

import tollgate_edge

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


def _mappers(indent: str) -> str:
    lines: list[str] = []
    for status, kind, code, message in LOCAL_REPLIES:
        envelope = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        lines += [
            f"{indent}- filter:",
            f"{indent}    status_code_filter:",
            f"{indent}      comparison:",
            f"{indent}        op: EQ",
            f"{indent}        value: {{ default_value: {status}, runtime_key: local_reply.status_{status} }}",
            f"{indent}  body_format_override:",
            f"{indent}    json_format: {json.dumps(envelope)}",
            f"{indent}    content_type: application/json",
        ]
    return "\n".join(lines)


def render(ports: EnvoyPorts, max_request_bytes: int = 32 * 1024 * 1024) -> str:
    template = Template(template_path().read_text())
    return template.substitute(
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
