"""tollgate-cli."""
