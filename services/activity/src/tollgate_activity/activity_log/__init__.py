"""The activity log: who did what in a team (never secrets), written once per ActivityRecorded
fact by the ``activity-log`` consumer and listed newest first."""
