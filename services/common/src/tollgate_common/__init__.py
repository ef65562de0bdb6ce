"""tollgate-common."""
