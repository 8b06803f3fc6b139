"""Issue 17 item 11: the room's chat and record show Beijing time like every other page, and the phone's own
time beside it when the phone is set to another zone (frontend/clock.js, used by room.js)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOM_JS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "room" / "context.js"
LABELS = '{beijing: "北京时间", local: "本机时间"}'


def _time_in(browser, live_server, zone: str, at: str) -> str:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id=zone)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/verify/")
        return str(page.evaluate(
            f"import('/static/frontend/clock.js').then((m) => m.timeOf({at!r}, {LABELS}))"))
    finally:
        context.close()


def test_a_phone_in_beijing_sees_one_time(browser, live_server):
    assert _time_in(browser, live_server, "Asia/Shanghai", "2026-03-02T02:05:00Z") == "10:05"


def test_a_phone_elsewhere_sees_beijing_time_first_and_its_own_beside_it(browser, live_server):
    shown = _time_in(browser, live_server, "Europe/London", "2026-03-02T02:05:00Z")
    assert shown == "10:05 北京时间（本机时间 02:05）"


def test_the_room_formats_its_times_with_the_clock_module():
    source = ROOM_JS.read_text(encoding="utf-8")
    assert 'from "../clock.js"' in source
    for module in ROOM_JS.parent.glob("*.js"):  # no browser-zone times left in any room module
        assert not re.search(r"toLocale(Time)?String\(", module.read_text(encoding="utf-8")), module.name
