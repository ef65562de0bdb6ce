"""Provider credentials: the system's (environment), the teams' BYOK ones (held from auth),
and the credential test."""
