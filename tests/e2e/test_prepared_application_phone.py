"""The SMS link to an application a partner organisation prepared (D39), on a phone: the named party signs in,
reads what the organisation wrote, claims it and lands on the next step of their own application. Screenshots
at both phone sizes for a person to look at."""

from __future__ import annotations

import pytest

from mediation.models import ApplicationDraft
from mediation.services import applications as apps
from tests.apply_support import step_answers, verify_identity
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"390x844": {"width": 390, "height": 844}, "360x640": {"width": 360, "height": 640}}


@pytest.mark.parametrize("size", list(SIZES))
def test_the_named_party_claims_a_prepared_application_on_a_phone(live_server, world, phone, size):
    viewport = SIZES[size]
    phone.set_viewport_size(viewport)

    def prepare() -> str:
        verify_identity(world.applicant)
        answers = step_answers(world)
        return apps.application_prepare(
            actor=world.org_admin, organisation=world.partner, name=world.applicant.real_name,
            phone=world.applicant.phone,
            data={step: answers[step] for step in apps.PREPARED_STEPS},
        ).claim_code

    code = off_loop(prepare)
    phone.goto(f"{live_server.url}/accounts/login/?next=/apply/prepared/{code}/")
    phone.fill("input[name=username]", world.applicant.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("h1:has-text('核对代为准备的申请')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert phone.locator("text=北京市总工会劳动争议调解中心").count() >= 1
    screenshot(phone, f"prepared-application-{size}")
    phone.click("button[value=claim]")
    phone.wait_for_selector("text=第 4 步，共 7 步")  # the party's own steps: materials, notices, address
    screenshot(phone, f"prepared-application-claimed-{size}")
    assert off_loop(lambda: ApplicationDraft.objects.get().owner_id) == world.applicant.pk
