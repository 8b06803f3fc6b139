"""Issue 3 end to end, through the pages only, as the real people: a party files from a phone, the clerk
accepts it, the court designates the top recommended mediator, the mediator accepts with a disclosure and
invites the respondent, who signs in from the SMS link and consents. Every step is in the audit trail.

Nothing here calls a service to act; services and models are only read to check the outcome. The SMS
gateway is the console backend, whose outbox stands in for the people's phones.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mediation.adapters.sms import outbox, outbox_clear
from mediation.audit_chain import verify_stream
from mediation.choices import CaseStatus, ConsentKind, PartyRole, RosterScope
from mediation.models import AuditEvent, Case, Consent
from mediation.services.outbox import outbox_drain
from tests.apply_support import pdf_bytes
from tests.factories import TEST_PASSWORD, make_resident_id

pytestmark = pytest.mark.django_db

APPLICANT_PHONE = "13811112222"
RESPONDENT_PHONE = "13722223333"
# A Tuesday: every working-day clock on the way starts on a working day.
TUESDAY_MORNING = dt.datetime(2026, 3, 10, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

# The events the Done-when names, in the order they must appear in the case's chain.
KEY_EVENTS = [
    "case.created",
    "application.submitted",
    "case.submit",
    "case.accept_for_mediation",
    "case.assign",
    "case.mediator_designated",
    "mediator.disclosed",
    "case.mediator_accept",
    "case.seek_respondent",
    "respondent.invited",
    "party.linked",
    "consent.granted",
    "case.respondent_consented",
]


@pytest.fixture(autouse=True)
def _sms_and_media(settings, tmp_path):
    settings.SMS_BACKEND = "console"
    settings.MEDIA_ROOT = tmp_path
    outbox_clear()
    yield
    outbox_clear()


# --- What a person does with a page ----------------------------------------------------------------------


def page(response) -> str:
    assert response.status_code == 200, (response.status_code, response.content.decode()[:3000])
    return response.content.decode()


def moved(response, to: str | None = None) -> str:
    """The redirect's target, after checking it is one (and, given ``to``, that it goes there)."""
    assert response.status_code == 302, (response.status_code, response.content.decode()[:3000])
    location = response["Location"]
    if to is not None:
        assert unquote(location) == unquote(to), (location, to)  # login_required quotes less than urlencode
    return location


def hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def sms_to(phone: str) -> str:
    outbox_drain(worker_id="t")  # the platform's own messages wait in its outbox until a worker sends them
    messages = [m for m in outbox if m.phone == phone]
    assert messages, f"no SMS to {phone}"
    return messages[-1].text


def code_for(phone: str) -> str:
    match = re.search(r"\d{6}", sms_to(phone))
    assert match
    return match.group()


def sign_in_by_phone(client: Client, phone: str, *, next_url: str) -> None:
    """The phone sign-in page: the number, then the code from the SMS; back to ``next_url``."""
    here = f"{reverse('phone_login')}?next={next_url}"
    assert "获取验证码" in page(client.get(here))
    moved(client.post(here, {"action": "send", "phone": phone, "next": next_url}))
    assert "登录" in page(client.get(here))
    moved(client.post(here, {"action": "verify", "code": code_for(phone), "next": next_url}), to=next_url)


def sign_in_with_password(client: Client, username: str) -> None:
    login = reverse("login")
    moved(client.post(login, {"username": username, "password": TEST_PASSWORD, "next": reverse("home")}))


# --- The people ------------------------------------------------------------------------------------------


