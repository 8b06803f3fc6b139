"""manage.py demo_mediation --mode court-filed: the seed's court-filed case （2026）京0101民初2001号 played through
the services to a 民事调解书 the judge signed and the court sealed, served on both parties, signed for by both and
in effect; written as mediation-document-signed.pdf, which passes pdfsig with both signatures."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from mediation.choices import CaseStatus
from mediation.management.commands.seed_demo import COURT_FILED_CASE_NUMBER, COURT_FILED_CASE_TITLE
from mediation.models import Case, ServiceRecord
from mediation.selectors.performance import enforceable_title

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_court_filed_demo_ends_with_a_signed_served_effective_mediation_document(tmp_path):
    out = tmp_path / "out"
    overrides = override_settings(DEBUG=True, MEDIA_ROOT=tmp_path / "media", DEV_CA_DIR=tmp_path / "dev-ca",
                                  SIGNING_CA="local")
    with overrides:
        call_command("seed_demo", stdout=io.StringIO())
        stdout = io.StringIO()
        call_command("demo_mediation", out=str(out), mode="court-filed", stdout=stdout)
        case = Case.objects.get(title=COURT_FILED_CASE_TITLE)
        assert case.status == CaseStatus.PERFORMANCE_TRACKING
        records = ServiceRecord.objects.filter(case=case, document_title="民事调解书")
        assert records.count() == 2 and all(r.effective_at is not None for r in records)
        title = enforceable_title(case)
        assert title is not None and (title.label, title.number) == ("民事调解书", COURT_FILED_CASE_NUMBER)
    path = out / "mediation-document-signed.pdf"
    assert path.exists()
    report = subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True, check=False).stdout
    assert report.count("Signature is Valid.") == 2
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-raw", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    text = "".join(text.split())
    for item in ("民事调解书", COURT_FILED_CASE_NUMBER, "原告：", "被告：", "本院予以确认", "经双方当事人签收后",
                 "案件受理费的负担", "审判员"):
        assert item in text, item
    assert "mediation-document-signed.pdf" in stdout.getvalue()


def test_the_court_filed_failure_demo_ends_at_the_fee_notice_with_the_failure_report(tmp_path):
    """``--outcome failure``: mediation ends without agreement, the failure report says the case goes to trial
    and the court's fee notice is served on the plaintiff; both PDFs are written out with the CJK font."""
    out = tmp_path / "out"
    overrides = override_settings(DEBUG=True, MEDIA_ROOT=tmp_path / "media", DEV_CA_DIR=tmp_path / "dev-ca",
                                  SIGNING_CA="local")
    with overrides:
        call_command("seed_demo", stdout=io.StringIO())
        stdout = io.StringIO()
        call_command("demo_mediation", out=str(out), mode="court-filed", outcome="failure", stdout=stdout)
        case = Case.objects.get(title=COURT_FILED_CASE_TITLE)
        assert case.status == CaseStatus.FEE_PENDING
        assert ServiceRecord.objects.filter(case=case, document_title="交纳案件受理费通知书").count() == 1
    texts = {}
    for name in ("failure-report.pdf", "fee-notice.pdf"):
        path = out / name
        assert path.exists(), name
        raw = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-raw", str(path), "-"],
                             capture_output=True, text=True, check=True).stdout
        texts[name] = "".join(raw.split())
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        assert "CJK" in fonts or "Noto" in fonts, fonts
    assert COURT_FILED_CASE_NUMBER in texts["failure-report.pdf"] and "审理" in texts["failure-report.pdf"]
    for item in ("交纳案件受理费通知书", COURT_FILED_CASE_NUMBER, "50.00"):
        assert item in texts["fee-notice.pdf"], item
    assert "fee-notice.pdf" in stdout.getvalue()
