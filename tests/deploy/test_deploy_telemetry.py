"""Metrics and traces in the cluster. Every Tollgate pod serves Prometheus ``/metrics`` on the
port its scrape annotations name and the collector scrapes; with the otel-collector component
(both overlays use it) every service exports its spans to that collector through the standard
``OTEL_*`` variables, and Envoy runs the config whose tracer sends to the same collector, so a
request is one trace across Envoy and the services (docs/telemetry.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import yaml
from tollgate_cli.envoy_config import otlp_target
from tollgate_common.telemetry import tracing_requested

from tests.support.manifests import (
    IMAGES,
    Image,
    Object,
    containers,
    image_name,
    named,
    selector_matches,
    workloads,
)
from tests.support.service_env import SETTINGS, container_env, env_names


def _servers(objects: list[Object]) -> Iterator[tuple[Object, Object, Image]]:
    """(workload, server container, image) of every Tollgate Deployment."""
    for workload in workloads(objects):
        server = containers(workload, init=False)[0]
        image = IMAGES.get(image_name(server["image"]))
        if image is not None:
            yield workload, server, image


def _config_map(objects: list[Object], prefix: str, key: str) -> Any:
    for obj in objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith(prefix):
            return yaml.safe_load(obj["data"][key])
    raise AssertionError(f"no ConfigMap {prefix}*")


def _metrics_port(container: Object) -> int:
    [port] = [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"]
    return int(port)


def test_every_tollgate_pod_serves_metrics_where_its_annotations_say(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    served = set()
    for workload, server, image in _servers(rendered[overlay]):
        port = _metrics_port(server)
        variable = f"TOLLGATE_{image.name.removeprefix('tollgate-').upper()}_METRICS_ADDR"
        assert env_names(SETTINGS[image.name])[variable] == "metrics_addr"  # what the code reads
        assert container_env(server)[variable] == f"0.0.0.0:{port}"
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"
        served.add(image.name)
    assert served == set(IMAGES)


def test_the_collector_scrapes_every_tollgate_pod(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    config = _config_map(objects, "otel-collector-config", "collector.yaml")
    jobs = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    [job] = [job for job in jobs if job["job_name"] == "tollgate"]
    assert job["metrics_path"] == "/metrics"
    [discovery] = job["dns_sd_configs"]
    headless = {
        name: service
        for name, service in named(objects, "Service").items()
        if name in discovery["names"] and service["spec"].get("clusterIP") == "None"
    }
    assert set(headless) == set(discovery["names"])  # each name lists pods, not a virtual IP
    policies = named(objects, "NetworkPolicy")
    admitted = policies["tollgate-metrics"]["spec"]
    for workload, server, image in _servers(objects):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(selector_matches(s["spec"]["selector"], labels) for s in headless.values()), (
            image.name
        )
        assert _metrics_port(server) == discovery["port"]
        assert selector_matches(admitted["podSelector"]["matchLabels"], labels)
    [rule] = admitted["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": discovery["port"]}]
    assert rule["from"][0]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "otel-collector"
    }


def _collector_grpc_port(objects: list[Object]) -> tuple[str, int]:
    service = named(objects, "Service")["otel-collector"]
    [port] = [p["port"] for p in service["spec"]["ports"] if p.get("appProtocol") == "grpc"]
    return "otel-collector", int(port)


def test_every_service_exports_its_spans_to_the_collector(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    collector = _collector_grpc_port(objects)
    for _, server, image in _servers(objects):
        env = container_env(server)
        assert tracing_requested(env), image.name  # tollgate_common.telemetry turns it on
        endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == collector, image.name
        assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"


def test_envoy_traces_to_the_collector_the_services_export_to(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    config = _config_map(objects, "envoy-config", "envoy.yaml")
    public = next(x for x in config["static_resources"]["listeners"] if x["name"] == "public")
    manager = public["filter_chains"][0]["filters"][0]["typed_config"]
    provider = manager["tracing"]["provider"]
    assert provider["name"] == "envoy.tracers.opentelemetry"
    cluster_name = provider["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
    cluster = next(c for c in config["static_resources"]["clusters"] if c["name"] == cluster_name)
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    socket = endpoint["address"]["socket_address"]
    assert (socket["address"], socket["port_value"]) == _collector_grpc_port(objects)
    # The same variables the services get give `tollgate up`'s Envoy the same collector.
    _, server, _ = next(_servers(objects))
    target = otlp_target(container_env(server))
    assert target is not None and target.grpc
    assert (target.host, target.port) == (socket["address"], socket["port_value"])
