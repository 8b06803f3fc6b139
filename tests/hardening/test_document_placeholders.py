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
