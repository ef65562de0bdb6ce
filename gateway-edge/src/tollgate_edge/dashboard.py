"""The dashboard: a static page (``/dashboard``) that reads the admin API in the browser with the
API key the user signs in with. Nothing here needs a credential: Envoy lets ``/dashboard``
through unauthenticated, and every data call the page makes is authenticated like any client's.

The page is ours (``static/dashboard``); the charting library (Chart.js) is an npm dependency
installed by ``make install`` into ``gateway-edge/dashboard/node_modules`` (in the image: a
build stage runs ``npm ci`` and ``TOLLGATE_EDGE_DASHBOARD_ASSETS_DIR`` points at the result).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

import tollgate_edge
from tollgate_edge.peers import SETTINGS
from tollgate_edge.settings import EdgeSettings

# The page's own files, and the third-party files it loads, by the name the page uses.
_PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
_VENDOR_FILES = {"chart.umd.min.js": ("chart.js", "dist/chart.umd.min.js")}
_HEADERS = {
    # Only our own origin: no inline script, no third-party hosts, no framing.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def static_dir() -> Path:
    return Path(tollgate_edge.__file__).resolve().parent / "static" / "dashboard"


def vendor_dir(settings: EdgeSettings) -> Path:
    """The configured ``node_modules``, else ``gateway-edge/dashboard/node_modules`` beside the
    edge package's sources (as for the Envoy template)."""
    if settings.dashboard_assets_dir is not None:
        return settings.dashboard_assets_dir
    return Path(tollgate_edge.__file__).resolve().parents[2] / "dashboard" / "node_modules"


def _file(path: Path, content_type: str) -> web.Response:
    if not path.is_file():
        raise web.HTTPNotFound
    return web.Response(body=path.read_bytes(), content_type=content_type, headers=_HEADERS)


async def page(_request: web.Request) -> web.Response:
    return _file(static_dir() / "index.html", "text/html")


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _PAGE_FILES:
        raise web.HTTPNotFound
    return _file(static_dir() / name, _PAGE_FILES[name])


async def vendor(request: web.Request) -> web.Response:
    entry = _VENDOR_FILES.get(request.match_info["name"])
    if entry is None:
        raise web.HTTPNotFound
    package, relative = entry
    return _file(vendor_dir(request.app[SETTINGS]) / package / relative, "text/javascript")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", page, allow_head=False)
    app.router.add_get("/dashboard/", page, allow_head=False)
    app.router.add_get("/dashboard/vendor/{name}", vendor, allow_head=False)
    app.router.add_get("/dashboard/{name}", asset, allow_head=False)
