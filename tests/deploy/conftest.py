"""The rendered overlays, once per session (kustomize is an external tool: skip without it)."""

from __future__ import annotations

import pytest

from tests.support.manifests import OVERLAYS, Object, kustomize_command, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Object]]:
    if kustomize_command() is None:
        pytest.skip("kustomize and kubectl are not installed: cannot render the overlays")
    return {overlay: render(overlay) for overlay in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name
