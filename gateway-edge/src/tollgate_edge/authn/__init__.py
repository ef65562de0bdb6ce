"""Authentication of the hot model routes inside the edge (docs/architecture.md, "Trust").

Envoy does not call ext_authz on the routes a key calls per generation (:data:`HOT_PATHS`):
the edge answers from its own cache of credential → identity, asks the auth service's
``Check`` on a miss, and follows auth's revocation facts so a revoked key, a changed role or a
removed member is refused on the next request after the fact arrives.
"""

from tollgate_edge.authn.gate import AUTHN, HOT_PATHS, Authenticator, authenticate_hot_routes

__all__ = ["AUTHN", "HOT_PATHS", "Authenticator", "authenticate_hot_routes"]