def applicant_files_from_the_phone(world) -> int:
    """张三, with no account yet: phone sign-in, the real-name check, the 7 steps with a PDF, submit."""
    phone = Client()
    apply_url = reverse("apply_start")
    assert f'href="{apply_url}"' in page(phone.get(reverse("home")))  # "申请调解" on the home page
    moved(phone.get(apply_url), to=f"{reverse('phone_login')}?next=%2Fapply%2F")
    sign_in_by_phone(phone, APPLICANT_PHONE, next_url=apply_url)

    identity_url = f"{reverse('identity_verify')}?next=%2Fapply%2F"
    moved(phone.get(apply_url), to=identity_url)
    assert "居民身份证号码" in page(phone.get(identity_url))
    moved(phone.post(identity_url, {
        "action": "send", "real_name": "张三", "id_number": make_resident_id(1), "phone": APPLICANT_PHONE,
    }))
    moved(phone.post(identity_url, {"action": "verify", "code": code_for(APPLICANT_PHONE)}), to=apply_url)

    def step(name: str) -> str:
        return reverse("apply_step", args=[name])

    moved(phone.get(apply_url), to=step("dispute"))
    assert "第 1 步，共 7 步" in page(phone.get(step("dispute")))
    moved(phone.post(step("dispute"), {"dispute_type": "labour", "court": world.court.pk}), to=step("parties"))

    assert "张三" in page(phone.get(step("parties")))  # the verified name, not typed again
    moved(phone.post(step("parties"), {
        "applicant_kind": "natural", "respondent_kind": "natural", "respondent_name": "李四",
        "respondent_phone": RESPONDENT_PHONE, "respondent_id_number": make_resident_id(2),
        "respondent_address": "北京市东城区东直门南大街1号",
    }), to=step("claims"))

    page(phone.get(step("claims")))
    moved(phone.post(step("claims"), {
        "claims": "支付拖欠工资12000元", "amount": "12000", "summary": "2025年10月至12月的工资未发放，多次催要无果。",
    }), to=step("evidence"))

    assert "第 4 步，共 7 步" in page(phone.get(step("evidence")))
    contract = SimpleUploadedFile("劳动合同.pdf", pdf_bytes(), content_type="application/pdf")
    moved(phone.post(reverse("apply_evidence_upload"), {"file": contract, "title": "劳动合同", "kind": "evidence"}),
          to=step("evidence"))
    assert "劳动合同.pdf" in page(phone.get(step("evidence")))
    moved(phone.post(step("evidence"), {}), to=step("notices"))

    notices = page(phone.get(step("notices")))
    assert "在线调解告知书" in notices
    moved(phone.post(step("notices"), {
        "notice_text": hidden(notices, "notice_text"), "consent_text": hidden(notices, "consent_text"),
        "e_service_text": hidden(notices, "e_service_text"), "ack_notice": "on", "consent_online": "on",
        "e_service": "yes",
    }), to=step("address"))

    address = page(phone.get(step("address")))
    assert 'value="张三"' in address  # the recipient starts as the verified applicant
    moved(phone.post(step("address"), {
        "text": hidden(address, "text"), "recipient_name": "张三", "postal_address": "北京市东城区王府井大街1号",
        "postal_code": "100010", "postal_recipient": "张三", "postal_phone": APPLICANT_PHONE,
        "mobile": APPLICANT_PHONE, "stages": ["mediation", "confirmation"],
    }), to=step("review"))

    review = page(phone.get(step("review")))
    assert "李四" in review and "劳动合同" in review and "12000.00" in review
    case_page = moved(phone.post(reverse("apply_submit")))
    match = re.fullmatch(r"/cases/(\d+)/", case_page)
    assert match, case_page
    assert "申请已提交" in page(phone.get(case_page))
    return int(match.group(1))


def clerk_accepts_and_designates_the_top_recommendation(world, case_id: int) -> None:
    """陈书记员 puts the mediator on the court's roster, accepts the application from the intake queue, and
    designates the first mediator the choice page recommends (a one-sided application: no joint choice)."""
    desk = Client()
    sign_in_with_password(desk, world.clerk.username)

    # The court's roster (OMR 9(2), 27): the partner organisation's mediator is listed by the clerk.
    profile = world.mediator.mediator_profile
    manage_url = f"{reverse('roster_manage')}?court={world.court.pk}"
    moved(desk.post(reverse("roster_manage_add", args=[world.court.pk]), {
        "profile": profile.pk, "scope": RosterScope.COURT, "specialty": "",
    }), to=manage_url)
    assert world.mediator.display_name in page(desk.get(manage_url))

    reference = Case.objects.get(pk=case_id).reference
    queue = page(desk.get(reverse("intake_queue")))
    assert reference in queue
    assert reverse("intake_accept", args=[case_id]) in queue
    moved(desk.post(reverse("intake_accept", args=[case_id])), to=reverse("intake_queue"))
    queue = page(desk.get(reverse("intake_queue")))
    assert "进入选定调解员阶段" in queue
    assert "法院指定调解员（3个工作日）" in queue  # the court's own clock, on the clerk's queue
    assert reverse("case_choose", args=[case_id]) in queue

    choose = page(desk.get(reverse("case_choose", args=[case_id])))
    offered = re.findall(r'name="mediator" value="(\d+)"', choose)
    assert offered, "the choice page recommends nobody"
    assert int(offered[0]) == world.mediator.pk  # the labour specialist on the court's roster comes first
    assert "指定该调解员" in choose
    moved(desk.post(reverse("case_choose", args=[case_id]), {"action": "designate", "mediator": offered[0]}),
          to=reverse("case_detail", args=[case_id]))


