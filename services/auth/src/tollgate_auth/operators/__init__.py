"""Operators of the installation: a privilege above every team's roles (granting credit,
managing operators), given and taken by operators; the bootstrap user always keeps it."""
