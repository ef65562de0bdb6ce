"""The cluster's NATS has a user per service, as `tollgate up`'s bundled NATS does: the
manifests' users.conf is the one rendered from ``tollgate_cli.nats_config``, every service
connects as its own user with the password derived from the installation secret, and the real
nats-server, given the dev overlay's config and Secret, lets the router publish a usage fact
and refuses the same from activity."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

import nats
import pytest
from tollgate_common.internal_auth import InternalKeys
from tollgate_common.testing import free_port, nats_server_binary, wait_for_port

from tests.support.manifests import K8S, Object, containers, find, workloads

RENDERER = K8S / "tools" / "render_nats_users.py"
SERVICES = ("router", "auth", "billing", "activity", "edge")


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_nats_users", RENDERER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config_map(objects: list[Object], prefix: str) -> dict[str, str]:
    found = next(
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix)
    )
    data: dict[str, str] = found["data"]
    return data


def _secret(objects: list[Object], prefix: str) -> dict[str, str]:
    found = next(
        o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"].startswith(prefix)
    )
    return {k: base64.b64decode(v).decode() for k, v in found["data"].items()}


def _in_internal_secret(reference: dict[str, str]) -> str:
    """The key a secretKeyRef reads, checking it is of Secret internal-secret (its generated
    name in the dev overlay carries a hash suffix)."""
    assert reference["name"].startswith("internal-secret"), reference
    return reference["key"]


def test_the_checked_in_users_are_the_generated_ones() -> None:
    """Regenerate with `python k8s/tools/render_nats_users.py` after changing the permissions."""
    assert (K8S / "base/nats/users.conf").read_text() == _renderer().users_conf()


def test_each_service_connects_as_its_own_user(rendered: dict[str, list[Object]]) -> None:
    for overlay, objects in rendered.items():
        for workload in workloads(objects):
            for container in containers(workload):
                env = {e["name"]: e for e in container.get("env", [])}
                if "TOLLGATE_NATS_URL" not in env:
                    continue
                name = workload["metadata"]["name"]
                assert name in SERVICES, (overlay, name)
                assert env["TOLLGATE_NATS_USER"]["value"] == name
                reference = env["TOLLGATE_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
                assert _in_internal_secret(reference) == f"nats-{name}"


def test_the_dev_passwords_are_derived_from_the_installation_secret(
    rendered: dict[str, list[Object]],
) -> None:
    secret = _secret(rendered["dev"], "internal-secret")
    keys = InternalKeys(secret["secret"].encode())
    for user in (*SERVICES, "operator"):
        assert secret[f"nats-{user}"] == keys.token(f"nats:{user}"), user
    nats_pod = find(rendered["dev"], "StatefulSet", "nats")
    assert nats_pod is not None
    [server] = containers(nats_pod, init=False)
    variables = {
        e["name"]: _in_internal_secret(e["valueFrom"]["secretKeyRef"])
        for e in server["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert variables == {f"NATS_{u.upper()}_PASSWORD": f"nats-{u}" for u in (*SERVICES, "operator")}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_nats_with_the_cluster_config_lets_each_service_publish_only_its_facts(
    rendered: dict[str, list[Object]], overlay: str, tmp_path: Path
) -> None:
    config = _config_map(rendered[overlay], "nats-config")["nats.conf"]
    port = free_port()
    config = (
        config.replace("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{port}")
        .replace("http: 0.0.0.0:8222", "")
        .replace("/data/jetstream", str(tmp_path / "js"))
        .replace("/var/run/nats/nats.pid", str(tmp_path / "nats.pid"))
    )
    if "cluster {" in config:  # the prod cluster's routes: one server alone here
        config = config[: config.index("cluster {")]
    (tmp_path / "users").mkdir()
    (tmp_path / "users/users.conf").write_text(
        _config_map(rendered[overlay], "nats-users")["users.conf"]
    )
    (tmp_path / "nats.conf").write_text(config)
    secret = _secret(rendered["dev"], "internal-secret")
    env = {f"NATS_{u.upper()}_PASSWORD": secret[f"nats-{u}"] for u in (*SERVICES, "operator")}
    server = subprocess.Popen(
        [nats_server_binary(), "-c", str(tmp_path / "nats.conf")],
        env={**os.environ, "POD_NAME": "nats-0", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        assert asyncio.run(_publishes(port, "router", secret["nats-router"])) is None
        refused = asyncio.run(_publishes(port, "activity", secret["nats-activity"]))
        assert refused is not None and "permissions violation" in refused.lower()
        assert asyncio.run(_publishes(port, "router", "not-the-password")) is not None
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _publishes(port: int, user: str, password: str) -> str | None:
    """Publish a usage fact as ``user``: None when NATS took it, else what NATS said."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    try:
        client = await nats.connect(
            f"nats://127.0.0.1:{port}",
            user=user,
            password=password,
            error_cb=on_error,
            allow_reconnect=False,
            connect_timeout=5,
        )
    except Exception as exc:  # refused at connect: a wrong password
        return f"{type(exc).__name__}: {exc}"
    try:
        await client.publish("tollgate.usage.v1.test", b"{}")
        await client.flush(timeout=5)
        await asyncio.sleep(0.2)  # a permissions violation arrives asynchronously
    finally:
        await client.close()
    return errors[0] if errors else None
