"""Tollgate's own OIDC tokens: issued for a project, signed by keys shared through the database."""
