"""Chinese first, English complete: every catalogue entry is translated and pages switch language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from mediation.choices import CaseStatus

PO = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs of a .po file, joining continued lines."""
    pairs = []
    for block in text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""\n"Project' not in block:
            pairs.append(("<fuzzy>", ""))
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)?\s*"(.*)"$', block.split("msgstr")[0], re.M))
        msgstr = "".join(re.findall(r'"(.*)"$', block.split("msgstr", 1)[1], re.M)) if "msgstr" in block else ""
        if msgid:
            pairs.append((msgid, msgstr))
    return pairs


def test_every_english_entry_is_translated_and_none_is_fuzzy():
    entries = _entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 300
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []


def test_choice_labels_follow_the_active_language():
    with translation.override("en"):
        assert str(CaseStatus.SUBMITTED.label) == "Submitted"
    with translation.override("zh-hans"):
        assert str(CaseStatus.SUBMITTED.label) == "已提交"


@pytest.mark.django_db
def test_the_english_home_page_is_in_english_and_offers_each_language_in_its_own_name(client):
    with translation.override("en"):
        url = reverse("home")
    page = client.get(url).content.decode()
    assert "Resolve disputes online" in page
    assert "在线化解纠纷" not in page
    assert ">简体中文</option>" in page
    assert ">English</option>" in page


@pytest.mark.django_db
def test_the_english_timeline_reads_as_english(world, client):
    case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    client.force_login(world.applicant)
    with translation.override("en"):
        url = reverse("case_detail", args=[case.pk])
    page = client.get(url).content.decode()
    assert "Status changed to: " in page
    assert "状态变更为" not in page
