"""tollgate-router."""
