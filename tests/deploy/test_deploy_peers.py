"""A channel to a replicated peer reaches every pod: the address is a gRPC ``dns:///`` target
naming the peer's headless Service (one A record per ready pod), and the channel balances its
calls over them (round_robin, tollgate_common.grpc_client). Through a ClusterIP, one long-lived
HTTP/2 connection would pin every call of a caller to one pod (docs/scaling.md)."""

from __future__ import annotations

import json

from tollgate_common.grpc_client import CHANNEL_OPTIONS

from tests.support.manifests import IMAGES, Object, containers, image_name, named, workloads
from tests.support.service_env import container_env

PEERS = {
    f"TOLLGATE_{image.removeprefix('tollgate-').upper()}_ADDR": image.removeprefix("tollgate-")
    for image in IMAGES
}


def _replicated(objects: list[Object]) -> set[str]:
    """Deployments that run (or may scale to) more than one pod."""
    scaled = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in named(objects, "HorizontalPodAutoscaler").values()
    }
    return {
        w["metadata"]["name"]
        for w in workloads(objects)
        if w["kind"] == "Deployment"
        and (w["spec"].get("replicas", 1) > 1 or w["metadata"]["name"] in scaled)
    }


def test_channels_balance_over_their_targets_addresses() -> None:
    config = json.loads(dict(CHANNEL_OPTIONS)["grpc.service_config"])
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]


def test_replicated_peers_are_reached_through_their_headless_services(
    rendered: dict[str, list[Object]],
) -> None:
    objects = rendered["prod"]
    replicated = _replicated(objects)
    assert {"auth", "router", "activity"} <= replicated
    services = named(objects, "Service")
    deployments = named(objects, "Deployment")
    checked = []
    for workload in workloads(objects):
        for container in containers(workload, init=False):
            if image_name(container["image"]) not in IMAGES:
                continue
            for key, value in container_env(container).items():
                peer = PEERS.get(key)
                if peer is None or peer not in replicated:
                    continue
                where = f"{workload['metadata']['name']}: {key}={value}"
                assert value.startswith("dns:///"), where
                host, _, port = value.removeprefix("dns:///").rpartition(":")
                service = services[host]
                assert service["spec"]["clusterIP"] == "None", where
                assert int(port) in [p["port"] for p in service["spec"]["ports"]], where
                labels = deployments[peer]["spec"]["template"]["metadata"]["labels"]
                assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
                checked.append((workload["metadata"]["name"], peer))
    assert {("edge", "auth"), ("edge", "router"), ("edge", "activity")} <= set(checked)
