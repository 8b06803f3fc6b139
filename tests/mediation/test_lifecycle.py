"""The lifecycle module (what each status means) agrees with the transition table; the case page's action bar
and the admin offer the same moves; one rule decides who accepts an assigned case (OMR 12, decisions D25)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django.urls import reverse

from frontend.views.case_actions import ACTION_PAGES, case_action_links
from mediation import lifecycle
from mediation import transitions as tr
from mediation.choices import CaseStatus
from mediation.exceptions import PermissionDenied
from mediation.permissions import may_take_action
from mediation.selectors.cases import case_actions_available
from mediation.services.assignment import mediator_accept

ROOT = Path(__file__).resolve().parents[2]
TABLE_STATUSES = {row.source for row in tr.TRANSITIONS} | {row.target for row in tr.TRANSITIONS}
GROUPS = {
    name: value for name, value in vars(lifecycle).items()
    if name.isupper() and isinstance(value, frozenset | tuple) and value and all(v in CaseStatus for v in value)
}
# Statuses a case reaches through the table without rendering documents (SIGNING, AGREEMENT_EFFECTIVE and
# TERMINATED render PDFs after commit, which the browserless suites cover).
STATUSES = [CaseStatus.SUBMITTED, CaseStatus.AWAITING_SELECTION, CaseStatus.ASSIGNED, CaseStatus.ACCEPTED,
            CaseStatus.IN_MEDIATION, CaseStatus.APPRAISAL_PAUSED]
PEOPLE = ["mediator", "other_mediator", "org_admin", "clerk", "other_clerk", "judge", "other_judge", "applicant",
          "respondent", "lawyer", "outsider"]


# --- The lifecycle names only statuses the table knows, and every group is used -----------------------------


def test_every_status_named_in_the_lifecycle_module_is_in_the_transition_table():
    source = inspect.getsource(lifecycle)
    named = {CaseStatus[name] for name in re.findall(r"\bS\.([A-Z_]+)\b", source)}
    assert named, "the module names statuses as S.<NAME>"
    for rule in lifecycle.TIMER_RULES.values():
        named |= {rule.starts_on, *rule.runs_during, *rule.paused_during}
        if rule.expiry_moves_to is not None:
            named.add(rule.expiry_moves_to)
    named |= set(lifecycle.STATUS_DOCUMENTS)
    for group in GROUPS.values():
        named |= set(group)
    assert named - TABLE_STATUSES == set()


def test_the_terminal_statuses_are_exactly_those_no_row_leaves():
    sources = {row.source for row in tr.TRANSITIONS}
    assert TABLE_STATUSES - sources == lifecycle.TERMINAL_STATUSES


def test_every_status_group_is_used():
    """By the code (or by a clock or another group of the lifecycle): a group nobody reads is a rule nobody keeps."""
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for package in ("mediation", "documents", "realtime", "frontend")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )
    assert len(GROUPS) >= 10
    unused = [name for name in GROUPS if len(re.findall(rf"\b{name}\b", code)) < 2]  # more than its definition
    assert unused == []


def test_the_documents_and_the_clocks_are_keyed_by_statuses_the_table_reaches():
    targets = {row.target for row in tr.TRANSITIONS}
    assert set(lifecycle.STATUS_DOCUMENTS) <= targets
    assert {rule.starts_on for rule in lifecycle.TIMER_RULES.values()} <= targets


# --- The action bar and the admin offer the same moves ------------------------------------------------------


def _admin_offers(client, user, case) -> list[str]:
    """The targets the admin's transition form lists for ``user`` (none when it refuses the page)."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    response = client.get(reverse("admin:mediation_case_transition", args=[case.pk]))
    if response.status_code == 404:
        return []
    select = re.search(r'<select name="target"[^>]*>(.*?)</select>', response.content.decode(), re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(1)) if select else []


@pytest.mark.django_db
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("who", PEOPLE)
def test_the_action_bar_and_the_admin_offer_the_same_moves(world, client, status, who):
    case = world.drive(world.new_case(), status)
    user = getattr(world, who)
    offered = case_actions_available(user=user, case=case)
    assert [row.target for row in offered] == _admin_offers(client, user, case)
    # Every button of the bar that takes a row of the table stands for one of those rows.
    pages = {reverse(page.url_name, args=[case.pk]) for page in ACTION_PAGES.values()}
    backing = {reverse(ACTION_PAGES[row.action].url_name, args=[case.pk]) for row in offered
               if row.action in ACTION_PAGES}
    for _label, href in case_action_links(user=user, case=case):
        if href in pages and href != reverse("case_choose", args=[case.pk]):
            assert href in backing, (who, status, href)


# --- Who accepts an assigned case (OMR 12): the designated mediator, in every place -----------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", PEOPLE)
def test_only_the_designated_mediator_accepts_an_assigned_case_everywhere(world, client, who):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    user = getattr(world, who)
    allowed = who == "mediator"
    assert tr.roles_for("mediator_accept") == {tr.MEDIATOR}
    assert may_take_action(user, case, "mediator_accept") is allowed
    accept = reverse("case_mediator_accept", args=[case.pk])
    assert (accept in [href for _label, href in case_action_links(user=user, case=case)]) is allowed
    assert (CaseStatus.ACCEPTED in _admin_offers(client, user, case)) is allowed
    client.force_login(user)
    page = client.get(accept)
    assert page.status_code == (200 if allowed else 404 if who in ("other_mediator", "other_clerk", "other_judge",
                                                                    "outsider") else 403)
    if allowed:
        assert mediator_accept(case=case, actor=user, disclosure="", nothing_to_disclose=True).status == (
            CaseStatus.ACCEPTED
        )
    else:
        with pytest.raises(PermissionDenied, match="只有本案被指定的调解员本人可以确认接受"):
            mediator_accept(case=case, actor=user, disclosure="", nothing_to_disclose=True)
        case.refresh_from_db()
        assert case.status == CaseStatus.ASSIGNED


@pytest.mark.django_db
def test_the_organisation_may_still_decline_with_reasons(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    assert may_take_action(world.org_admin, case, "mediator_decline")
    # deemed_refusal (OMR 14) is the organisation's too, once a change of mediator is on record (its service checks).
    assert [row.action for row in case_actions_available(user=world.org_admin, case=case)] == [
        "mediator_decline", "deemed_refusal", "recuse_mediator",
    ]
