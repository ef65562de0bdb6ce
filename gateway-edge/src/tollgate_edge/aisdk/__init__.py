"""The AI SDK's native gateway protocol: what ``createGateway({baseURL, apiKey})`` calls, at
``/v1/ai`` (``@ai-sdk/gateway`` 2.x with ``ai`` 5.x) and ``/v3/ai`` (3.x with ``ai`` 6.x).
See docs/ai-sdk.md."""

from __future__ import annotations

from aiohttp import web

from tollgate_edge.aisdk.config import get_config
from tollgate_edge.aisdk.embedding_model import embedding_model
from tollgate_edge.aisdk.language_model import language_model
from tollgate_edge.aisdk.versions import SPECS


def register(app: web.Application) -> None:
    for spec in SPECS:
        app.router.add_get(f"{spec.prefix}/config", get_config, allow_head=False)
        app.router.add_post(f"{spec.prefix}/language-model", language_model)
        app.router.add_post(f"{spec.prefix}/embedding-model", embedding_model)
