"""tollgate-activity."""
