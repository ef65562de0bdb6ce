"""Every environment variable a manifest sets is one the service reads, and every variable a
service needs in a cluster is set. What a service reads comes from its settings class
(``<svc>/settings.py`` on top of ``tollgate_common.settings``), for the router from the
provider-credential convention ``TOLLGATE_PROVIDER_<SLUG>_API_KEY|BASE_URL``
(``tollgate_router.credentials.system``), and for every service the standard ``OTEL_*`` variables the
OpenTelemetry SDK and its OTLP exporters read (``tollgate_common.telemetry``)."""

from __future__ import annotations

import base64
import os
import re
from urllib.parse import urlsplit

import opentelemetry.environment_variables
import opentelemetry.sdk.environment_variables
import pytest
from tollgate_router.credentials.system import env_slug, load_system_credentials
from tollgate_router.providers.directory import KNOWN_PROVIDERS

from tests.support.manifests import IMAGES, K8S, Object, named, tollgate_containers
from tests.support.service_env import SETTINGS, container_env, env_names

# Read but defaulted to something that is wrong in a cluster: a loopback address, a SQLite file
# or a generated secret inside the pod (another replica would generate a different one).
NEEDED_IN_A_CLUSTER: dict[str, set[str]] = {
    "tollgate-auth": {
        "TOLLGATE_AUTH_LISTEN_ADDR",
        "TOLLGATE_AUTH_DATABASE_URL",
        "TOLLGATE_AUTH_MIGRATE_ON_START",
        "TOLLGATE_AUTH_KEY_PEPPER",
        "TOLLGATE_AUTH_BYOK_KEK",
        "TOLLGATE_BOOTSTRAP_API_KEY",
        "TOLLGATE_NATS_URL",
    },
    "tollgate-edge": {
        "TOLLGATE_EDGE_LISTEN_ADDR",
        "TOLLGATE_AUTH_ADDR",
        "TOLLGATE_ROUTER_ADDR",
        "TOLLGATE_BILLING_ADDR",
        "TOLLGATE_ACTIVITY_ADDR",
    },
    **{
        f"tollgate-{svc}": {
            f"TOLLGATE_{svc.upper()}_LISTEN_ADDR",
            f"TOLLGATE_{svc.upper()}_DATABASE_URL",
            f"TOLLGATE_{svc.upper()}_MIGRATE_ON_START",
            "TOLLGATE_NATS_URL",
        }
        for svc in ("router", "billing", "activity")
    },
}

# The OpenTelemetry variables: those the SDK and the OTLP exporters define (their own lists).
OTEL_VARS = {
    value
    for module in (opentelemetry.environment_variables, opentelemetry.sdk.environment_variables)
    for name, value in vars(module).items()
    if name.startswith("OTEL_") and isinstance(value, str)
}
PROVIDER_VAR = re.compile(r"^TOLLGATE_PROVIDER_(?P<slug>[A-Z0-9_]+)_(?:API_KEY|BASE_URL)$")


def provider_vars() -> set[str]:
    slugs = {env_slug(provider) for provider in KNOWN_PROVIDERS}
    return {
        f"TOLLGATE_PROVIDER_{slug}_{part}" for slug in slugs for part in ("API_KEY", "BASE_URL")
    }


