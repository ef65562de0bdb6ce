"""What a caller may name things: team and project names, slugs, emails, roles, key names."""

from __future__ import annotations

import re
from typing import Final

from tollgate_common.errors import InvalidArgument

from tollgate_auth.domain import Role

SLUG: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
MAX_NAME: Final = 200


def valid_name(value: str, param: str = "name") -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidArgument(
            f"`{param}` must be 1 to {MAX_NAME} printable characters", metadata={"param": param}
        )
    return name


def valid_slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise InvalidArgument(
            "`slug` must be 1 to 64 lower-case letters, digits and inner hyphens",
            metadata={"param": "slug"},
        )
    return value


def valid_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 320 or not EMAIL.fullmatch(email):
        raise InvalidArgument("`email` is not an email address", metadata={"param": "email"})
    return email


def valid_role(value: Role | None) -> Role:
    if value is None:
        raise InvalidArgument(
            "`role` must be one of owner, member, viewer", metadata={"param": "role"}
        )
    return value
