"""The pages as files: served with a strict Content-Security-Policy, holding no data, and no
way out of their folder."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from hotline.pages.routes import WEB

PAGES = ["/login", "/supervisor", "/agent"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_served_to_anyone_with_a_strict_policy(app_client: TestClient, path: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", sorted(path.name for path in WEB.glob("*.html")))
def test_pages_have_no_inline_script_or_style(name: str) -> None:
    html = (WEB / name).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_scripts_never_parse_data_as_html() -> None:
    for path in WEB.glob("*.js"):
        source = path.read_text(encoding="utf-8")
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, path.name
        assert "eval(" not in source and "new Function" not in source, path.name


def test_a_script_is_served_as_a_javascript_module(app_client: TestClient) -> None:
    response = app_client.get("/pages/wallboard.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "content-security-policy" in response.headers


@pytest.mark.parametrize(
    "name", ["nothing.js", "..%2Froutes.py", "routes.py", "login.html", "%2Fetc%2Fpasswd"]
)
def test_only_the_pages_own_assets_are_served(app_client: TestClient, name: str) -> None:
    response = app_client.get(f"/pages/{name}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_root_leads_to_the_login(app_client: TestClient) -> None:
    response = app_client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/login"
