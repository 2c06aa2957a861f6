"""The pages in a real browser (Debian's headless Chromium, driven by Playwright) against the
app served on a local port while the Twilio emulator places calls: the wallboard follows the
queue without a reload, and the agent console pops the caller's profile for an offered call."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hotline.app import create_app
from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.settings import Settings
from simulator.callers import Directory, Step, VirtualAgent, patience, press
from simulator.flow import CallerHungUp
from simulator.harness import Account, Harness
from tests.conftest import ADMIN_TOKEN, BACKENDS, PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN
from tests.pages.serving import ServedApp
from tests.routing.staff import PASSWORD, add_staff
from tests.routing.test_console_api import KNOWN, add_customer_with_tickets

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
HOTLINE = "+864008895555"
# The emulator runs ten times faster than real time: the IVR takes about a second.
SPEED = 10
# How long a page may take to show what the test waits for, in milliseconds.
SHOWS_WITHIN_MS = 20_000

if not CHROMIUM.exists() and not os.environ.get("HOTLINE_TEST_REQUIRE_BROWSER"):
    pytest.skip(
        "no /usr/bin/chromium (apt-get install chromium); CI sets HOTLINE_TEST_REQUIRE_BROWSER",
        allow_module_level=True,
    )
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database", BACKENDS[:1], indirect=True)]


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("HOTLINE_TEST_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def served(settings: Settings, redis_client: object) -> Iterator[ServedApp]:
    # Real time and always open: the browser, the app and the emulator share one clock.
    live = settings.model_copy(update={"business_hours": "always", "holidays": ""})
    with ServedApp(create_app(live)) as app:
        yield app


@pytest.fixture
def twilio(served: ServedApp) -> Iterator[Harness]:
    account = Account(TEST_TOKEN, TEST_ACCOUNT, ADMIN_TOKEN, HOTLINE)
    agent = VirtualAgent(ring_seconds=(3, 3), talk_mean_seconds=3000)
    harness = Harness(
        account, answerer=Directory(prefixes={"client:": agent}), speed=SPEED,
        url=served.url, public_url=PUBLIC_URL,
    )  # fmt: skip
    harness.start()
    yield harness

    async def hang_up_everyone() -> None:
        for call in harness.exchange.calls.values():
            if call.live:
                call.interrupt(CallerHungUp())

    harness.emulator.run(hang_up_everyone())
    harness.stop()


def place_call(twilio: Harness, number: str, steps: list[Step]) -> None:
    async def place() -> None:
        twilio.exchange.start_call_in(from_=number, to=HOTLINE, script=steps)

    twilio.emulator.run(place())


def figure(page: Page, tile: str, name: str) -> Locator:
    return page.locator(f'[data-tile="{tile}"] [data-figure="{name}"] .value')


def sign_in(page: Page, url: str, login: str) -> None:
    page.goto(url)
    expect(page).to_have_url(f"{url.rsplit('/', 1)[0]}/login?next=%2F{url.rsplit('/', 1)[1]}")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page).to_have_url(url)


def test_the_wallboard_follows_the_queue_and_the_console_pops_the_caller(
    served: ServedApp, twilio: Harness, engine: Engine, browser: Browser
) -> None:
    # `browser` last: it closes first, ending its event streams before the app stops.
    now = FrozenClock(datetime.now(UTC))
    add_staff(engine, now, name="赵磊", role=Role.supervisor, login="zhaolei", password=PASSWORD)
    add_staff(engine, now, name="陈静", login="chenjing", password=PASSWORD)
    add_customer_with_tickets(engine, now)

    board = browser.new_context().new_page()
    sign_in(board, f"{served.url}/supervisor", "zhaolei")
    waiting = figure(board, "overall", "waiting")
    expect(waiting).to_have_text("0", timeout=SHOWS_WITHIN_MS)
    board.evaluate("window.sameDocument = true")

    for caller in ("+8613600000001", "+8613600000002", "+8613600000003"):
        place_call(twilio, caller, [press("3"), patience(80)])
    expect(waiting).to_have_text("3", timeout=SHOWS_WITHIN_MS)
    expect(figure(board, "accounts", "waiting")).to_have_text("3")
    expect(waiting).to_have_text("0", timeout=SHOWS_WITHIN_MS)  # they gave up
    expect(figure(board, "overall", "abandoned")).to_have_text("3")
    assert board.evaluate("window.sameDocument") is True  # live, not reloaded

    place_call(twilio, KNOWN, [press("1"), patience(600)])
    expect(waiting).to_have_text("1", timeout=SHOWS_WITHIN_MS)
    desk = browser.new_context().new_page()
    sign_in(desk, f"{served.url}/agent", "chenjing")
    expect(desk.locator("#state-now")).to_contain_text("离线")
    desk.click("#go-available")
    # The name is shown as text: the markup in it is not rendered.
    expect(desk.locator("#customer-name")).to_have_text("王<b>芳</b>", timeout=SHOWS_WITHIN_MS)
    expect(desk.locator("#caller .segment")).to_contain_text("VIP")
    expect(desk.locator("#caller .number")).to_have_text("+86139****5678")
    expect(desk.locator('[data-ticket="T20261120-0001"]')).to_contain_text("latest")
    expect(waiting).to_have_text("0", timeout=SHOWS_WITHIN_MS)

    # A note on the ticket is saved, or, while the CRM's route is not there, said to be missing.
    desk.fill('[data-action="note"] textarea', "客户要求补寄账单")
    desk.click('[data-action="note"] button[type="submit"]')
    expect(desk.locator('[data-status="note"]')).to_have_text(
        re.compile(r"已保存 Saved|此功能尚未开放 Not available yet \(40[45]\)")
    )
