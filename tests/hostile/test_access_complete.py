"""Every route of the app sits in an access table: a route added without saying who may call
it fails here. Also: every Twilio route refuses an unsigned request, bearer token or not."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.app import create_app
from hotline.settings import Environment, Settings
from tests.crm import test_crm_access
from tests.hostile import test_access_matrix
from tests.recordings import test_pause_api, test_playback_api
from tests.routing import test_agents_api, test_alerts_api, test_stats_api
from tests.routing.staff import People, add_people

TWILIO_PREFIX = "/twilio/"


def app_routes(app: FastAPI) -> Iterator[tuple[str, str, re.Pattern[str]]]:
    """(method, path template, path regex) of every route, in the order requests match them."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for each in contexts() if contexts else [route]:
            for method in sorted(getattr(each, "methods", None) or ()):
                if method != "HEAD":
                    yield method, each.path_format, each.path_regex


def _tabled() -> Iterator[tuple[str, str]]:
    """(method, path) of every row of every access table; placeholders stand for any id."""
    for table in (test_crm_access.MATRIX, test_agents_api.MATRIX, test_access_matrix.MATRIX):
        for method, path, _body, _statuses in table:
            yield method, path
    yield from test_alerts_api.ROUTES
    yield from (("GET", path) for path in test_stats_api.FIGURE_ROUTES)
    for action in test_pause_api.PAUSE_ACTIONS:
        yield "POST", f"/api/calls/{{sid}}/recording/{action}"
    # test_who_may_listen: the audio, for each of the five.
    assert test_playback_api.test_who_may_listen
    yield "GET", "/api/recordings/{id}/audio"
    yield from ((method, path) for method, path, _status in test_access_matrix.OPEN)


def _resolve(routes: list[tuple[str, str, re.Pattern[str]]], method: str, path: str) -> str:
    concrete = re.sub(r"\{[a-z_0-9]+\}", "1", path)
    for route_method, template, regex in routes:
        if route_method == method and regex.match(concrete):
            return f"{method} {template}"
    raise AssertionError(f"{method} {path} matches no route of the app")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(environment=Environment.test, demo_data=False))


def test_every_route_is_in_an_access_table(app: FastAPI) -> None:
    routes = list(app_routes(app))
    tabled = {_resolve(routes, method, path) for method, path in _tabled()}
    signed = {
        f"{method} {template}"
        for method, template, _ in routes
        if template.startswith(TWILIO_PREFIX)
    }
    every = {f"{method} {template}" for method, template, _ in routes}
    assert len(every) > 80
    missing = every - tabled - signed
    assert not missing, f"routes without an access table: {sorted(missing)}"


def test_every_twilio_route_refuses_an_unsigned_request_whoever_asks(
    app_client: TestClient, engine: object, clock: object, admin_headers: dict[str, str]
) -> None:
    people: People = add_people(engine, clock)  # type: ignore[arg-type]
    callers = [{}, admin_headers, *(staff.headers for staff in vars(people).values())]
    posts = [t for m, t, _ in app_routes(app_client.app) if t.startswith(TWILIO_PREFIX)]  # type: ignore[arg-type]
    assert len(posts) >= 15
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in posts:
        for headers in callers:
            response = app_client.post(path, content="CallSid=CA1", headers={**headers, **form})
            assert response.status_code == 403, (path, headers)
            assert response.json()["error"] == "forbidden"
