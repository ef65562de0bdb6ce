"""What a service reads from its environment (its settings class, ``tollgate_common.env_settings``)
and what a rendered container sets in it."""

from __future__ import annotations

from tollgate_activity.settings import ActivitySettings
from tollgate_auth.settings import AuthSettings
from tollgate_billing.settings import BillingSettings
from tollgate_common.env_settings import EnvSettings
from tollgate_edge.settings import EdgeSettings
from tollgate_router.settings import RouterSettings

from tests.support.manifests import Object

# Image → the settings class of the service it runs.
SETTINGS: dict[str, type[EnvSettings]] = {
    "tollgate-auth": AuthSettings,
    "tollgate-router": RouterSettings,
    "tollgate-billing": BillingSettings,
    "tollgate-activity": ActivitySettings,
    "tollgate-edge": EdgeSettings,
}

PLACEHOLDER_DATABASE = "postgresql+asyncpg://tollgate:secret@postgres:5432/placeholder"


def env_names(settings: type[EnvSettings]) -> dict[str, str]:
    """Environment variable (upper case) → field, as the settings class looks them up."""
    return {field.env: name for name, field in settings.settings_fields().items()}


def container_env(container: Object) -> dict[str, str]:
    """The container's environment, secret values replaced by placeholders."""
    env: dict[str, str] = {}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif entry["name"].endswith("DATABASE_URL"):
            env[entry["name"]] = PLACEHOLDER_DATABASE
        else:
            env[entry["name"]] = f"placeholder-{entry['name'].lower()}"
    return env