def test_every_variable_set_is_read_by_the_service(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    unread = []
    for workload, container, image in tollgate_containers(rendered[overlay]):
        known = set(env_names(SETTINGS[image.name])) | OTEL_VARS
        if image.name == "tollgate-router":
            known |= provider_vars()
        for entry in container.get("env", []):
            if entry["name"] not in known:
                unread.append(
                    f"{workload['metadata']['name']}/{container['name']}: {entry['name']}"
                )
    assert unread == []


def test_every_variable_a_service_needs_in_a_cluster_is_set(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload, container, image in tollgate_containers(rendered[overlay]):
        fields = SETTINGS[image.name].settings_fields()
        required = {field.env for field in fields.values() if field.required}
        missing = (NEEDED_IN_A_CLUSTER[image.name] | required) - set(container_env(container))
        assert missing == set(), f"{workload['metadata']['name']}/{container['name']}"


def test_the_settings_classes_accept_the_values_and_read_them(
    rendered: dict[str, list[Object]], overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Build each settings class from the container's environment: the values validate, and
    every variable lands in the field this test thinks it does."""
    for _, container, image in tollgate_containers(rendered[overlay]):
        settings_class = SETTINGS[image.name]
        names = env_names(settings_class)
        with monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.upper().startswith("TOLLGATE_") or key.upper() in names:
                    patch.delenv(key)
            env = container_env(container)
            for key, value in env.items():
                patch.setenv(key, value)
            settings = settings_class()
            for key, value in env.items():
                if key not in names:
                    continue
                field = names[key]
                expected = settings_class(**{field: value})
                assert getattr(settings, field) == getattr(expected, field), key
                default = settings_class.settings_fields()[field].default
                if value != str(default):
                    assert getattr(settings, field) != default, f"{key} is not read"


def test_the_router_finds_a_credential_for_each_provider_key_it_is_given(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for _, container, image in tollgate_containers(rendered[overlay]):
        if image.name != "tollgate-router" or container["args"] != ["serve"]:
            continue
        env = container_env(container)
        configured = {
            match["slug"]
            for key in env
            if (match := PROVIDER_VAR.match(key)) and key.endswith("_API_KEY")
        }
        assert configured, "the router is given no provider key at all"
        credentials = load_system_credentials(sorted(KNOWN_PROVIDERS), env)
        assert {env_slug(p) for p in credentials.by_provider} == configured


def test_addresses_point_at_services_and_ports_that_exist(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    services = named(rendered[overlay], "Service")

    def serves(host: str, port: int) -> bool:
        service = services.get(host)
        return service is not None and port in [p["port"] for p in service["spec"]["ports"]]

    for workload, container, image in tollgate_containers(rendered[overlay]):
        where = f"{workload['metadata']['name']}/{container['name']}"
        for key, value in container_env(container).items():
            if key.endswith("_LISTEN_ADDR"):
                assert value == f"0.0.0.0:{image.port}", where
            elif key.endswith("_METRICS_ADDR"):
                continue  # the pod's own port: test_deploy_telemetry
            elif key.endswith("_ADDR"):
                # host:port, or a gRPC target dns:///host:port (test_deploy_peers)
                host, _, port = value.removeprefix("dns:///").rpartition(":")
                assert serves(host, int(port)), f"{where}: {key}={value}"
            elif key == "TOLLGATE_NATS_URL":
                url = urlsplit(value)
                assert url.scheme == "nats"
                assert serves(str(url.hostname), int(url.port or 4222)), f"{where}: {value}"


def test_dev_database_urls_reach_the_dev_postgres(rendered: dict[str, list[Object]]) -> None:
    objects = rendered["dev"]
    secrets = named(objects, "Secret")
    password_secret = next(s for n, s in secrets.items() if n.startswith("postgres-dev"))
    password = base64.b64decode(password_secret["data"]["password"]).decode()
    databases = set(
        re.findall(r"CREATE DATABASE (\w+);", (K8S / "base/postgres/init.sql").read_text())
    )
    postgres = named(objects, "StatefulSet")["postgres"]
    user = next(
        e["value"]
        for e in postgres["spec"]["template"]["spec"]["containers"][0]["env"]
        if e["name"] == "POSTGRES_USER"
    )
    seen = set()
    for _, container, _image in tollgate_containers(objects):
        for entry in container.get("env", []):
            if not entry["name"].endswith("DATABASE_URL"):
                continue
            ref = entry["valueFrom"]["secretKeyRef"]
            url = urlsplit(base64.b64decode(secrets[ref["name"]]["data"][ref["key"]]).decode())
            assert url.scheme == "postgresql+asyncpg"
            assert (url.hostname, url.port) == ("postgres", 5432)
            assert (url.username, url.password) == (user, password)
            seen.add(url.path.lstrip("/"))
    assert seen == databases == {"auth", "router", "billing", "activity"}


def test_the_manifests_ports_are_the_services_own_defaults() -> None:
    """The port each manifest listens on and probes is the one the service uses by default
    (docs/internal-contracts.md), so local runs and the cluster agree."""
    for image in IMAGES.values():
        default = str(SETTINGS[image.name].settings_fields()["listen_addr"].default)
        assert default.rpartition(":")[2] == str(image.port), image.name
