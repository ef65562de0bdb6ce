"""tollgate-billing."""
