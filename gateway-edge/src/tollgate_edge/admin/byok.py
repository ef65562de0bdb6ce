"""``/v1/byok[/{provider}[/test]]``: a team's BYOK credentials. The secret goes in, never out:
answers carry a hint (its last 4 characters) only. A test is authorized by auth, made by the
router (a minimal real request with the provider's adapter), then recorded by auth."""

from __future__ import annotations

from typing import Any, Final

import orjson
from aiohttp import web
from tollgate.auth.v1 import auth_pb2
from tollgate.router.v1 import router_pb2

from tollgate_edge.admin import shapes
from tollgate_edge.admin.body import Field, Kind, read_object
from tollgate_edge.admin.calls import auth, caller, rpc_options
from tollgate_edge.errors import invalid_request
from tollgate_edge.peers import PEERS, call_metadata, request_id
from tollgate_edge.responses import json_response

PUT_CREDENTIAL: Final = {
    "credentials": Field(Kind.OBJECT, required=True),
    "enabled": Field(Kind.BOOLEAN),
}
PATCH_CREDENTIAL: Final = {"enabled": Field(Kind.BOOLEAN, required=True)}
# The router waits up to 20 s for the provider.
TEST_DEADLINE_SECONDS: Final = 28.0
TEST_CREDENTIAL: Final = {"credentials": Field(Kind.OBJECT)}


def _strings(credentials: dict[str, Any]) -> dict[str, str]:
    for name, value in credentials.items():
        if not isinstance(value, str):
            raise invalid_request(f"`credentials.{name}` must be a string", f"credentials.{name}")
    return credentials


async def list_byok(request: web.Request) -> web.Response:
    reply = await auth(request).ListByokCredentials(
        auth_pb2.ListByokCredentialsRequest(
            caller=caller(request), team_id=request.query.get("teamId", "")
        ),
        **rpc_options(request),
    )
    return json_response(shapes.page([shapes.byok_credential(c) for c in reply.credentials], ""))


async def put_byok(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, PUT_CREDENTIAL)
    reply = await auth(request).PutByokCredential(
        auth_pb2.PutByokCredentialRequest(
            caller=who,
            team_id=request.query.get("teamId", ""),
            provider=request.match_info["provider"],
            credentials=_strings(body["credentials"]),
            enabled=body.get("enabled"),
        ),
        **rpc_options(request),
    )
    return json_response(shapes.byok_credential(reply.credential), 201 if reply.created else 200)


async def patch_byok(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, PATCH_CREDENTIAL)
    reply = await auth(request).UpdateByokCredential(
        auth_pb2.UpdateByokCredentialRequest(
            caller=who,
            team_id=request.query.get("teamId", ""),
            provider=request.match_info["provider"],
            enabled=body["enabled"],
        ),
        **rpc_options(request),
    )
    return json_response(shapes.byok_credential(reply.credential))


async def delete_byok(request: web.Request) -> web.Response:
    await auth(request).DeleteByokCredential(
        auth_pb2.DeleteByokCredentialRequest(
            caller=caller(request),
            team_id=request.query.get("teamId", ""),
            provider=request.match_info["provider"],
        ),
        **rpc_options(request),
    )
    return web.Response(status=204)


def _json_object(text: str) -> Any:
    return orjson.loads(text) if text else {}


async def test_byok(request: web.Request) -> web.Response:
    who = caller(request)
    body = await read_object(request, TEST_CREDENTIAL)
    given = _strings(body.get("credentials") or {})
    if "credentials" in body and not given.get("apiKey", "").strip():
        raise invalid_request("`credentials.apiKey` is required", "credentials.apiKey")
    provider = request.match_info["provider"]
    authorized = await auth(request).AuthorizeByokTest(
        auth_pb2.AuthorizeByokTestRequest(
            caller=who,
            team_id=request.query.get("teamId", ""),
            provider=provider,
            with_credentials=bool(given),
        ),
        **rpc_options(request),
    )
    rid = request_id(request)
    outcome = await request.app[PEERS].router.TestCredential(
        router_pb2.TestCredentialRequest(
            caller=router_pb2.CallerContext(
                team_id=authorized.team_id,
                user_id=who.user_id,
                key_id=who.key_id,
                request_id=rid,
            ),
            provider=provider,
            credentials=given,
        ),
        metadata=call_metadata(request, rid),
        timeout=TEST_DEADLINE_SECONDS,
    )
    tested = auth_pb2.ByokTest(
        ok=outcome.ok, status_code=outcome.status_code, message=outcome.message
    )
    tested.at.GetCurrentTime()
    await auth(request).RecordByokTest(
        auth_pb2.RecordByokTestRequest(
            caller=who,
            team_id=authorized.team_id,
            provider=provider,
            stored=not given,
            result=tested,
        ),
        **rpc_options(request),
    )
    return json_response(
        {
            "ok": outcome.ok,
            "statusCode": outcome.status_code,
            "message": outcome.message,
            "request": _json_object(outcome.request_json),
            "response": _json_object(outcome.response_json),
        }
    )
