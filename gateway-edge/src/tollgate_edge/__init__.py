"""tollgate-edge."""
