"""The pre-subset print font (documents/fonts.py): a document drawn with it keeps every character, those
outside the subset coming from the full Noto face, and every face is embedded (pdffonts, pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from documents.fonts import SOURCE, build_subset, with_subset_font
from documents.rendering import Renderer, cjk_font_available
from tests.documents.documents_support import pdf_text


@pytest.fixture(autouse=True)
def _noto_cjk_installed() -> None:
    # scripts/ensure-system.sh (make test) installs fonts-noto-cjk: a missing font is a failure, not a skip.
    assert SOURCE.is_file() and cjk_font_available(), f"{SOURCE} missing: run scripts/ensure-system.sh"

IN_SUBSET = "人民调解协议书"
OUTSIDE = "申请人张三赟"  # 赟 is not in GB 2312: the common subset would not have it either


def fonts_of(pdf: Path) -> list[list[str]]:
    out = subprocess.run(
        [shutil.which("pdffonts") or "pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [line.split() for line in out.splitlines()[2:]]


def test_a_document_keeps_every_character_with_the_subset_first_and_the_full_font_after(tmp_path):
    font = build_subset(tmp_path / "subset.otf", characters=map(ord, IN_SUBSET + "0123456789 "))
    html = (
        f"<html><head><meta charset='utf-8'></head><body><h1>{IN_SUBSET}</h1>"
        f"<p>{IN_SUBSET}{OUTSIDE}（第1条）</p></body></html>"
    )
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(Renderer(pdf_variant=None, subset_font=font).render(html).pdf)

    assert pdf_text(pdf) == f"{IN_SUBSET}{IN_SUBSET}{OUTSIDE}（第1条）".replace(" ", "") + "第1页共1页"
    fonts = fonts_of(pdf)
    names = [row[0].split("+", 1)[-1] for row in fonts]
    assert "Yizhan-Serif-CJK-SC" in names, fonts
    assert "Noto-Serif-CJK-SC" in names, fonts  # the characters outside the subset
    # Every face embedded and subset (the "emb" and "sub" columns), none left to the reader's machine.
    assert all(row[-5:-3] == ["yes", "yes"] for row in fonts), fonts


def test_without_the_built_font_the_stylesheet_is_unchanged(tmp_path):
    css = 'html { font-family: "Noto Serif CJK SC", serif; }'
    assert with_subset_font(css, tmp_path / "missing.otf") == css
    (tmp_path / "there.otf").write_bytes(b"x")
    assert '"Yizhan Serif CJK SC", "Noto Serif CJK SC"' in with_subset_font(css, tmp_path / "there.otf")
