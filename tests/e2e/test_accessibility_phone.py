"""axe-core over the party pages, the room's way in and the room, and signing, on a 360×640 phone, in the normal
mode and in the elder mode (长辈版): zero serious or critical violations. In the elder mode the page also keeps
the national 适老化 figures: visible text at least 24 px (18 pt), touch targets at least 60 × 60 px (contrast is
axe's color-contrast rule, 4.5:1). Screenshots of the elder mode go to tests/e2e/artifacts/elder-*.png.

axe-core is the npm registry's file, vendored in tests/e2e/vendor/axe-core/ and put into each page through
DevTools (``add_init_script``): never served by the site, and the site's CSP is not loosened for it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from mediation.choices import CaseStatus
from mediation.models import User
from mediation.services import applications as apps
from tests.apply_support import complete_draft, step_answers, verify_identity
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import sign_in
from tests.room_support import last_code, open_room
from tests.signing_support import dev_ca_dir, ready_to_sign, signing_env  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("signing_env")]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SMALL = {"width": 360, "height": 640}
BLOCKING = {"serious", "critical"}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").slice(0, 160))}));
}"""

# The figures of the elder mode, measured on what is on the page: every visible piece of text at least 24 px,
# every control at least 60 × 60 (a checkbox or radio counts by its label, which is what a finger taps).
ELDER_FIGURES = """() => {
  const shown = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || !shown(el) || el.closest(".sr-only, option, video, canvas, svg")) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 23.5) bad.push(`text ${size}px: ${node.textContent.trim().slice(0, 24)}`);
  }
  const controls = "button, .button, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
    + " label:has(> input[type=checkbox]), label:has(> input[type=radio]), nav a";
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el) || el.closest(".sr-only")) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 59.5 || r.height < 59.5) {
      bad.push(`target ${Math.round(r.width)}x${Math.round(r.height)}: <${el.tagName.toLowerCase()} id=${el.id}`
        + ` class=${el.className}> ${(el.textContent || el.getAttribute("name") || "").trim().slice(0, 24)}`);
    }
  }
  return bad;
}"""


