"""Issue 6's "Done when" on the demo world, in phone-sized browsers against the real ASGI application: the
demo mediator opens the room and admits both parties; in the room's 协议 tab the mediator drafts the
agreement, 张三 and 李四 (for the company) assent clause by clause on their phones, the mediator opens
signing and ends the session with an agreement. Both parties sign on their phones (one-time code and a
finger-drawn signature), the mediator signs and the organisation's administrator applies its e-seal: the
agreement takes effect. Both parties then sign the 司法确认申请书 and the case is JC_SUBMITTED. The two
PDFs, downloaded as the document page offers them, pass poppler's ``pdfsig`` and the public /verify/ page
says each matches the record. Screenshots under tests/e2e/artifacts/issue6-*."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import timezone

from documents.models import Document
from mediation.choices import CaseStatus, DocumentKind, PartyRole, RoomOutcome, SessionStatus
from mediation.management.commands.seed_demo import DEMO_CASE_TITLE, DEMO_PASSWORD
from mediation.models import AuditEvent, Case, MediationSession, Room, RoomMember
from tests.e2e.conftest import ARTIFACTS, off_loop, screenshot
from tests.e2e.phone_support import draw_signature, fits, new_phone, pass_room_checks, sign_in
from tests.signing_support import dev_ca_dir, last_code, signing_env  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONES = {"mediator": "13800000010", "alice": "13900000001", "bob": "13900000002", "org_admin": "13800000020"}
FACTS = ("申请人于2025年3月入职被申请人处任软件工程师，2026年8月离职。"
         "被申请人尚欠申请人2026年7月、8月工资共计人民币24,000元。")
DISPUTED = "被申请人应否支付拖欠工资，以及支付的数额和期限。"
WAIVER = "申请人放弃其他请求。双方就本案劳动争议再无其他争议。"
PANEL = "#agreement-panel [data-agreement-panel]"  # the room's 协议 tab


@pytest.fixture
def demo(signing_env):  # noqa: F811 - the fixture imported above: the dev CA, SMS outbox, no resend wait
    """The demo world with the session ``seed_demo --room-session`` schedules for the demo case, loaded once
    the signing settings are in place."""

    def load() -> tuple[Case, MediationSession]:
        with override_settings(DEBUG=True):  # seed_demo refuses to run with DEBUG off
            call_command("seed_demo", quiet=True, room_session=True)
        case = Case.objects.get(title=DEMO_CASE_TITLE)
        return case, MediationSession.objects.get(case=case, status=SessionStatus.SCHEDULED)

    return off_loop(load)


def enter_room(page, base: str, case: Case, username: str, *, party: bool) -> None:
    """From the case page: the session's 进入调解室 link (the mediator opens the room), then the way in."""
    page.goto(f"{base}/cases/{case.pk}/")
    page.click("a.sch-room")
    page.wait_for_selector("button[name=open], h1:has-text('身份核验')")  # the enter page, or the room is open
    if page.locator("button[name=open]").count():
        page.click("button[name=open]")
    pass_room_checks(page, phone=PHONES[username], party=party)


def post_in_panel(page, selector: str) -> None:
    """Tap a button of the room's agreement panel and wait until the panel has settled: it is swapped for
    the POST's answer and again when the room's own ``agreement.updated`` event reloads it. Each swap
    replaces the forms, so anything typed into the panel before the last swap would be lost."""
    page.evaluate("""() => {
        window.__panelSwaps = 0;
        window.__panelLast = performance.now();
        if (window.__panelObserver) window.__panelObserver.disconnect();
        window.__panelObserver = new MutationObserver((records) => {
            window.__panelSwaps += records.length;
            window.__panelLast = performance.now();
        });
        window.__panelObserver.observe(document.getElementById("agreement-panel"), { childList: true });
    }""")
    page.click(selector)
    # Usually two swaps close together; if the room's event is missed (a reconnect), the answer alone will do.
    page.wait_for_function("() => (window.__panelSwaps >= 2 && performance.now() - window.__panelLast > 600)"
                           " || (window.__panelSwaps >= 1 && performance.now() - window.__panelLast > 2000)",
                           polling=100)


