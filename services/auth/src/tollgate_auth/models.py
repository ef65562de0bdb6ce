"""The auth service's tables (its own MetaData; migrations 0001 to 0006 create them)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
    true,
)
from tollgate_common.db_types import UtcDateTime
from tollgate_common.outbox import outbox_table

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


teams = Table(
    "teams",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The bootstrap key's team (slug `default` when created): it can never be deleted.
    Column("bootstrap", Boolean(), nullable=False, server_default=false()),
    # Whether billing grants this team the free tier (decided when it is created).
    Column("free_tier", Boolean(), nullable=False, server_default=true()),
)

users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # The team a user acts in when nothing names one (set when the user joins a first team).
    Column("default_team_id", String(40), nullable=True),
    # An operator of the installation: a privilege above every team's roles.
    Column("operator", Boolean(), nullable=False, server_default=false()),
    # How many teams with the free tier this user has created (docs/billing.md, "Free tier").
    Column("free_tiers", Integer(), nullable=False, server_default=text("0")),
)

memberships = Table(
    "memberships",
    metadata,
    Column("team_id", String(40), ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("role IN ('owner', 'member', 'viewer')", name="role"),
    Index("ix_memberships_user_id", "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("team_id", String(40), ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", String(40), nullable=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("last_used_at", UtcDateTime(), nullable=True),
    Index("ix_api_keys_team_id", "team_id"),
    Index("ix_api_keys_user_id", "user_id"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("team_id", String(40), ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_projects_team_id", "team_id"),
)

# BYOK credentials: the secret only sealed (tollgate_auth.byok.vault), bound to team and provider.
byok_credentials = Table(
    "byok_credentials",
    metadata,
    Column("team_id", String(40), ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("enabled", Boolean(), nullable=False),
    Column("hint", String(8), nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("nonce", LargeBinary(), nullable=False),
    Column("ciphertext", LargeBinary(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("last_test_ok", Boolean(), nullable=True),
    Column("last_test_status", Integer(), nullable=True),
    Column("last_test_message", String(500), nullable=True),
    Column("last_test_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("team_id", "provider"),
)

# Signing keys of Tollgate's OIDC tokens: the private key sealed under the BYOK KEK.
oidc_signing_keys = Table(
    "oidc_signing_keys",
    metadata,
    Column("kid", String(40), primary_key=True),
    Column("algorithm", String(10), nullable=False),
    Column("public_jwk", String(2000), nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("nonce", LargeBinary(), nullable=False),
    Column("ciphertext", LargeBinary(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Once retired a key signs nothing more; it verifies until its last token has expired.
    Column("retired_at", UtcDateTime(), nullable=True),
)

# External issuers whose tokens a team trusts (e.g. a Kubernetes cluster, a CI system).
oidc_issuers = Table(
    "oidc_issuers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("team_id", String(40), ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("issuer", String(500), nullable=False),
    Column("jwks_uri", String(1000), nullable=True),
    Column("jwks_json", String(20000), nullable=True),
    Column("audience", String(500), nullable=False),
    # Which claim carries the team ("teamId" or "teamSlug" names what its value must equal).
    Column("team_claim_kind", String(10), nullable=False),
    Column("team_claim", String(100), nullable=False),
    Column("project_claim", String(100), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("team_id", "issuer", name="uq_oidc_issuers_team_id_issuer"),
    Index("ix_oidc_issuers_issuer", "issuer"),
)

# Facts (activity, key revocations) waiting for NATS (tollgate_common.outbox).
outbox = outbox_table(metadata)
