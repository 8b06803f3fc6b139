"""manage.py demo_mediation: the demo case played through the services to a signed agreement, a submitted
confirmation application and the court's sealed and served ruling, then one instalment paid and one in default
with the 强制执行申请书 written out; the demo world's second application dismissed; every PDF written out passes
poppler's pdfsig and the verification check."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings

from documents.ca import ROOT_CERT
from documents.verification import Verdict, VerificationResult, verify_pdf
from mediation.choices import CaseStatus, ObligationStatus
from mediation.management.commands.seed_demo import CONFIRMATION_CASE_TITLE, DEMO_CASE_TITLE
from mediation.models import Case, Obligation, ServiceRecord

# One worker takes the whole module under pytest-xdist (--dist loadgroup): the demo fixture runs once per
# process, and it is the slow part.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo_mediation")]


def _pdfsig(path) -> str:
    return subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True, check=False).stdout


@dataclass
class Demo:
    out: Path
    text: str
    status: str
    second_status: str
    served: dict[str, int]
    obligations: list[str]
    verdicts: dict[str, VerificationResult]
    ca_root: bytes


@pytest.fixture(scope="module")
def demo(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[Demo]:
    """One run of the demo for the whole module (it takes a while), then the database emptied again, as a
    transactional test does."""
    base = tmp_path_factory.mktemp("demo")
    out = base / "out"
    overrides = override_settings(DEBUG=True, MEDIA_ROOT=base / "media", DEV_CA_DIR=base / "dev-ca",
                                  SIGNING_CA="local")
    with django_db_blocker.unblock(), overrides:
        try:
            stdout = io.StringIO()
            # The world as `make run` leaves it, with the demo case's session already scheduled: the demo
            # takes that session rather than clashing with it.
            call_command("seed_demo", room_session=True, stdout=io.StringIO())
            call_command("demo_mediation", out=str(out), stdout=stdout)
            finals = [*sorted(out.glob("*-signed.pdf")), out / "transcript-v1-original.pdf"]
            yield Demo(
                out=out, text=stdout.getvalue(), status=Case.objects.get(title=DEMO_CASE_TITLE).status,
                second_status=Case.objects.get(title=CONFIRMATION_CASE_TITLE).status,
                served={title: ServiceRecord.objects.filter(case__title=title, document_title="民事裁定书").count()
                        for title in (DEMO_CASE_TITLE, CONFIRMATION_CASE_TITLE)},
                obligations=list(Obligation.objects.filter(case__title=DEMO_CASE_TITLE).order_by("number")
                                 .values_list("status", flat=True)),
                verdicts={path.name: verify_pdf(data=path.read_bytes()) for path in finals},
                ca_root=(base / "dev-ca" / ROOT_CERT).read_bytes(),
            )
        finally:
            call_command("flush", interactive=False, verbosity=0)


def test_the_confirmation_ruling_was_served_on_both_parties(demo):
    assert demo.served[DEMO_CASE_TITLE] == 2


def test_the_second_application_is_dismissed_and_its_ruling_served(demo):
    assert demo.second_status == CaseStatus.JC_DISMISSED
    assert demo.served[CONFIRMATION_CASE_TITLE] == 2


@pytest.mark.parametrize("name", ["ruling-confirm-signed.pdf", "ruling-dismiss-signed.pdf"])
def test_both_rulings_carry_the_judges_signature_and_the_courts_seal(demo, name):
    report = _pdfsig(demo.out / name)
    assert report.count("Signature is Valid.") == 2
    assert "李法官" in report and "北京市东城区人民法院" in report


def test_the_demo_ends_with_the_confirmed_agreement_in_default_and_eligible_for_enforcement(demo):
    assert demo.status == CaseStatus.ENFORCEMENT_ELIGIBLE
    assert demo.obligations == [ObligationStatus.PERFORMED, ObligationStatus.DEFAULTED]
    assert "申请人确认收到" in demo.text and "报告未履行" in demo.text


def test_the_enforcement_application_is_written_with_its_facts_and_cjk_font(demo):
    path = demo.out / "enforcement-application.pdf"
    text = "".join(subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    for field in ["强制执行申请书", "申请执行人：张三", "被执行人：北京某科技有限公司", "民特", "调解协议第2条",
                  "6000.00", "调解协议第1条约定的义务已履行", "第二百五十条"]:
        assert field in text, field
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert any("CJK" in line and line.split()[-5:-2] == ["yes", "yes", "yes"] for line in fonts.splitlines()), fonts


def test_every_signature_on_the_agreement_passes_pdfsig(demo):
    report = _pdfsig(demo.out / "agreement-v1-signed.pdf")
    assert report.count("Signature is Valid.") == 4  # both parties, the mediator, the organisation's seal
    assert "Total document signed" in report


def test_both_signatures_on_the_confirmation_application_pass_pdfsig(demo):
    assert _pdfsig(demo.out / "jc_application-v1-signed.pdf").count("Signature is Valid.") == 2


def test_the_proof_of_presiding_carries_the_organisation_s_seal(demo):
    assert _pdfsig(demo.out / "presiding_proof-v1-signed.pdf").count("Signature is Valid.") == 1


def test_every_written_pdf_is_confirmed_by_verification(demo):
    results = demo.verdicts
    assert len(results) == 6  # agreement, application, proof, two rulings, transcript
    assert {name: r.verdict for name, r in results.items()} == dict.fromkeys(results, Verdict.LATEST)
    signed = [r for r in results.values() if r.embedded]
    assert signed and all(c.ok for r in signed for c in r.embedded)


def test_each_signed_revision_and_the_dev_ca_root_are_written(demo):
    assert sorted(p.name for p in (demo.out / "revisions").glob("agreement-*")) == [
        f"agreement-v1-sig{n}.pdf" for n in range(1, 5)]
    assert (demo.out / "dev-ca-root.pem").read_bytes() == demo.ca_root


def test_the_summary_names_each_document_its_code_and_a_pdfsig_hint(demo):
    assert "调解协议书（第1版，4 个签章）" in demo.text
    assert re.search(r"/verify/\?code=[A-Z0-9]+", demo.text)
    assert "pdfsig" in demo.text


def test_the_demo_refuses_to_run_with_debug_off(settings, tmp_path):
    settings.DEBUG = False  # as the test runner leaves it, and as production runs
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo_mediation", out=str(tmp_path / "x"), stdout=io.StringIO())


def test_the_confirmed_ruling_states_the_verification_held_and_the_dismissal_none(demo):
    def text(name: str) -> str:
        out = subprocess.run(["pdftotext", "-raw", str(demo.out / name), "-"], capture_output=True, text=True,
                             check=True).stdout
        return "".join(out.split())

    assert "法官在线视频询问双方当事人" in demo.text
    assert "通过在线视频组织询问" in text("ruling-confirm-signed.pdf")
    assert "询问笔录经" in text("ruling-confirm-signed.pdf")
    assert "组织询问" not in text("ruling-dismiss-signed.pdf")


def test_an_interpreter_takes_part_and_the_record_and_agreement_name_them_with_the_declaration(demo):
    assert "调解员邀请翻译人员 周明（为申请人" in demo.text
    for name in ("transcript-v1-original.pdf", *[p.name for p in demo.out.glob("agreement-*-original.pdf")]):
        text = "".join(subprocess.run(["pdftotext", "-raw", str(demo.out / name), "-"], capture_output=True,
                                      text=True, check=True).stdout.split())
        assert re.search(r"翻译人员：周明（为申请人\S+提供手语翻译）。该翻译人员已于\S+作出如实翻译的保证", text), name