def mediator_accepts_and_invites_the_respondent(world, case_id: int) -> None:
    """The designated mediator accepts with a disclosure statement (OMR 12-13), starts seeking the respondent
    and invites them by SMS (OMR 15)."""
    desk = Client()
    sign_in_with_password(desk, world.mediator.username)
    dashboard = page(desk.get(reverse("intake_mine")))
    assert Case.objects.get(pk=case_id).reference in dashboard
    assert "调解员确认接受（3个工作日）" in dashboard  # the acceptance clock, on the mediator's dashboard
    assert reverse("case_mediator_accept", args=[case_id]) in dashboard
    case_page = page(desk.get(reverse("case_detail", args=[case_id])))
    assert reverse("case_mediator_accept", args=[case_id]) in case_page
    assert "确认接受" in page(desk.get(reverse("case_mediator_accept", args=[case_id])))
    respondent_url = reverse("case_respondent", args=[case_id])
    moved(desk.post(reverse("case_mediator_accept", args=[case_id]), {"nothing_to_disclose": "on"}),
          to=respondent_url)

    assert "开始征询被申请人意愿" in page(desk.get(respondent_url))
    moved(desk.post(respondent_url, {"action": "seek"}), to=respondent_url)
    assert "发送短信邀请" in page(desk.get(respondent_url))
    moved(desk.post(respondent_url, {"action": "invite"}), to=respondent_url)
    assert "已向被申请人发送短信邀请" in page(desk.get(respondent_url))
    assert "协助征询被申请人意愿（3个工作日）" in page(desk.get(reverse("intake_mine")))


def respondent_consents_from_the_sms_link(case_id: int) -> None:
    """李四 opens the link in the SMS, signs in with the number the applicant gave, confirms being the
    respondent, reads the OMR 7 notice and agrees to mediate online."""
    invitation = sms_to(RESPONDENT_PHONE)
    link = re.search(r"https?://\S+/cases/\d+/respond/", invitation)
    assert link, invitation
    respond_url = urlsplit(link.group()).path
    assert respond_url == reverse("case_respond", args=[case_id])

    phone = Client()
    moved(phone.get(respond_url), to=f"{reverse('phone_login')}?next={respond_url}")
    sign_in_by_phone(phone, RESPONDENT_PHONE, next_url=respond_url)

    link_page = page(phone.get(respond_url))
    assert "我是被申请人李四" in link_page
    moved(phone.post(respond_url, {"action": "link"}), to=respond_url)

    # The same real-name step as the applicant's before consenting (issue 17 item 15): name, ID and phone,
    # the name matched to the ID by the identity provider, then the code; back to the answer page.
    identity_url = moved(phone.get(respond_url))
    assert identity_url.startswith(reverse("identity_verify"))
    moved(phone.post(identity_url, {"action": "send", "real_name": "李四", "id_number": make_resident_id(702),
                                    "phone": RESPONDENT_PHONE, "next": respond_url}))
    moved(phone.post(identity_url, {"action": "verify", "code": code_for(RESPONDENT_PHONE), "next": respond_url}),
          to=respond_url)

    notice = page(phone.get(respond_url))
    assert "在线调解告知书" in notice
    moved(phone.post(respond_url, {
        "answer": "yes", "notice_text": hidden(notice, "notice_text"), "consent_text": hidden(notice, "consent_text"),
    }), to=reverse("case_detail", args=[case_id]))
    assert "已记录您愿意调解" in page(phone.get(reverse("case_detail", args=[case_id])))


