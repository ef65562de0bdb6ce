"""Both overlays render with kustomize, every object is valid Kubernetes, and the references
between objects (selectors, ports, Secrets, ConfigMaps) resolve."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.support.manifests import (
    KUBERNETES_VERSION,
    Object,
    containers,
    find,
    named,
    pod_spec,
    selector_matches,
    workloads,
)

# Secrets the prod overlay expects the operator to create (docs/deploy.md lists their keys).
PROD_SECRETS = {
    "auth-secrets": {"database-url", "key-pepper", "byok-kek", "bootstrap-api-key"},
    "router-secrets": {"database-url"},
    "billing-secrets": {"database-url"},
    "activity-secrets": {"database-url"},
    "internal-secret": {
        "secret",
        "envoy-token",
        *(f"nats-{u}" for u in ("router", "auth", "billing", "activity", "edge", "operator")),
    },
    "provider-keys": set(),  # every key optional
}


def test_every_object_validates_against_the_pinned_kubernetes_schemas(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    failures = []
    for obj in rendered[overlay]:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {error.message}")
    assert failures == []


def test_dev_runs_postgres_in_the_cluster_and_prod_does_not(
    rendered: dict[str, list[Object]],
) -> None:
    assert find(rendered["dev"], "StatefulSet", "postgres") is not None
    assert find(rendered["prod"], "StatefulSet", "postgres") is None
    # prod carries no secret values at all: the operator creates the Secrets.
    assert [o for o in rendered["prod"] if o["kind"] == "Secret"] == []


def test_prod_has_a_three_node_nats_cluster(rendered: dict[str, list[Object]]) -> None:
    nats = find(rendered["prod"], "StatefulSet", "nats")
    assert nats is not None
    assert nats["spec"]["replicas"] == 3
    config = next(
        o
        for o in rendered["prod"]
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("nats-config")
    )
    text = config["data"]["nats.conf"]
    for ordinal in range(3):
        assert f"nats://nats-{ordinal}.nats-headless:6222" in text


def test_prod_scales_edge_and_router_and_budgets_disruptions(
    rendered: dict[str, list[Object]],
) -> None:
    prod = rendered["prod"]
    hpas = named(prod, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"edge", "router"}
    for hpa in hpas.values():
        target = find(prod, "Deployment", hpa["spec"]["scaleTargetRef"]["name"])
        assert target is not None
        # The HPA owns the count: the Deployment must not reset it on every apply.
        assert "replicas" not in target["spec"]
        assert hpa["spec"]["minReplicas"] >= 2
    budgets = named(prod, "PodDisruptionBudget")
    for workload in workloads(prod):
        name = workload["metadata"]["name"]
        if name == "otel-collector":
            continue
        assert name in budgets, f"no PodDisruptionBudget for {name}"
        assert selector_matches(
            budgets[name]["spec"]["selector"]["matchLabels"],
            workload["spec"]["template"]["metadata"]["labels"],
        )
        assert workload["spec"].get("replicas", 3) >= 2, f"{name}: one replica in prod"


def test_every_service_selects_pods_and_targets_a_named_port(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    for service in named(objects, "Service").values():
        selector = service["spec"]["selector"]
        pods = [
            w
            for w in workloads(objects)
            if selector_matches(selector, w["spec"]["template"]["metadata"]["labels"])
        ]
        assert pods, f"Service {service['metadata']['name']} selects no pod"
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            names = {
                p.get("name")
                for w in pods
                for c in containers(w, init=False)
                for p in c.get("ports", [])
            }
            assert target in names, f"{service['metadata']['name']}: no container port {target}"


def test_secret_and_config_map_references_resolve(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    secrets = {name: set(obj.get("data", {})) for name, obj in named(objects, "Secret").items()}
    config_maps = set(named(objects, "ConfigMap"))
    for workload in workloads(objects):
        spec = pod_spec(workload)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
        for container in containers(workload):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                if overlay == "prod":
                    assert ref["name"] in PROD_SECRETS, ref
                    assert ref.get("optional") or ref["key"] in PROD_SECRETS[ref["name"]], ref
                elif not ref.get("optional"):
                    assert ref["key"] in secrets.get(ref["name"], set()), ref


def test_network_policies_deny_by_default_and_select_real_pods(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    objects = rendered[overlay]
    policies = named(objects, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    labels = [w["spec"]["template"]["metadata"]["labels"] for w in workloads(objects)]
    for name, policy in policies.items():
        selector = policy["spec"]["podSelector"].get("matchLabels")
        if not selector or (name == "postgres" and overlay == "prod"):
            continue
        assert any(selector_matches(selector, lab) for lab in labels), f"{name} selects nothing"


def test_only_envoy_accepts_traffic_from_outside(
    rendered: dict[str, list[Object]], overlay: str
) -> None:
    """An ingress rule without `from` admits any source: only Envoy's public port has one."""
    open_rules = []
    for name, policy in named(rendered[overlay], "NetworkPolicy").items():
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from"):
                open_rules.append((name, [p["port"] for p in rule.get("ports", [])]))
    assert open_rules == [("envoy", [8080])]


@pytest.mark.parametrize(
    ("callee", "port", "callers"),
    [
        ("auth", 50061, {"envoy", "edge", "router"}),
        ("edge", 8081, {"envoy"}),
        ("router", 50062, {"edge"}),
        ("billing", 50063, {"edge", "router"}),  # the router's pre-flight reservations
        ("activity", 50064, {"edge"}),
        ("nats", 4222, {"auth", "router", "billing", "activity"}),
        ("postgres", 5432, {"auth", "router", "billing", "activity"}),
    ],
)
def test_each_service_admits_exactly_its_callers(
    rendered: dict[str, list[Object]], callee: str, port: int, callers: set[str]
) -> None:
    """Who calls whom, read from the code: Envoy's ext_authz and routes (auth, edge), the edge's
    peer channels (TOLLGATE_*_ADDR), the services' NATS and database connections."""
    policy = named(rendered["dev"], "NetworkPolicy")[callee]["spec"]
    admitted = set()
    for rule in policy["ingress"]:
        if port in [p["port"] for p in rule["ports"]]:
            for peer in rule["from"]:
                admitted.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
    assert admitted == callers
    # ...and each caller's egress lets it through.
    policies = named(rendered["dev"], "NetworkPolicy")
    for caller in callers:
        egress = policies[caller]["spec"]["egress"]
        assert any(
            port in [p["port"] for p in rule["ports"]]
            and any(
                peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                == callee
                for peer in rule.get("to", [])
            )
            for rule in egress
        ), f"{caller} cannot reach {callee}:{port}"
