"""What a service reads from its environment (its pydantic-settings class) and what a rendered
container sets in it."""

from __future__ import annotations

from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from tollgate_activity.settings import ActivitySettings
from tollgate_auth.settings import AuthSettings
from tollgate_billing.settings import BillingSettings
from tollgate_edge.settings import EdgeSettings
from tollgate_router.settings import RouterSettings

from tests.support.manifests import Object

# Image → the settings class of the service it runs.
SETTINGS: dict[str, type[BaseSettings]] = {
    "tollgate-auth": AuthSettings,
    "tollgate-router": RouterSettings,
    "tollgate-billing": BillingSettings,
    "tollgate-activity": ActivitySettings,
    "tollgate-edge": EdgeSettings,
}

PLACEHOLDER_DATABASE = "postgresql+asyncpg://tollgate:secret@postgres:5432/placeholder"


def env_names(settings: type[BaseSettings]) -> dict[str, str]:
    """Environment variable (upper case) → field, as pydantic-settings looks them up."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [c for c in alias.choices if isinstance(c, str)]
        elif isinstance(alias, str):
            choices = [alias]
        else:
            choices = [prefix + field_name]
        for choice in choices:
            names[choice.upper()] = field_name
    return names


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
