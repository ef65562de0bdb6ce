"""The OpenAI Responses API (``POST /v1/responses``, ``GET`` and ``DELETE
/v1/responses/{id}``) on every model of the catalog: a translator over the router's
``StreamGenerate``, so a response routes, holds credit, is billed and logged exactly as a chat
completion is; stored responses are kept by the router, per team. See docs/responses.md."""

from __future__ import annotations

from aiohttp import web

from tollgate_edge.openai_responses.handler import (
    create_response,
    delete_response,
    get_response,
)


def register(app: web.Application) -> None:
    app.router.add_post("/v1/responses", create_response)
    app.router.add_get("/v1/responses/{response_id}", get_response, allow_head=False)
    app.router.add_delete("/v1/responses/{response_id}", delete_response)
