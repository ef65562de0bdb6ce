"""Render the kustomize overlays and describe what Tollgate's images contain.

Rendering uses the real kustomize: a ``kustomize`` binary if one is on PATH, else
``kubectl kustomize`` (kubectl embeds kustomize). Both are offline.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from tests.support import REPO

K8S = REPO / "k8s"
OVERLAYS = ("dev", "prod")

# The Kubernetes version whose schemas every rendered object must satisfy.
KUBERNETES_VERSION = "1.33.0"

Object = dict[str, Any]


@dataclass(frozen=True)
class Image:
    """One of Tollgate's images: where its Dockerfile is and what it runs."""

    name: str
    folder: str  # the workspace member, relative to the repository root
    module: str  # python -m <module>
    port: int
    has_database: bool


IMAGES: dict[str, Image] = {
    image.name: image
    for image in (
        Image("tollgate-auth", "services/auth", "tollgate_auth", 50061, True),
        Image("tollgate-router", "services/router", "tollgate_router", 50062, True),
        Image("tollgate-billing", "services/billing", "tollgate_billing", 50063, True),
        Image("tollgate-activity", "services/activity", "tollgate_activity", 50064, True),
        Image("tollgate-edge", "gateway-edge", "tollgate_edge", 8081, False),
    )
}


def kustomize_command() -> list[str] | None:
    """How to run kustomize here, or None when neither kustomize nor kubectl is installed."""
    if binary := shutil.which("kustomize"):
        return [binary, "build"]
    if binary := shutil.which("kubectl"):
        return [binary, "kustomize"]
    return None


def render(overlay: str) -> list[Object]:
    command = kustomize_command()
    if command is None:
        raise RuntimeError("neither kustomize nor kubectl is installed")
    result = subprocess.run(
        [*command, str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kustomize failed on overlays/{overlay}:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def image_name(reference: str) -> str:
    """``registry.example.com/tollgate/tollgate-auth:0.1.0`` → ``tollgate-auth``."""
    last = reference.rsplit("/", 1)[-1]
    return last.split("@", 1)[0].split(":", 1)[0]


def image_tag(reference: str) -> str:
    last = reference.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def workloads(objects: list[Object]) -> Iterator[Object]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield obj


def pod_spec(workload: Object) -> Object:
    spec: Object = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Object, *, init: bool = True) -> list[Object]:
    spec = pod_spec(workload)
    found: list[Object] = list(spec.get("initContainers", [])) if init else []
    return found + list(spec["containers"])


def find(objects: list[Object], kind: str, name: str) -> Object | None:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    return None


def named(objects: list[Object], kind: str) -> dict[str, Object]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def tollgate_containers(objects: list[Object]) -> Iterator[tuple[Object, Object, Image]]:
    """(workload, container, image) for every container that runs one of Tollgate's images."""
    for workload in workloads(objects):
        for container in containers(workload):
            image = IMAGES.get(image_name(container["image"]))
            if image is not None:
                yield workload, container, image


def selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())