def open_details(page, selector: str) -> None:
    if page.locator(f"{selector}[open]").count() == 0:
        page.click(f"{selector} > summary")


def draft_in_room(mediator, case: Case) -> None:
    """The mediator drafts the agreement in the room's 协议 tab; every form posts in place."""
    p = PANEL
    mediator.click("#tab-agreement")
    post_in_panel(mediator, f"{p} button:has-text('开始起草调解协议')")
    mediator.wait_for_selector(f"{p} #agr-header")
    open_details(mediator, f"{p} #agr-header details.agr-edit")  # closed when the case summary filled the facts
    mediator.fill(f"{p} #id_facts", FACTS)
    mediator.fill(f"{p} #id_disputed_matters", DISPUTED)
    post_in_panel(mediator, f"{p} #agr-header form button[type=submit]")
    mediator.wait_for_selector(f"{p} .agr-facts dd:has-text('软件工程师')")

    applicant, respondent = off_loop(lambda: (case.parties.get(role=PartyRole.APPLICANT).pk,
                                              case.parties.get(role=PartyRole.RESPONDENT).pk))
    form = f"{p} details.agr-add"
    open_details(mediator, form)
    mediator.select_option(f"{form} #id_new-kind", "payment")
    mediator.select_option(f"{form} #id_new-obligor", str(respondent))
    mediator.select_option(f"{form} #id_new-obligee", str(applicant))
    mediator.fill(f"{form} #id_new-subject", "2026年7月、8月拖欠的工资")
    mediator.fill(f"{form} #id_new-amount", "24000")
    mediator.fill(f"{form} #id_new-method", "银行转账至申请人名下银行账户")
    mediator.fill(f"{form} #id_new-deadline", (timezone.localdate() + dt.timedelta(days=15)).isoformat())
    mediator.fill(f"{form} #id_new-breach", "逾期未付的，被申请人另行支付违约金人民币2,000元")
    post_in_panel(mediator, f"{form} button[type=submit]")
    mediator.wait_for_selector(f"{p} #agr-clauses li.agr-clause:has-text('贰万肆仟元')")

    open_details(mediator, form)
    mediator.select_option(f"{form} #id_new-kind", "other")
    mediator.fill(f"{form} #id_new-text", WAIVER)
    post_in_panel(mediator, f"{form} button[type=submit]")
    mediator.wait_for_selector(f"{p} #agr-clauses li.agr-clause:has-text('再无其他争议')")


def assent_every_clause(page, name: str) -> None:
    """A party taps 同意本条 on each clause in the room's 协议 tab until every clause has their assent."""
    p = PANEL
    page.click("#tab-agreement")
    page.wait_for_selector(f"{p} #agr-clauses li.agr-clause:has-text('再无其他争议')")
    for number in (1, 2):
        post_in_panel(page, f"{p} form.agr-assent:not(.done) button >> nth=0")
        # The page shows the assent (the room's own agreement.updated may reload the panel, message and all).
        page.wait_for_function(
            f"() => document.querySelectorAll('{p} form.agr-assent.done').length === {number}")
    assert page.locator(f"{p} form.agr-assent:not(.done)").count() == 0
    assert fits(page)
    screenshot(page, f"issue6-{name}-2-assented")


def document_of(case: Case, kind: str) -> Document:
    return off_loop(lambda: Document.objects.filter(case=case, kind=kind).order_by("-version").first())


