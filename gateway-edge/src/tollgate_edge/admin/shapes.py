"""Admin API objects as JSON (camelCase, docs/admin-api.md) from the auth service's messages."""

from __future__ import annotations

from typing import Any

from tollgate.auth.v1 import auth_pb2

from tollgate_edge.admin.calls import METHOD_NAMES, ROLE_NAMES, iso_or_none
from tollgate_edge.lookup import iso_utc


def team(message: auth_pb2.Team) -> dict[str, Any]:
    return {
        "id": message.id,
        "slug": message.slug,
        "name": message.name,
        "createdAt": iso_utc(message.created_at),
        "role": ROLE_NAMES.get(message.role),
    }


def member(message: auth_pb2.Member) -> dict[str, Any]:
    return {
        "userId": message.user_id,
        "email": message.email,
        "role": ROLE_NAMES.get(message.role),
        "joinedAt": iso_utc(message.joined_at),
    }


def project(message: auth_pb2.Project) -> dict[str, Any]:
    return {
        "id": message.id,
        "teamId": message.team_id,
        "name": message.name,
        "createdAt": iso_utc(message.created_at),
    }


def api_key(message: auth_pb2.ApiKey) -> dict[str, Any]:
    return {
        "id": message.id,
        "prefix": message.prefix,
        "name": message.name,
        "teamId": message.team_id,
        "projectId": message.project_id or None,
        "userId": message.user_id,
        "createdAt": iso_utc(message.created_at),
        "expiresAt": iso_or_none(message, "expires_at"),
        "revokedAt": iso_or_none(message, "revoked_at"),
        "lastUsedAt": iso_or_none(message, "last_used_at"),
    }


def me(message: auth_pb2.GetMeResponse) -> dict[str, Any]:
    return {
        "user": {"id": message.user.id, "email": message.user.email}
        if message.HasField("user")
        else None,
        "team": {"id": message.team.id, "slug": message.team.slug, "name": message.team.name},
        "role": ROLE_NAMES.get(message.role),
        "projectId": message.project_id or None,
        "keyId": message.key_id or None,
        "authMethod": METHOD_NAMES.get(message.auth_method),
        "operator": message.operator,
    }


def operator(message: auth_pb2.Operator) -> dict[str, Any]:
    return {"userId": message.user_id, "email": message.email, "bootstrap": message.bootstrap}


def page(items: list[dict[str, Any]], next_page_token: str) -> dict[str, Any]:
    return {"data": items, "nextCursor": next_page_token or None}


def byok_credential(message: auth_pb2.ByokCredential) -> dict[str, Any]:
    last = message.last_test
    return {
        "provider": message.provider,
        "enabled": message.enabled,
        "hint": message.hint or None,
        "createdAt": iso_utc(message.created_at),
        "updatedAt": iso_utc(message.updated_at),
        "lastTest": {
            "ok": last.ok,
            "statusCode": last.status_code,
            "message": last.message,
            "at": iso_utc(last.at),
        }
        if message.HasField("last_test")
        else None,
    }
