"""The administration API (docs/admin-api.md): me, teams, members, projects, API keys, BYOK, OIDC,
operators.

Handlers check the shape of a request, then ask the auth service, which decides what the caller
may do; :func:`register` adds the routes and the auth stub to the application.
"""

from __future__ import annotations

from aiohttp import web

from tollgate_edge.admin import (
    api_keys,
    byok,
    issuers,
    members,
    oidc,
    operators,
    projects,
    teams,
)
from tollgate_edge.admin.calls import auth_stub_context


def register(app: web.Application) -> None:
    app.cleanup_ctx.append(auth_stub_context)
    router = app.router
    router.add_get("/v1/me", teams.get_me, allow_head=False)
    router.add_get("/v1/teams", teams.list_teams, allow_head=False)
    router.add_post("/v1/teams", teams.create_team)
    router.add_get("/v1/teams/{teamId}", teams.get_team, allow_head=False)
    router.add_patch("/v1/teams/{teamId}", teams.update_team)
    router.add_delete("/v1/teams/{teamId}", teams.delete_team)
    router.add_get("/v1/teams/{teamId}/members", members.list_members, allow_head=False)
    router.add_post("/v1/teams/{teamId}/members", members.add_member)
    router.add_patch("/v1/teams/{teamId}/members/{userId}", members.update_member)
    router.add_delete("/v1/teams/{teamId}/members/{userId}", members.remove_member)
    router.add_get("/v1/teams/{teamId}/projects", projects.list_projects, allow_head=False)
    router.add_post("/v1/teams/{teamId}/projects", projects.create_project)
    router.add_delete("/v1/teams/{teamId}/projects/{projectId}", projects.delete_project)
    router.add_get("/v1/api-keys", api_keys.list_api_keys, allow_head=False)
    router.add_post("/v1/api-keys", api_keys.create_api_key)
    router.add_delete("/v1/api-keys/{keyId}", api_keys.revoke_api_key)
    router.add_get("/v1/byok", byok.list_byok, allow_head=False)
    router.add_put("/v1/byok/{provider}", byok.put_byok)
    router.add_patch("/v1/byok/{provider}", byok.patch_byok)
    router.add_delete("/v1/byok/{provider}", byok.delete_byok)
    router.add_post("/v1/byok/{provider}/test", byok.test_byok)
    router.add_post("/v1/oidc/token", oidc.issue_token)
    router.add_get("/v1/oidc/issuers", issuers.list_issuers, allow_head=False)
    router.add_post("/v1/oidc/issuers", issuers.add_issuer)
    router.add_delete("/v1/oidc/issuers/{issuerId}", issuers.delete_issuer)
    router.add_get("/v1/operators", operators.list_operators, allow_head=False)
    router.add_put("/v1/operators/{userId}", operators.put_operator)
    router.add_delete("/v1/operators/{userId}", operators.delete_operator)
    router.add_get("/.well-known/openid-configuration", oidc.openid_configuration, allow_head=False)
    router.add_get("/.well-known/jwks.json", oidc.jwks, allow_head=False)