def in_order(wanted: list[str], kinds: list[str]) -> bool:
    """Whether ``wanted`` occurs in ``kinds`` as a subsequence (other events may come in between)."""
    remaining = iter(kinds)
    return all(kind in remaining for kind in wanted)


# --- The journey -----------------------------------------------------------------------------------------


def test_a_party_files_from_a_phone_and_the_case_reaches_scheduling_with_every_step_audited(world):
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        case_id = applicant_files_from_the_phone(world)
        assert Case.objects.get(pk=case_id).status == CaseStatus.SUBMITTED

        clerk_accepts_and_designates_the_top_recommendation(world, case_id)
        assert Case.objects.get(pk=case_id).status == CaseStatus.ASSIGNED

        mediator_accepts_and_invites_the_respondent(world, case_id)
        assert Case.objects.get(pk=case_id).status == CaseStatus.RESPONDENT_PENDING

        respondent_consents_from_the_sms_link(case_id)

    case = Case.objects.get(pk=case_id)
    assert case.status == CaseStatus.SCHEDULING
    assert case.one_sided
    applicant = case.parties.get(role=PartyRole.APPLICANT)
    respondent = case.parties.get(role=PartyRole.RESPONDENT)
    assert applicant.user is not None and applicant.user.phone == APPLICANT_PHONE
    assert respondent.user is not None and respondent.user.phone == RESPONDENT_PHONE
    assert case.mediator_assignments.get(is_active=True).mediator == world.mediator
    assert case.evidence.get().original_name == "劳动合同.pdf"
    assert Consent.objects.filter(case=case, party=respondent, kind=ConsentKind.ONLINE_MEDIATION, granted=True).exists()

    # The case's chain is intact and holds the key events in order.
    assert verify_stream(f"case.{case.pk}") is None
    kinds = list(AuditEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))
    assert in_order(KEY_EVENTS, kinds), kinds
    respondent_consent = AuditEvent.objects.filter(case=case, kind="consent.granted").order_by("seq").last()
    assert respondent_consent is not None and respondent_consent.actor == respondent.user
    assert respondent_consent.data["consent"] == ConsentKind.ONLINE_MEDIATION

    # The applicant reads the timeline in Chinese: a label for every event, never a raw code.
    applicant_phone = Client()
    applicant_phone.force_login(applicant.user)
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page(applicant_phone.get(
        reverse("case_detail", args=[case.pk])
    )), re.S)
    assert timeline
    items = re.findall(r'<li data-kind="([^"]+)"><time>[^<]*</time>\s*([^<]*)<', timeline.group(1))
    assert [kind for kind, _label in items] == kinds
    for kind, label in items:
        assert label.strip() and label.strip() != kind, (kind, label)
        assert not re.search(r"[a-z]+\.[a-z_]+", label), (kind, label)
    labels = [label.strip() for _kind, label in items]
    for expected in ("提交调解申请", "状态变更为：待选定调解员", "指定调解员", "调解员作出披露声明",
                     "状态变更为：调解员已接受", "短信通知被申请人", "被申请人登录平台", "状态变更为：安排调解"):
        assert expected in labels, (expected, labels)

    # The PDF was kept with its SHA-256 and is handed out only through the permission check.
    evidence = case.evidence.get()
    submitted = AuditEvent.objects.get(case=case, kind="application.submitted")
    assert submitted.data["evidence"] == [{"id": evidence.pk, "title": "劳动合同", "sha256": evidence.sha256}]
    download = reverse("evidence_download", args=[evidence.pk])
    for person in (applicant.user, world.clerk, world.mediator, respondent.user):
        reader = Client()
        reader.force_login(person)
        response = reader.get(download)
        assert response.status_code == 200, person
        assert b"".join(response.streaming_content) == pdf_bytes()  # read to the end: the file closes
    for stranger in (world.outsider, world.other_clerk, world.other_mediator):
        other = Client()
        other.force_login(stranger)
        assert other.get(download).status_code == 404, stranger
