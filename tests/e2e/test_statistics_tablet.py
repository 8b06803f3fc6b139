"""The court leader's dashboard on a tablet: ECharts (from our static files) draws every chart from its JSON
block, the page raises no script error, and nothing overflows sideways; a phone gets the same page in one column."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.choices import CaseStatus, Role
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import sign_in
from tests.factories import UserFactory, add_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 768}


def test_the_court_leaders_dashboard_draws_its_charts_on_a_tablet(live_server, world, browser):
    def prepare() -> tuple[str, str]:
        leader = UserFactory(username="hc_leader", real_name="高院院长")
        add_member(leader, world.high_court, Role.COURT_PRESIDENT)
        world.drive(world.new_case(), CaseStatus.AGREEMENT_EFFECTIVE)
        world.drive(world.new_case(), CaseStatus.WITHDRAWN)
        return leader.username, reverse("statistics_dashboard", args=["court", world.high_court.pk])

    username, path = off_loop(prepare)
    context = browser.new_context(viewport=TABLET, device_scale_factor=2, has_touch=True, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Every file the page loads is ours and is there (the browser's own favicon request aside).
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    sign_in(page, live_server.url, username, next_path=path)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector("[data-chart=trend] canvas")
    for chart in ("trend", "breakdown", "rooms", "contact", "contact-breakdown", "selftest"):
        assert page.locator(f"[data-chart={chart}] canvas").count() >= 1
    assert "50.0%" in page.text_content("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    assert errors == []
    screenshot(page, "statistics-court-1024x768")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("[data-chart=trend] canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "statistics-court-390x844")
    page.set_viewport_size({"width": 360, "height": 640})
    page.reload()
    page.wait_for_selector("[data-chart=selftest] canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("[data-chart=contact]").scroll_into_view_if_needed()
    screenshot(page, "statistics-court-contact-360x640")
    context.close()
