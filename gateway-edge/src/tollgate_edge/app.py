"""Wiring: the aiohttp application, its routes and the peer channels it owns, and the server
that serves it (with the process's ``/metrics``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry
from tollgate.vendor.envoy.service.auth.v3 import external_auth_pb2_grpc
from tollgate_common.lifecycle import shutdown_step
from tollgate_common.metrics import MetricsServer
from tollgate_common.revocations import RevocationFollower

from tollgate_edge import (
    admin,
    aisdk,
    budgets,
    dashboard,
    messages,
    openai_responses,
    rate_limits,
)
from tollgate_edge.activity import get_observability, list_activity
from tollgate_edge.authn import AUTHN, Authenticator, authenticate_hot_routes
from tollgate_edge.authn.cache import IdentityCache
from tollgate_edge.authn.revocations import follow_revocations
from tollgate_edge.chat import chat_completions
from tollgate_edge.credits import adjust, get_credits, top_up, unsettled
from tollgate_edge.embeddings import create_embeddings
from tollgate_edge.errors import error_middleware
from tollgate_edge.health import READINESS, Readiness, healthz, readyz
from tollgate_edge.identity import from_envoy_only
from tollgate_edge.instrumentation import metrics_middleware, tracing_middleware
from tollgate_edge.lookup import get_generation, list_requests
from tollgate_edge.models import get_model, list_models
from tollgate_edge.openapi import openapi_document
from tollgate_edge.payment_hook import payment_hook
from tollgate_edge.peers import PEERS, SETTINGS, Peers
from tollgate_edge.report import get_report
from tollgate_edge.settings import EdgeSettings

log = logging.getLogger("tollgate_edge")


async def _peers_context(app: web.Application) -> AsyncIterator[None]:
    """Open one channel per peer at startup; close them after the last request drained."""
    peers = Peers.open(app[SETTINGS])
    app[PEERS] = peers
    yield
    await peers.close(grace_seconds=1.0)


async def _authn_context(app: web.Application) -> AsyncIterator[None]:
    """The hot routes' :class:`Authenticator` over the auth channel, following revocation facts
    in the background for the life of the app."""
    settings = app[SETTINGS]
    cache = IdentityCache(
        ttl=settings.auth_cache_seconds,
        negative_ttl=settings.auth_negative_cache_seconds,
        max_entries=settings.auth_cache_max_entries,
    )
    follower = RevocationFollower(cache)
    app[AUTHN] = Authenticator(
        external_auth_pb2_grpc.AuthorizationStub(app[PEERS].channels["auth"]),
        cache,
        follower,
        deadline_seconds=settings.auth_check_deadline_seconds,
        max_in_flight=settings.auth_check_concurrency,
    )
    password = settings.nats_password
    following = asyncio.ensure_future(
        follow_revocations(
            follower,
            settings.nats_url,
            settings.nats_user,
            password.get_secret_value() if password else "",
        )
    )
    yield
    follower.close()
    following.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await following


def create_app(
    settings: EdgeSettings, registry: CollectorRegistry | None = None
) -> web.Application:
    """The edge's application; ``registry`` receives its Prometheus metrics."""
    middlewares: list[Middleware] = [metrics_middleware(registry or CollectorRegistry())]
    if (tracing := tracing_middleware()) is not None:
        middlewares.append(tracing)
    middlewares.append(error_middleware)
    if (keys := settings.internal_keys()) is not None:
        middlewares.append(from_envoy_only(keys))
    else:
        log.warning("no internal secret: the edge believes identity headers from anyone")
    if settings.authenticate_hot_routes:
        middlewares.append(authenticate_hot_routes())
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[READINESS] = Readiness(settings.readiness_cache_seconds)
    app.cleanup_ctx.append(_peers_context)
    if settings.authenticate_hot_routes:
        app.cleanup_ctx.append(_authn_context)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/embeddings", create_embeddings)
    messages.register(app)
    openai_responses.register(app)
    app.router.add_get("/v1/models", list_models, allow_head=False)
    app.router.add_get("/v1/models/{model_id:.+}", get_model, allow_head=False)
    app.router.add_get("/v1/generation", get_generation, allow_head=False)
    app.router.add_get("/v1/credits", get_credits, allow_head=False)
    app.router.add_post("/v1/credits/top-up", top_up)
    app.router.add_post("/v1/credits/adjustments", adjust)
    app.router.add_post("/v1/credits/payment-hook", payment_hook)
    app.router.add_get("/v1/credits/unsettled", unsettled, allow_head=False)
    budgets.register(app)
    rate_limits.register(app)
    app.router.add_get("/v1/report", get_report, allow_head=False)
    app.router.add_get("/v1/requests", list_requests, allow_head=False)
    aisdk.register(app)
    admin.register(app)
    app.router.add_get("/openapi.json", openapi_document, allow_head=False)
    app.router.add_get("/v1/activity", list_activity, allow_head=False)
    app.router.add_get("/v1/observability", get_observability, allow_head=False)
    dashboard.add_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


class EdgeServer:
    """The edge as its process serves it: :meth:`start` listens on ``listen_addr`` and serves
    ``/metrics``; :meth:`stop` shuts down in order:

    1. readiness off and stop accepting, in one step: the listener closes, idle keep-alive
       connections close and a busy one takes no further request, so a ``/readyz`` probe can
       no longer reach the edge;
    2. let the requests in flight finish, streams included (``shutdown_grace_seconds`` at most,
       then they are cancelled);
    3. close the peer channels (the application's cleanup context);
    4. stop serving ``/metrics``.

    Steps 1 to 3 are aiohttp's ``AppRunner.cleanup``. Signals and the stop event are
    :mod:`tollgate_common.lifecycle`'s, as for the gRPC services.
    """

    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()  # the process's metrics
        self._metrics = MetricsServer(self.registry, settings.metrics_addr)
        # No access logs; a handler is cancelled when its client disconnects (so the generation
        # upstream is cancelled too).
        self._runner = web.AppRunner(
            create_app(settings, self.registry),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=settings.shutdown_grace_seconds,
        )

    async def start(self) -> None:
        await self._runner.setup()
        host, port = self.settings.listen_host_port()
        await web.TCPSite(self._runner, host, port, backlog=1024).start()
        self._metrics.start()
        log.info("edge listening on %s", self.settings.listen_addr)

    async def stop(self) -> None:
        log.info("edge shutting down")
        await shutdown_step("edge", "stop serving", self._runner.cleanup)
        self._metrics.stop()
        log.info("edge stopped")
