"""Playwright harness: Debian's chromium against pytest-django's live server.

Fixtures: `browser` (one chromium per session, fresh temporary profile), `page` (desktop,
1280×800) and `phone_page` (390×844, mobile). Both pages refuse every request that would leave
the live server (the product must work offline) and fail the test on any JavaScript error.
Helpers: `login(page, live_server, username)` and `shot(page, name)` (PNG in screenshots/).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an asyncio loop in this thread; the ORM calls made by fixtures
# in the same thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PASSWORD = "Passw0rd!x"  # the `world` fixture's password


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() (not a persistent context) gives each run a fresh temporary user-data-dir.
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _open_page(browser, options: dict):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    outside: list[str] = []
    errors: list[str] = []

    def only_local(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, outside, errors


@pytest.fixture
def page(browser, live_server):
    context, page, outside, errors = _open_page(browser, DESKTOP)
    yield page
    context.close()
    assert not outside, f"requests left the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def phone_page(browser, live_server):
    context, page, outside, errors = _open_page(browser, PHONE)
    yield page
    context.close()
    assert not outside, f"requests left the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def login(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def overflow_x(page) -> int:
    """How many CSS pixels the page is wider than the configured viewport (0: nothing overflows).

    Compared with the configured width, not window.innerWidth: a mobile browser widens its
    layout viewport to fit overflowing content, which would hide the overflow.
    """
    width = page.viewport_size["width"]
    return page.evaluate("document.documentElement.scrollWidth") - width
