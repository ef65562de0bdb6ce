"""The request log: one row per finished request of a team (its usage fact, never a prompt or a
completion), written once per fact by the ``activity-usage`` consumer, listed newest first and
deleted after the retention period. Storing a request also adds it to its rollups."""
