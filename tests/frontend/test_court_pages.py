"""The judge's workspace pages (issue 11): the inbox, an application's review page and its action forms, and a
party's view of their own application on the case page. No inline script anywhere (strict CSP is coming)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mediation.choices import CaseStatus, DismissalGround
from mediation.models import AuditEvent, Case, ConfirmationApplication
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_application_receive,
    confirmation_request_supplement,
)

pytestmark = pytest.mark.django_db
S = CaseStatus
NUMBER = "（2026）京0101民特8号"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=", re.IGNORECASE)


def submitted(world) -> Case:
    case = world.drive(world.new_case(), S.CLOSED_SETTLED)
    confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64)
    return Case.objects.get(pk=case.pk)


def page(client, user, url: str, **data):
    client.force_login(user)
    return client.post(url, data) if data else client.get(url)


def body(response) -> str:
    return response.content.decode()


def csp_clean(html: str) -> bool:
    # The base template's language switcher is not ours to change here; look at the content area only.
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return INLINE_SCRIPT.search(main) is None


def test_the_judge_sees_the_application_in_the_inbox_and_the_nav(client, world):
    case = submitted(world)
    response = page(client, world.judge, reverse("court_inbox"))
    assert response.status_code == 200
    html = body(response)
    assert case.title in html and reverse("court_application", args=[case.pk]) in html
    assert 'data-kind="jc_acceptance"' in html
    assert "司法确认" in html and csp_clean(html)


@pytest.mark.parametrize("name", ["clerk", "mediator", "applicant", "outsider", "org_admin"])
def test_the_inbox_is_not_found_for_anyone_but_a_judge(client, world, name):
    submitted(world)
    assert page(client, getattr(world, name), reverse("court_inbox")).status_code == 404


@pytest.mark.parametrize("name", ["other_judge", "clerk", "mediator", "applicant", "outsider"])
def test_the_review_page_is_not_found_for_anyone_but_a_judge_of_the_court(client, world, name):
    case = submitted(world)
    assert page(client, getattr(world, name), reverse("court_application", args=[case.pk])).status_code == 404
    response = page(client, getattr(world, name), reverse("court_application_act", args=[case.pk, "accept"]),
                    case_number=NUMBER)
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == S.JC_SUBMITTED


def test_the_review_page_shows_the_agreement_checklist_jurisdiction_and_forms(client, world):
    case = submitted(world)
    html = body(page(client, world.judge, reverse("court_application", args=[case.pk])))
    for text in ("调解协议", "申请材料（民诉法解释第三百五十四条）", "调解组织主持调解的证明", "管辖", "受理",
                 "限期补正材料", "不予受理", 'name="case_number"'):
        assert text in html, text
    assert "裁定调解协议有效" not in html.split("h-actions", 1)[1]  # not before acceptance
    assert "dict_items" not in html  # the supplement box starts empty, not with the posted dict's own method
    assert csp_clean(html)


def test_accepting_from_the_page_and_a_bad_number_re_renders_with_the_reason(client, world):
    case = submitted(world)
    url = reverse("court_application_act", args=[case.pk, "accept"])
    response = page(client, world.judge, url, case_number="京0101民特8号")
    assert response.status_code == 400
    assert "案号格式不正确" in body(response) and 'value="京0101民特8号"' in body(response)
    assert Case.objects.get(pk=case.pk).status == S.JC_SUBMITTED
    response = page(client, world.judge, url, case_number=NUMBER)
    assert response.status_code == 302
    assert ConfirmationApplication.objects.get(case=case).case_number == NUMBER
    html = body(page(client, world.judge, reverse("court_application", args=[case.pk])))
    assert NUMBER in html and 'data-form="confirm"' in html and 'data-form="dismiss"' in html


def test_dismissing_without_a_ground_is_refused_on_the_page(client, world):
    case = submitted(world)
    confirmation_accept(case=case, actor=world.judge, case_number=NUMBER)
    url = reverse("court_application_act", args=[case.pk, "dismiss"])
    response = page(client, world.judge, url, note="x")
    assert response.status_code == 400 and "三百五十八" in body(response)
    assert page(client, world.judge, url, ground=DismissalGround.NOT_VOLUNTARY).status_code == 302
    assert Case.objects.get(pk=case.pk).status == S.JC_DISMISSED


def test_the_president_sees_the_extension_form_and_the_judge_does_not(client, world, president):
    case = submitted(world)
    confirmation_accept(case=case, actor=world.judge, case_number=NUMBER)
    url = reverse("court_application", args=[case.pk])
    assert 'data-form="extend"' not in body(page(client, world.judge, url))
    assert 'data-form="extend"' in body(page(client, president, url))
    response = page(client, world.judge, reverse("court_application_act", args=[case.pk, "extend"]), reason="x")
    assert response.status_code == 409 and "院长" in body(response)
    response = page(client, president, reverse("court_application_act", args=[case.pk, "extend"]), reason="核实")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(case=case, kind="confirmation.extension_approved").exists()


def test_a_party_sees_what_is_asked_and_files_it_from_the_case_page(client, world):
    case = submitted(world)
    confirmation_request_supplement(case=case, actor=world.judge, items="请补交房屋权属证明", days=5)
    html = body(page(client, world.applicant, reverse("case_detail", args=[case.pk])))
    assert "请补交房屋权属证明" in html and reverse("confirmation_supplement", args=[case.pk]) in html
    assert csp_clean(html)
    # The mediator sees the case but not the party's block.
    assert "请补交房屋权属证明" not in body(page(client, world.mediator, reverse("case_detail", args=[case.pk])))
    response = page(client, world.applicant, reverse("confirmation_supplement", args=[case.pk]), note="已上传")
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == S.JC_SUBMITTED


def test_an_outsider_cannot_file_supplements(client, world):
    case = submitted(world)
    confirmation_request_supplement(case=case, actor=world.judge, items="x", days=5)
    response = page(client, world.outsider, reverse("confirmation_supplement", args=[case.pk]), note="x")
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == S.JC_SUPPLEMENT_REQUESTED


def test_seed_demo_leaves_an_application_in_the_demo_judges_inbox(client, settings):
    from django.core.management import call_command

    from mediation.models import User

    settings.DEBUG = True
    call_command("seed_demo", quiet=True)
    judge = User.objects.get(username="judge")
    inbox = body(page(client, judge, reverse("court_inbox")))
    case = Case.objects.get(title__contains="司法确认")
    assert case.status == S.JC_SUBMITTED and reverse("court_application", args=[case.pk]) in inbox
    html = body(page(client, judge, reverse("court_application", args=[case.pk])))
    # The clause with both parties' assent to its wording, beside the checklist.
    assert "18,000" in html or "18000" in html
    assert html.count('class="assent yes"') == 2
