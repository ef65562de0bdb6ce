"""Every internal RPC a service's code calls is one the callee lets that service make: a method
added to a proto and called from a new place must be added to the allow-list too, or it is
refused at run time (docs/architecture.md, "Trust")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tollgate.activity.v1 import activity_pb2
from tollgate.auth.v1 import auth_pb2
from tollgate.billing.v1 import billing_pb2
from tollgate.router.v1 import router_pb2
from tollgate_common.internal_auth import allowed_callers

ROOT = Path(__file__).resolve().parents[2]
CALLERS = {
    "router": ROOT / "services/router/src/tollgate_router",
    "edge": ROOT / "gateway-edge/src/tollgate_edge",
}
SERVICES = [
    module.DESCRIPTOR.services_by_name[name]
    for module, name in (
        (auth_pb2, "AuthService"),
        (billing_pb2, "BillingService"),
        (router_pb2, "RouterService"),
        (activity_pb2, "ActivityService"),
    )
]


def _called(source: Path, method: str) -> bool:
    pattern = re.compile(rf"\.{method}\(")
    return any(pattern.search(path.read_text()) for path in source.rglob("*.py"))


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_each_rpc_a_service_calls_is_allowed_for_it(caller: str) -> None:
    refused = [
        f"/{service.full_name}/{method.name}"
        for service in SERVICES
        for method in service.methods
        if _called(CALLERS[caller], method.name)
        and caller not in allowed_callers(f"/{service.full_name}/{method.name}")
    ]
    assert refused == [], f"{caller} calls these, and their services would refuse it: {refused}"
