"""BYOK credentials: a team's own provider keys, sealed at rest by the vault, opened only for
the router."""
