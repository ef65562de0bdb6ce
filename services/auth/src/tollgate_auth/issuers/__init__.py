"""External OIDC issuers a team trusts: registering them and verifying their tokens."""