def sign_from_case_page(page, base: str, case: Case, kind: str, username: str, shot: str, *,
                        seal: bool = False) -> None:
    """As a person does it: the case page lists the document 待您签署; open it, 签署, draw (not for a
    seal), get the one-time code, read it from the SMS, confirm."""
    page.goto(f"{base}/cases/{case.pk}/")
    document = document_of(case, kind)
    assert document is not None, f"no {kind} document was issued"
    link = page.locator(f"#documents a[href='/documents/{document.pk}/']")
    assert "待您签署" in link.text_content()
    link.click()
    page.wait_for_selector("#to-sign")
    page.click("#to-sign a.button")
    page.wait_for_selector("#sign-form")
    if seal:
        assert page.locator("#sign-pad").count() == 0  # an e-seal is no handwriting
    else:
        draw_signature(page)
    page.click("#send-code")
    page.wait_for_selector("#send-status:has-text('验证码已发送')")
    page.fill("#id_code", off_loop(lambda: last_code(PHONES[username])))
    page.check("input[name=agree]")
    assert fits(page)
    screenshot(page, f"{shot}-sign")
    page.click("#sign-submit")
    page.wait_for_selector("text=签署完成", timeout=30_000)
    assert page.locator("#to-sign").count() == 0
    assert fits(page)
    screenshot(page, f"{shot}-signed")


def case_status(case: Case) -> str:
    return off_loop(lambda: Case.objects.get(pk=case.pk).status)


def download(page, base: str, document: Document, target: Path) -> Path:
    """The PDF as the document page offers it (下载PDF（含全部签章）)."""
    page.goto(f"{base}/documents/{document.pk}/")
    with page.expect_download() as info:
        page.click("a:has-text('下载PDF')")
    info.value.save_as(target)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, ARTIFACTS / f"issue6-{target.name}")  # for a person to open
    return target


def pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True, check=False).stdout


def verified_on_the_public_page(page, base: str, path: Path, shot: str) -> str:
    page.context.clear_cookies()  # anyone may verify: no account needed
    page.goto(f"{base}/verify/")
    page.set_input_files("input[type=file]", str(path))
    page.click("text=上传并核验")
    page.wait_for_selector(".verdict")
    assert fits(page)
    screenshot(page, shot)
    return page.text_content(".verdict") or ""


