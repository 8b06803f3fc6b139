"""Issue 17 item 9 (part): signed legal PDFs leave out what the form never asked (a party's ethnicity and
occupation) instead of printing "（未填写）", and carry no empty "签署时间：" line under the boxes (the visible
signature shows its own time)."""

from __future__ import annotations

import pytest

from documents.services.issuing import build_data, render_document
from mediation.choices import CaseStatus, DocumentKind
from tests.documents.documents_support import make_case, pdf_text

pytestmark = pytest.mark.django_db


def test_an_agreement_leaves_out_what_was_never_asked_and_has_no_empty_signing_time(world, tmp_path):
    fx = make_case(world, to=CaseStatus.SIGNING)
    data = build_data(case=fx.case, kind=DocumentKind.AGREEMENT, agreement=fx.agreement)
    for party in data["parties"]:
        party["ethnicity"], party["occupation"] = "", ""
    pdf, _pages, _boxes = render_document(data=data, code="TESTCODE22", version=1)
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "民族：（未填写）" not in text and "职业/工作单位：（未填写）" not in text
    assert "签署时间：" not in text


def _blank_what_the_forms_never_ask(data: dict) -> None:
    """Empty every optional field a document prints, as a case whose forms never asked for them would have."""
    for party in data.get("parties", []):
        party["ethnicity"] = party["occupation"] = party["legal_representative_title"] = ""
        for agent in party.get("agents", []):
            agent["id_number"] = ""
    if data.get("organisation"):
        data["organisation"]["registration_number"] = data["organisation"]["address"] = ""
    case = data.get("case", {})
    if case.get("origin") != "entrusted":
        case["referral_number"] = case["court_case_number"] = ""
    for clause in (data.get("agreement") or {}).get("clauses", []):
        clause["place"] = ""
    for session in data.get("sessions", []):
        session["outcome_label"] = session["outcome"] = ""


@pytest.mark.parametrize("kind", [DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT])
def test_no_document_prints_a_placeholder_for_what_the_forms_never_ask(world, tmp_path, kind):
    fx = make_case(world, to=CaseStatus.SIGNING)
    data = build_data(case=fx.case, kind=kind, agreement=fx.agreement)
    _blank_what_the_forms_never_ask(data)
    pdf, _pages, _boxes = render_document(data=data, code="TESTCODE23", version=1)
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "（未填写）" not in text
    assert "职务：" not in text and "委派/诉前调解编号" not in text
