"""Every audit kind the code writes has a human label, so no timeline shows a raw code."""

from __future__ import annotations

import re
from pathlib import Path

from mediation import transitions as tr
from mediation.audit_labels import _FIXED, _HELPER, _TIMER, _WITH_TITLE

ROOT = Path(__file__).resolve().parents[2] / "mediation"
HANDLED_SPECIALLY = {"mediator.chosen", "recusal.decided", "consent.granted", "consent.refused",
                     "performance.default_reported"}


def test_every_literal_audit_kind_in_the_code_has_a_label():
    kinds = set()
    for path in ROOT.rglob("*.py"):
        kinds |= set(re.findall(r'kind="([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert kinds, "the scan found nothing: the pattern is stale"
    labelled = set(_FIXED) | set(_TIMER) | set(_WITH_TITLE) | set(_HELPER) | HANDLED_SPECIALLY
    assert sorted(kinds - labelled) == []


def test_transition_kinds_are_labelled_by_their_target_status():
    assert all(row.audit_kind.startswith("case.") for row in tr.TRANSITIONS)
