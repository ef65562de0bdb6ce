"""The administration API's part of ``/openapi.json``: the caller, teams, members, projects,
API keys, BYOK credentials, OIDC and operators (docs/admin-api.md)."""

from __future__ import annotations

from tollgate_edge.openapi_schema import (
    PAGE,
    ROLE,
    STRING,
    TEAM,
    TIME,
    Schema,
    also_created,
    list_of,
    nullable,
    obj,
    op,
    optional_body,
    path_param,
    query,
    ref,
)


def admin_paths() -> dict[str, Schema]:
    team_body = obj({"slug": STRING, "name": STRING}, ["slug", "name"])
    admin = ("admin",)
    operator = obj(
        {
            "userId": {"type": "string", "pattern": "^user_"},
            "email": STRING,
            "bootstrap": {
                "type": "boolean",
                "description": "the bootstrap user (admin@localhost), always an operator",
            },
        },
        ["userId", "email", "bootstrap"],
    )
    operator_path = [path_param("userId")]
    return {
        "/v1/operators": {
            "get": op(
                "The installation's operators (operators only)",
                (
                    "200",
                    obj(
                        {
                            "data": {"type": "array", "items": operator},
                            "nextCursor": nullable(STRING),
                        }
                    ),
                ),
                errors=("401", "403"),
                tags=admin,
            )
        },
        "/v1/operators/{userId}": {
            "put": also_created(
                op(
                    "Make a user an operator (operators only; 201 when new, 200 when already)",
                    ("200", operator),
                    params=operator_path,
                    errors=("400", "401", "403", "404"),
                    tags=admin,
                )
            ),
            "delete": op(
                "Take the operator privilege back (operators only); 409 bootstrap_operator for "
                "the bootstrap user, last_operator for the last one",
                ("204", None),
                params=operator_path,
                errors=("400", "401", "403", "404", "409"),
                tags=admin,
            ),
        },
        "/v1/me": {"get": op("Who is calling", ("200", ref("Me")), tags=admin)},
        "/v1/teams": {
            "get": op(
                "Teams the caller's user belongs to",
                ("200", list_of("Team")),
                params=PAGE,
                tags=admin,
            ),
            "post": op(
                "Create a team (the caller becomes its owner)",
                ("201", ref("Team")),
                body=team_body,
                errors=("400", "401", "403", "409", "413"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}": {
            "parameters": [TEAM],
            "get": op("A team", ("200", ref("Team")), tags=admin),
            "patch": op(
                "Rename a team or change its slug (owner)",
                ("200", ref("Team")),
                body=obj({"slug": STRING, "name": STRING}),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
            "delete": op(
                "Delete a team with its keys (owner); 409 bootstrap_team for the bootstrap team",
                ("204", None),
                errors=("400", "401", "403", "404", "409"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/members": {
            "parameters": [TEAM],
            "get": op("Members of a team", ("200", list_of("Member")), params=PAGE, tags=admin),
            "post": op(
                "Add a member (owner); an unknown email creates the user",
                ("201", ref("Member")),
                body=obj({"email": STRING, "role": ROLE}, ["email", "role"]),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/members/{userId}": {
            "parameters": [TEAM, path_param("userId")],
            "patch": op(
                "Change a member's role (owner)",
                ("200", ref("Member")),
                body=obj({"role": ROLE}, ["role"]),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
            "delete": op(
                "Remove a member (owner); your own user id leaves the team",
                ("204", None),
                errors=("400", "401", "403", "404", "409"),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/projects": {
            "parameters": [TEAM],
            "get": op("Projects of a team", ("200", list_of("Project")), params=PAGE, tags=admin),
            "post": op(
                "Create a project (owner)",
                ("201", ref("Project")),
                body=obj({"name": STRING}, ["name"]),
                tags=admin,
            ),
        },
        "/v1/teams/{teamId}/projects/{projectId}": {
            "parameters": [TEAM, path_param("projectId")],
            "delete": op("Delete a project and revoke its keys (owner)", ("204", None), tags=admin),
        },
        "/v1/api-keys": {
            "get": op(
                "API keys: an owner sees the team's, others their own",
                ("200", list_of("ApiKey")),
                params=[
                    *PAGE,
                    query("includeRevoked", {"type": "boolean", "default": False}),
                    query("teamId", STRING, "another team of the caller's user"),
                ],
                tags=admin,
            ),
            "post": op(
                "Create an API key; the key is in this answer only",
                ("201", ref("CreatedApiKey")),
                body=obj(
                    {
                        "name": STRING,
                        "teamId": nullable(STRING),
                        "projectId": nullable(STRING),
                        "userId": nullable(
                            {**STRING, "description": "another member (owner only)"}
                        ),
                        "expiresAt": nullable(TIME),
                    },
                    ["name"],
                ),
                tags=admin,
            ),
        },
        "/v1/api-keys/{keyId}": {
            "parameters": [path_param("keyId")],
            "delete": op(
                "Revoke an API key (refused everywhere within 1 s)", ("204", None), tags=admin
            ),
        },
        "/v1/byok": {
            "get": op(
                "The team's BYOK credentials (never the secret)",
                ("200", list_of("ByokCredential")),
                params=[query("teamId", STRING, "another team of the caller's user")],
                tags=admin,
            )
        },
        "/v1/byok/{provider}": {
            "parameters": [
                {**path_param("provider"), "description": "a provider slug, e.g. `openai`"},
                query("teamId", STRING, "another team of the caller's user"),
            ],
            "put": also_created(
                op(
                    "Add (201) or replace (200) the credential for a provider (owner)",
                    ("200", ref("ByokCredential")),
                    body=obj(
                        {
                            "credentials": {
                                "type": "object",
                                "properties": {"apiKey": STRING},
                                "required": ["apiKey"],
                                "additionalProperties": STRING,
                            },
                            "enabled": {"type": "boolean"},
                        },
                        ["credentials"],
                    ),
                    errors=("400", "401", "403", "404", "413"),
                    tags=admin,
                ),
            ),
            "patch": op(
                "Enable or disable the credential (owner)",
                ("200", ref("ByokCredential")),
                body=obj({"enabled": {"type": "boolean"}}, ["enabled"]),
                tags=admin,
            ),
            "delete": op("Remove the credential (owner)", ("204", None), tags=admin),
        },
        "/v1/byok/{provider}/test": {
            "parameters": [
                {**path_param("provider"), "description": "a provider slug, e.g. `openai`"},
                query("teamId", STRING, "another team of the caller's user"),
            ],
            "post": optional_body(
                op(
                    "Test a credential with a minimal real request to the provider through the "
                    "router (owner): the credentials given, else the stored one (its `lastTest` is "
                    "recorded). A provider's refusal is `ok: false` with its status, not an error",
                    (
                        "200",
                        obj(
                            {
                                "ok": {"type": "boolean"},
                                "statusCode": {
                                    "type": "integer",
                                    "description": "the provider's HTTP status (0: no answer)",
                                },
                                "message": STRING,
                                "request": {
                                    "type": "object",
                                    "description": "what was sent (never the credential)",
                                },
                                "response": {"type": "object", "description": "what came back"},
                            },
                            ["ok", "statusCode", "message", "request", "response"],
                        ),
                    ),
                    body=obj(
                        {
                            "credentials": {
                                "type": "object",
                                "description": "to try before saving; absent: the stored one",
                                "properties": {"apiKey": STRING},
                                "required": ["apiKey"],
                                "additionalProperties": STRING,
                            }
                        }
                    ),
                    errors=("400", "401", "403", "404", "413"),
                    tags=admin,
                )
            ),
        },
        "/v1/oidc/token": {
            "post": op(
                "A 12-hour OIDC token for a project (owners and members)",
                (
                    "200",
                    obj({"token": STRING, "expiresAt": TIME}, ["token", "expiresAt"]),
                ),
                body=obj({"projectId": STRING, "teamId": nullable(STRING)}, ["projectId"]),
                tags=admin,
            )
        },
        "/v1/oidc/issuers": {
            "parameters": [query("teamId", STRING, "another team of the caller's user")],
            "get": op("Trusted external issuers", ("200", list_of("OidcIssuer")), tags=admin),
            "post": op(
                "Trust an external issuer (owner)",
                ("201", ref("OidcIssuer")),
                body=obj(
                    {
                        "issuer": STRING,
                        "jwksUri": nullable(STRING),
                        "jwks": nullable({"type": "object"}),
                        "audience": STRING,
                        "claimMappings": {"type": "object"},
                    },
                    ["issuer", "audience", "claimMappings"],
                ),
                errors=("400", "401", "403", "404", "409", "413"),
                tags=admin,
            ),
        },
        "/v1/oidc/issuers/{issuerId}": {
            "parameters": [
                path_param("issuerId"),
                query("teamId", STRING, "another team of the caller's user"),
            ],
            "delete": op("Stop trusting an issuer (owner)", ("204", None), tags=admin),
        },
        "/.well-known/openid-configuration": {
            "get": op(
                "OpenID discovery of Tollgate's OIDC tokens",
                ("200", {"type": "object"}),
                errors=(),
                public=True,
                tags=("oidc",),
            )
        },
        "/.well-known/jwks.json": {
            "get": op(
                "The public keys that verify Tollgate's OIDC tokens",
                ("200", {"type": "object"}),
                errors=(),
                public=True,
                tags=("oidc",),
            )
        },
    }