def axe_page(browser):  # type: ignore[no-untyped-def]
    """A 360×640 phone in its own context with axe-core in every page it opens."""
    context = browser.new_context(viewport=SMALL, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    context.add_init_script(path=str(AXE))
    return context.new_page()


class Audit:
    """Collects what axe and the elder figures find on every page visited, and names each page once."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.pages: set[str] = set()

    def check(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        page.wait_for_load_state("load")
        elder = page.evaluate("() => document.documentElement.classList.contains('elder')")
        label = f"{'elder' if elder else 'normal'} {name} ({page.url.split('//', 1)[-1].split('/', 1)[-1]})"
        self.pages.add(label)
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] in BLOCKING:
                self.problems.append(
                    f"{label}: axe {violation['id']} ({violation['impact']}) {violation['help']}: "
                    + " | ".join(violation["nodes"])
                )
        if elder:
            self.problems.extend(f"{label}: {bad}" for bad in page.evaluate(ELDER_FIGURES))
            screenshot(page, f"elder-{name}-360x640")

    def visit(self, page, base: str, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
        response = page.goto(base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.check(page, name)

    def assert_clean(self) -> None:
        assert self.problems == [], f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


def switch_elder(page, *, on: bool) -> None:  # type: ignore[no-untyped-def]
    page.click(f"button[name=elder][value={'on' if on else 'off'}]")
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.documentElement.classList.contains('elder')") is on


def test_the_vendored_axe_is_the_pinned_release():
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256
    assert f"axe v{AXE_VERSION}" in AXE.read_text(encoding="utf-8")[:200]


def test_party_pages_pass_axe_in_normal_and_elder_mode(asgi_live_server, world, browser):
    def setup() -> tuple[Any, Any, Any, str]:
        verify_identity(world.applicant)
        case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
        choosing = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
        document = ready_to_sign(world)
        complete_draft(world, world.applicant)  # every step of the application can be opened
        answers = step_answers(world)
        prepared = apps.application_prepare(  # a partner's prepared application waiting for the party (D39)
            actor=world.org_admin, organisation=world.partner, name=world.applicant.real_name,
            phone=world.applicant.phone, data={step: answers[step] for step in apps.PREPARED_STEPS},
        )
        return case, choosing, document, prepared.claim_code

    case, choosing, document, prepared_code = off_loop(setup)
    base = asgi_live_server.url
    audit = Audit()
    signed_out = [
        ("/", "home-anon"),
        ("/accounts/login/", "login"),
        ("/accounts/phone/", "phone-login"),
        ("/verify/", "verify"),
    ]
    signed_in = [
        ("/", "home"),
        ("/start/", "landing"),
        ("/cases/", "case-list"),
        (f"/cases/{case.pk}/", "case"),
        (f"/cases/{case.pk}/sessions/", "sessions"),
        ("/inbox/", "inbox"),
        ("/calendar/", "calendar"),
        ("/mediators/", "mediators"),
        ("/accounts/phone/identity/", "identity"),
        ("/apply/dispute/", "apply-dispute"),
        ("/apply/parties/", "apply-parties"),
        ("/apply/claims/", "apply-claims"),
        ("/apply/evidence/", "apply-evidence"),
        ("/apply/notices/", "apply-notices"),
        ("/apply/address/", "apply-address"),
        ("/apply/review/", "apply-review"),
        (f"/apply/prepared/{prepared_code}/", "apply-prepared"),
        (f"/cases/{case.pk}/contact/", "contact"),
        (f"/cases/{choosing.pk}/choose/", "choose-mediator"),
        (f"/service/address/{case.pk}/", "service-address"),
        (f"/cases/{document.case_id}/agreement/", "agreement"),
        (f"/documents/{document.pk}/", "document"),
        (f"/documents/{document.pk}/sign/", "signing"),
    ]

    page = axe_page(browser)
    for path, name in signed_out:
        audit.visit(page, base, path, name)
    screenshot(page, "normal-verify-360x640")  # the 长辈版 switch as everyone first sees it
    # A party who came by a link and has not signed in switches the elder mode on: a cookie keeps it ...
    page.goto(base + "/accounts/phone/")
    switch_elder(page, on=True)
    assert page.url.endswith("/accounts/phone/")
    for path, name in signed_out:
        audit.visit(page, base, path, name)
    # ... through signing in, onto the account.
    sign_in(page, base, world.applicant.username)
    assert page.evaluate("() => document.documentElement.classList.contains('elder')")
    assert off_loop(lambda: User.objects.get(pk=world.applicant.pk).elder_mode) is True
    for path, name in signed_in:
        audit.visit(page, base, path, name)
    switch_elder(page, on=False)
    assert off_loop(lambda: User.objects.get(pk=world.applicant.pk).elder_mode) is False
    for path, name in signed_in:
        audit.visit(page, base, path, name)

    # Remembered by the account, not the browser: a fresh phone with no cookie, signed in, is drawn large.
    off_loop(lambda: User.objects.filter(pk=world.respondent.pk).update(elder_mode=True))
    other = axe_page(browser)
    sign_in(other, base, world.respondent.username)
    assert other.evaluate("() => document.documentElement.classList.contains('elder')")
    assert other.context.cookies() and all(c["name"] != "yizhan_elder" for c in other.context.cookies())

    audit.assert_clean()
    assert len(audit.pages) == 2 * (len(signed_out) + len(signed_in))


def pass_room_checks_audited(page, audit: Audit, *, phone: str) -> None:  # type: ignore[no-untyped-def]
    """The party's way into the room (pass_room_checks, with axe on each step)."""
    page.wait_for_selector("h1:has-text('身份核验')")
    audit.check(page, "room-identity")
    page.click("button[value=send]")
    page.wait_for_selector("#id_code")
    audit.check(page, "room-identity-code")
    page.fill("#id_code", off_loop(lambda: last_code(phone)))
    page.click("button[value=verify]")
    page.wait_for_selector("h1:has-text('入会前自检')")
    page.wait_for_function("() => document.getElementById('device-preview').srcObject !== null")
    audit.check(page, "room-device")
    page.check("input[name=accept_rules]")
    page.click(".rm-device-form button[data-enter]")
    page.wait_for_selector("h1:has-text('调解告知事项')")
    audit.check(page, "room-notices")
    for box in page.locator("input[name=notice]").all():
        box.check()
    page.check("input[name=consent_caucus][value=yes]")
    page.click("form.stack > button.primary")
    page.wait_for_selector("#room")
    page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
    audit.check(page, "room")


def test_the_room_passes_axe_in_normal_and_elder_mode(asgi_live_server, world, browser):
    _case, session, _room = off_loop(lambda: open_room(world))
    off_loop(lambda: User.objects.filter(pk=world.respondent.pk).update(elder_mode=True))
    base = asgi_live_server.url
    audit = Audit()
    for user in (world.applicant, world.respondent):  # the applicant in the normal mode, the respondent in elder
        page = axe_page(browser)
        sign_in(page, base, user.username)
        page.goto(f"{base}/sessions/{session.pk}/room/")
        pass_room_checks_audited(page, audit, phone=user.phone)
    audit.assert_clean()
    assert {label.split(" ", 1)[0] for label in audit.pages} == {"normal", "elder"}
    assert len(audit.pages) == 10


def test_read_aloud_says_when_no_voice_is_available(asgi_live_server, world, browser):
    """Headless Chromium has speech synthesis but no voices: the 朗读 button says so instead of failing."""
    off_loop(lambda: User.objects.filter(pk=world.applicant.pk).update(elder_mode=True))
    page = axe_page(browser)
    sign_in(page, asgi_live_server.url, world.applicant.username)
    page.click("#read-aloud")
    assert "无法朗读" in page.text_content("#read-aloud-status")
    # With a Chinese voice, it reads <main>'s text in zh-CN (the browser's own synthesis, observed here).
    page.evaluate("""() => {
      window.__spoken = [];
      window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
      speechSynthesis.getVoices = () => [{lang: "en-US", name: "en"}, {lang: "zh-CN", name: "zh"}];
      speechSynthesis.speak = (u) => { window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice.name}); };
    }""")
    page.click("#read-aloud")
    spoken = page.evaluate("() => window.__spoken")
    assert len(spoken) == 1 and spoken[0]["lang"] == "zh-CN" and spoken[0]["voice"] == "zh"
    assert "我的案件" in spoken[0]["text"] or page.text_content("main").strip()[:4] in spoken[0]["text"]
    assert page.text_content("#read-aloud") == "停止朗读"
    page.click("#read-aloud")
    assert page.text_content("#read-aloud") == "朗读"


def test_the_respondents_page_from_the_sms_passes_axe_in_normal_and_elder_mode(asgi_live_server, world, browser):
    def setup() -> Any:
        verify_identity(world.respondent, seq=2)
        return world.drive(world.new_case(), CaseStatus.RESPONDENT_PENDING)

    case = off_loop(setup)
    base = asgi_live_server.url
    audit = Audit()
    page = axe_page(browser)
    page.goto(f"{base}/cases/{case.pk}/respond/")  # not signed in: the phone sign-in page, as the SMS link opens
    audit.check(page, "respond-sign-in")
    sign_in(page, base, world.respondent.username, next_path=f"/cases/{case.pk}/respond/")
    page.wait_for_selector("button[value=yes]")
    audit.check(page, "respond")
    switch_elder(page, on=True)
    page.wait_for_selector("button[value=yes]")
    audit.check(page, "respond")
    audit.assert_clean()
    assert len(audit.pages) == 3
