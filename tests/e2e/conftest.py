"""Real-browser fixtures: Debian's headless Chromium driven by Playwright, phone-sized, a fresh profile
per browser. Screenshots go to tests/e2e/artifacts/ (git-ignored) for a person to look at.

Playwright's sync API keeps an event loop running in the test's thread while a browser is open, and
Django refuses ORM calls from a thread with a running loop. So: the browser lives for one test only
(its loop is gone before the next test), request data fixtures such as ``world`` *before* ``phone``,
and wrap ORM work in the test body with ``off_loop``."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - the WebSocket-capable live server
from tests.media_support import in_media_netns

T = TypeVar("T")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


def chromium_args() -> list[str]:
    """Inside the media namespace no loopback candidates: the peers pair over the veth addresses."""
    if in_media_netns():
        return [arg for arg in CHROMIUM_ARGS if arg != "--allow-loopback-in-peer-connection"]
    return CHROMIUM_ARGS
CSP_VIOLATION = "Content Security Policy"


def guard_csp(browser) -> list[str]:  # type: ignore[no-untyped-def]
    """Collect every Content-Security-Policy violation in the pages of every context ``browser`` opens from
    now on: Chromium reports a blocked script, handler or style as a console error and carries on without
    it, so a test could pass while the page is missing a script. The ``browser`` fixture fails on any.
    Hence also: give ``wait_for_function`` an arrow function ("() => ..."); a bare expression is run through
    the page's own eval on every poll, which the policy (no 'unsafe-eval') refuses."""
    violations: list[str] = []
    new_context = browser.new_context

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        context = new_context(*args, **kwargs)

        def on_console(message) -> None:  # type: ignore[no-untyped-def]
            if CSP_VIOLATION in message.text:
                violations.append(f"{message.location.get('url', '')}: {message.text}")

        context.on("console", on_console)
        return context

    browser.new_context = watched
    return violations


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args(), headless=True)
        violations = guard_csp(browser)
        yield browser
        browser.close()
    assert violations == [], "the Content-Security-Policy blocked something:\n" + "\n".join(violations)


@pytest.fixture
def phone(browser) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def off_loop(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a plain thread. Playwright's sync API keeps an event loop running in the test's
    thread, and services broadcast with async_to_sync after commit, which refuses to run there."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0]


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
