"""Serves the pages and their assets with a strict Content-Security-Policy.

The pages hold no data: their scripts sign in over the JSON API and fetch everything with the
bearer token, so these routes need no authentication of their own.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from hotline.errors import NotFound

WEB = Path(__file__).parent / "web"

# Scripts only from our own files (no inline script, no eval); styles only from our stylesheet;
# requests only to our own API. Nothing may frame the pages.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGES = {"/login": "login.html", "/supervisor": "supervisor.html", "/agent": "agent.html"}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
ASSET_NAME = re.compile(r"^[a-z][a-z0-9_]*\.(js|css|svg)$")

router = APIRouter(include_in_schema=False)


def _page(name: str) -> Response:
    # Pages change with each release and carry no data: never cached stale.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(WEB / name, media_type="text/html; charset=utf-8", headers=headers)


def _page_route(path: str, name: str) -> None:
    @router.get(path, name=f"page:{name}")
    def page() -> Response:
        return _page(name)


for _path, _name in PAGES.items():
    _page_route(_path, _name)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/login", status_code=307)


@router.get("/pages/{name}")
def asset(name: str) -> Response:
    """A script, stylesheet or picture of the pages; only plain names from `web/`."""
    path = WEB / name
    if not ASSET_NAME.match(name) or not path.is_file():
        raise NotFound(f"no page asset {name}")
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers)
