"""The AI SDK's native gateway protocol (``@ai-sdk/gateway`` 2.x with ``ai`` 5.x): what
``createGateway({baseURL: "<tollgate>/v1/ai", apiKey})`` calls. See docs/ai-sdk.md."""

from __future__ import annotations

from aiohttp import web

from tollgate_edge.aisdk.config import get_config
from tollgate_edge.aisdk.embedding_model import embedding_model
from tollgate_edge.aisdk.language_model import language_model

PREFIX = "/v1/ai"


def register(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/config", get_config, allow_head=False)
    app.router.add_post(f"{PREFIX}/language-model", language_model)
    app.router.add_post(f"{PREFIX}/embedding-model", embedding_model)
