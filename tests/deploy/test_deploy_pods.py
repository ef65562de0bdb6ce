"""Every pod is probed, sized, unprivileged and read-only; secrets come only from Secrets;
migrations run before a service starts."""

from __future__ import annotations

import re

from tests.support.manifests import (
    IMAGES,
    Object,
    containers,
    image_name,
    pod_spec,
    tollgate_containers,
    workloads,
)

# NATS's users.conf names each password by the pod's environment variable holding it.
PASSWORD_FROM_ENVIRONMENT = re.compile(r'"password": \$NATS_[A-Z]+_PASSWORD')
SECRET_NAME = re.compile(r"(KEY|PEPPER|PASSWORD|SECRET|TOKEN|DATABASE_URL|KEK)", re.IGNORECASE)


def _name(workload: Object) -> str:
    return f"{workload['kind']}/{workload['metadata']['name']}"


def test_every_container_has_requests_and_limits(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), (
                    f"{_name(workload)}/{container['name']}: no {kind}"
                )


def test_every_pod_runs_unprivileged_on_a_read_only_root(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload in workloads(rendered[overlay]):
        pod = pod_spec(workload)["securityContext"]
        assert pod["runAsNonRoot"] is True, _name(workload)
        assert pod["runAsUser"] > 0, _name(workload)
        assert pod["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod_spec(workload).get("automountServiceAccountToken") is False
        for container in containers(workload):
            security = container["securityContext"]
            where = f"{_name(workload)}/{container['name']}"
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in security["capabilities"], where


def test_every_long_running_container_is_probed(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload in workloads(rendered[overlay]):
        for container in containers(workload, init=False):
            where = f"{_name(workload)}/{container['name']}"
            assert "readinessProbe" in container, where
            assert "livenessProbe" in container, where


def test_grpc_services_are_probed_with_grpc_health_and_the_edge_over_http(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload, container, image in tollgate_containers(rendered[overlay]):
        if container["name"] == "migrate":
            continue
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        # The service's own port, and the metrics port (test_deploy_telemetry).
        assert set(ports) - {"metrics"} == {"grpc" if image.name != "tollgate-edge" else "http"}
        assert image.port in ports.values(), (workload["metadata"]["name"], ports)
        probes = {kind: container[kind] for kind in ("readinessProbe", "livenessProbe")}
        if image.name == "tollgate-edge":
            assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
        else:
            for probe in probes.values():
                # grpc.health.v1 on the service's own port (the overall "" service).
                assert probe["grpc"]["port"] == image.port
                assert probe["grpc"].get("service", "") == ""


def test_secret_values_come_only_from_secrets(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            assert all("configMapRef" not in source for source in container.get("envFrom", []))
            for env in container.get("env", []):
                if not SECRET_NAME.search(env["name"]):
                    continue
                where = f"{_name(workload)}/{container['name']}: {env['name']}"
                assert "value" not in env, where
                assert "secretKeyRef" in env.get("valueFrom", {}), where
    for obj in rendered[overlay]:
        if obj["kind"] == "ConfigMap":
            for key, text in obj.get("data", {}).items():
                text = PASSWORD_FROM_ENVIRONMENT.sub("", text)
                assert "tg_" not in text and "password" not in text.lower(), (
                    obj["metadata"]["name"],
                    key,
                )


def test_migrations_run_in_an_init_container_before_the_service(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    for workload in workloads(rendered[overlay]):
        main = [c for c in containers(workload, init=False) if image_name(c["image"]) in IMAGES]
        if not main:
            continue
        image = IMAGES[image_name(main[0]["image"])]
        init = pod_spec(workload).get("initContainers", [])
        if not image.has_database:
            assert init == [], _name(workload)
            continue
        assert [c["name"] for c in init] == ["migrate"], _name(workload)
        assert image_name(init[0]["image"]) == image.name
        assert init[0]["image"] == main[0]["image"]  # the same release migrates and serves
        assert init[0]["args"] == ["migrate"]
        assert main[0]["args"] == ["serve"]
        prefix = image.module.removeprefix("tollgate_").upper()
        env = {e["name"]: e for e in main[0]["env"]}
        assert env[f"TOLLGATE_{prefix}_MIGRATE_ON_START"]["value"] == "false"
        # The migration reaches the very database the service uses.
        init_env = {e["name"]: e for e in init[0]["env"]}
        url = f"TOLLGATE_{prefix}_DATABASE_URL"
        assert init_env[url] == env[url]


def test_provider_keys_reach_only_the_router_server(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    """The provider keys are the costliest secret: only the container that calls providers
    gets them (not the router's migration, not any other pod)."""
    holders = set()
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef", {})
                if ref.get("name", "").startswith("provider-keys"):
                    holders.add(f"{workload['metadata']['name']}/{container['name']}")
    assert holders == {"router/router"}
