"""The Anthropic Messages API (``POST /v1/messages`` and ``/v1/messages/count_tokens``) on every
model of the catalog: a translator over the router's ``StreamGenerate``, so a request routes,
holds credit, is billed and logged exactly as a chat completion is. See docs/messages.md."""

from __future__ import annotations

from aiohttp import web

from tollgate_edge.messages.handler import count_tokens, create_message


def register(app: web.Application) -> None:
    app.router.add_post("/v1/messages", create_message)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