def test_demo_session_ends_with_an_agreement_signed_on_phones_and_confirmation_applied_for(
    asgi_live_server, demo, browser, tmp_path
):
    case, session = demo
    base = asgi_live_server.url
    mediator, alice, bob = new_phone(browser), new_phone(browser), new_phone(browser)
    for page, username in ((mediator, "mediator"), (alice, "alice"), (bob, "bob")):
        sign_in(page, base, username, password=DEMO_PASSWORD)

    # The session: the mediator opens the room, both parties come in through the join pages and are admitted.
    enter_room(mediator, base, case, "mediator", party=False)
    enter_room(alice, base, case, "alice", party=True)
    enter_room(bob, base, case, "bob", party=True)
    ids = off_loop(lambda: dict(RoomMember.objects.filter(room__session=session)
                                .values_list("user__username", "pk")))
    for username in ("alice", "bob"):
        mediator.wait_for_selector(f"#rm-waiting button[data-cmd=admit][data-member='{ids[username]}']")
        mediator.click(f"#rm-waiting button[data-cmd=admit][data-member='{ids[username]}']")
    alice.wait_for_selector("#rm-wait", state="hidden")
    bob.wait_for_selector("#rm-wait", state="hidden")

    # The agreement, drafted in the room and assented to clause by clause on each party's phone.
    draft_in_room(mediator, case)
    assert fits(mediator)
    screenshot(mediator, "issue6-mediator-1-drafted")
    assent_every_clause(alice, "applicant")
    assent_every_clause(bob, "respondent")
    mediator.wait_for_selector(f"{PANEL} button:has-text('发起签署'):not([disabled])")
    screenshot(mediator, "issue6-mediator-2-ready-to-sign")
    mediator.click(f"{PANEL} button:has-text('发起签署')")
    # Freezing renders the agreement and the record (WeasyPrint, in the request here): allow for a busy host.
    mediator.wait_for_selector(f"{PANEL} .agr-frozen", timeout=90_000)
    assert case_status(case) == CaseStatus.SIGNING
    screenshot(mediator, "issue6-mediator-3-signing-open")

    # The session ends with an agreement.
    mediator.click("#tab-people")
    mediator.click("#rm-end-open")
    mediator.check("#rm-end-form input[name=outcome][value=agreement]")
    mediator.click("#rm-end-submit")
    for page, name in ((mediator, "mediator"), (alice, "applicant"), (bob, "respondent")):
        page.wait_for_selector("#rm-ended:has-text('本次调解已结束')")
        screenshot(page, f"issue6-{name}-4-ended")
    assert off_loop(lambda: Room.objects.get(session=session).outcome) == RoomOutcome.AGREEMENT

    # The agreement signed: both parties and the mediator on their phones, then the organisation's e-seal.
    sign_from_case_page(alice, base, case, DocumentKind.AGREEMENT, "alice", "issue6-applicant-5-agreement")
    sign_from_case_page(bob, base, case, DocumentKind.AGREEMENT, "bob", "issue6-respondent-5-agreement")
    sign_from_case_page(mediator, base, case, DocumentKind.AGREEMENT, "mediator", "issue6-mediator-5-agreement")
    org_admin = new_phone(browser)
    sign_in(org_admin, base, "org_admin", password=DEMO_PASSWORD)
    sign_from_case_page(org_admin, base, case, DocumentKind.AGREEMENT, "org_admin", "issue6-org-5-seal", seal=True)
    assert case_status(case) in (CaseStatus.AGREEMENT_EFFECTIVE, CaseStatus.CLOSED_SETTLED)
    agreement = document_of(case, DocumentKind.AGREEMENT)
    assert agreement.effective_at is not None

    # The joint confirmation application, signed by both parties on their phones: submitted.
    sign_from_case_page(alice, base, case, DocumentKind.JC_APPLICATION, "alice", "issue6-applicant-6-jc")
    sign_from_case_page(bob, base, case, DocumentKind.JC_APPLICATION, "bob", "issue6-respondent-6-jc")
    assert case_status(case) == CaseStatus.JC_SUBMITTED
    alice.goto(f"{base}/cases/{case.pk}/")
    alice.locator("#documents").scroll_into_view_if_needed()
    screenshot(alice, "issue6-applicant-7-case-documents")

    # The PDFs as the page offers them: every signature valid for poppler, and the verify page agrees.
    application = document_of(case, DocumentKind.JC_APPLICATION)
    agreement_pdf = download(alice, base, agreement, tmp_path / "agreement.pdf")
    application_pdf = download(alice, base, application, tmp_path / "jc_application.pdf")
    for path, signatures in ((agreement_pdf, 4), (application_pdf, 2)):
        report = pdfsig(path)
        assert report.count("Signature is Valid.") == signatures, report
        assert "Signature is Invalid" not in report and "Total document signed" in report  # nothing after the last
    for path, shot in ((agreement_pdf, "issue6-verify-agreement"), (application_pdf, "issue6-verify-jc")):
        verdict = verified_on_the_public_page(bob, base, path, shot)
        assert "与平台存档一致（最新版本）" in verdict
        assert bob.locator("[data-verdict=latest]").count() == 1

    # The steps are in the audit trail, and its hash chain is intact.
    def trail() -> tuple[list[str], str]:
        out = io.StringIO()
        call_command("verify_audit_chain", stdout=out)
        return list(AuditEvent.objects.filter(case=case).values_list("kind", flat=True)), out.getvalue()

    kinds, chain = off_loop(trail)
    assert kinds.count("agreement.clause_assented") == 4
    assert kinds.count("document.signed") == 6
    assert {"room.opened", "case.start_mediation", "agreement.started", "agreement.frozen", "room.ended",
            "case.agreement_signed", "case.apply_for_confirmation"} <= set(kinds)
    assert chain.startswith("OK:")
