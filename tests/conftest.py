"""Shared fixtures: the named world every permission test uses (court, partner organisation, mediator,
two parties, one with a lawyer, an outsider, a clerk and a judge)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from mediation import transitions as tr
from mediation.choices import (
    AgentAuthority,
    AgentKind,
    CaseOrigin,
    CaseStatus,
    CourtLevel,
    OrganisationKind,
    PartyRole,
    Role,
    Sector,
)
from mediation.lifecycle import POST_FILING
from mediation.models import Agent, Case, CaseMediator, Organisation, Party, User
from mediation.services.cases import case_create, case_transition
from tests.factories import CourtFactory, OrganisationFactory, UserFactory, add_member, make_mediator, make_resident_id
from tests.media_support import require_media_netns


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """Under pytest-xdist (`make test` PYTEST_WORKERS) each worker keeps its Redis keys under its own prefix,
    as pytest-django gives each its own test database (``test_<name>_gw0``). The variable is set in the
    worker's environment before Django reads its settings, so the channel layer, Celery and every process a
    test starts (a Celery worker) agree on it; the tests that delete "their" keys delete only the worker's."""
    prefix = os.environ.get("REDIS_PREFIX") or "yizhan"
    for number, spec in enumerate(specs):
        spec.env.setdefault("REDIS_PREFIX", f"{prefix}-gw{number}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under xdist's ``--dist loadgroup`` every WebRTC media test runs on one worker, one after another: two
    rooms of Chromium video at once on 2 cores starve each other's encoders ("no rising frames"). Runs before
    xdist's own hook, which reads the ``xdist_group`` marks into the node ids."""
    for item in items:
        if item.get_closest_marker("media") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group("media"))


@pytest.fixture(scope="session", autouse=True)
def _require_postgresql(django_db_setup, django_db_blocker):
    """The suite claims real PostgreSQL; refuse to pass quietly against SQLite."""
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.exit(
            f"The test suite runs against PostgreSQL, but DATABASE_URL points at {vendor}. "
            "Run it with `make test`, or set DATABASE_URL=postgres://... (see README).",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _media_in_namespace(request):
    """WebRTC media only inside the media namespace (tests/media_support.py)."""
    if request.node.get_closest_marker("media"):
        require_media_netns()


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings, tmp_path):
    """Audit checkpoints go to the test's own file: a checkpoint of a demo database in var/ would name
    streams this test's database never had."""
    settings.AUDIT_CHECKPOINT_PATH = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to /en/ leaves English active in the thread,
    and reverse() would then build /en/ URLs for the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@dataclass
class World:
    high_court: Organisation
    court: Organisation
    other_court: Organisation
    partner: Organisation
    other_partner: Organisation
    mediator: User
    other_mediator: User
    org_admin: User
    clerk: User
    other_clerk: User
    judge: User
    other_judge: User
    applicant: User
    respondent: User
    lawyer: User
    outsider: User

    def new_case(self, *, origin: str = CaseOrigin.PARTY_APPLICATION, one_sided: bool = False) -> Case:
        case = case_create(
            actor=self.applicant, origin=origin, court=self.court, dispute_type=Sector.LABOUR,
            title="劳动报酬纠纷", claims="支付拖欠工资 12,000 元", amount="12000.00",
            mediation_organisation=self.partner, one_sided=one_sided,
            court_case_number="（2026）京0101民初123号" if origin in POST_FILING else "",
            procedure="ordinary" if origin in POST_FILING else "",
        )
        applicant = Party.objects.create(
            case=case, user=self.applicant, role=PartyRole.APPLICANT, name=self.applicant.real_name,
            id_type="resident_id", id_number=make_resident_id(1), phone=self.applicant.phone,
        )
        respondent = Party.objects.create(
            case=case, user=self.respondent, role=PartyRole.RESPONDENT, name=self.respondent.real_name,
            id_type="resident_id", id_number=make_resident_id(2), phone=self.respondent.phone,
        )
        Agent.objects.create(
            party=respondent, user=self.lawyer, name=self.lawyer.real_name, kind=AgentKind.LAWYER,
            authority=AgentAuthority.SPECIAL, license_number="11101202610000001",
        )
        del applicant
        return case

    def actor_for(self, case: Case, row: tr.Transition) -> User | None:
        """Someone allowed to take ``row`` on ``case`` (None for platform-only rows)."""
        by_role = {
            tr.MEDIATOR: self.mediator, tr.CLERK: self.clerk, tr.JUDGE: self.judge, tr.PARTY: self.applicant,
            tr.APPLICANT: self.applicant, tr.RESPONDENT: self.respondent, tr.PARTY_AUTHORISED: self.applicant,
            tr.ORG_ADMIN: self.org_admin,
        }
        for role in (tr.MEDIATOR, tr.CLERK, tr.JUDGE, tr.PARTY, tr.APPLICANT, tr.RESPONDENT, tr.PARTY_AUTHORISED,
                     tr.ORG_ADMIN):
            if role in row.roles:
                return by_role[role]
        return None

    def everyone(self) -> dict[str, User | None]:
        """Every named actor, and None for the platform itself."""
        names = ["mediator", "other_mediator", "org_admin", "clerk", "other_clerk", "judge", "other_judge",
                 "applicant", "respondent", "lawyer", "outsider"]
        return {**{name: getattr(self, name) for name in names}, "platform": None}

    def drive(self, case: Case, target: str) -> Case:
        """Walk ``case`` to ``target`` along the shortest path of the transition table, through services."""
        path = shortest_path(case.status, target, case.origin)
        for row in path:
            if row.target == CaseStatus.ASSIGNED and not CaseMediator.objects.filter(case=case).exists():
                CaseMediator.objects.create(case=case, mediator=self.mediator)
            reason = sorted(row.reasons)[0] if row.reasons else ""
            case = case_transition(
                case=case, to=row.target, actor=self.actor_for(case, row), reason=reason,
                note="测试理由" if row.needs_note else "", via=row.via, action=row.action if row.explicit else None,
            )
        return case


def shortest_path(source: str, target: str, origin: str) -> list[tr.Transition]:
    """The shortest way through rows taken without a name; only where there is none, through rows taken by
    name too (a service's own step, such as the court-filed receipt of materials)."""
    for by_name in (False, True):
        frontier: list[tuple[str, list[tr.Transition]]] = [(source, [])]
        seen = {source}
        while frontier:
            state, path = frontier.pop(0)
            if state == target:
                return path
            for row in tr.transitions_from(source=state, origin=origin):
                if row.explicit and not by_name:
                    continue
                if row.target not in seen:
                    seen.add(row.target)
                    frontier.append((row.target, [*path, row]))
    raise LookupError(f"{target} is not reachable from {source} for origin {origin}")


@pytest.fixture
def world(db) -> World:
    high = Organisation.objects.create(
        name="北京市高级人民法院", kind=OrganisationKind.COURT, court_level=CourtLevel.HIGH
    )
    mid = Organisation.objects.create(
        name="北京市第二中级人民法院", kind=OrganisationKind.COURT, court_level=CourtLevel.INTERMEDIATE, parent=high
    )
    court = CourtFactory(name="北京市东城区人民法院", parent=mid, court_code="京0101")
    other_court = CourtFactory(name="北京市西城区人民法院", parent=mid, court_code="京0102")
    partner = OrganisationFactory(name="北京市总工会劳动争议调解中心", sector=Sector.LABOUR, parent=court)
    other_partner = OrganisationFactory(name="北京金融纠纷调解中心", sector=Sector.FINANCE)
    mediator = make_mediator(partner, specialties=[Sector.LABOUR], languages=["zh"])
    other_mediator = make_mediator(other_partner, specialties=[Sector.FINANCE])
    org_admin = UserFactory(username="org_admin", real_name="周主任")
    add_member(org_admin, partner, Role.ORG_ADMIN)
    clerk = UserFactory(username="clerk", real_name="陈书记员")
    add_member(clerk, court, Role.CLERK)
    other_clerk = UserFactory(username="other_clerk", real_name="外院书记员")
    add_member(other_clerk, other_court, Role.CLERK)
    judge = UserFactory(username="judge", real_name="李法官")
    add_member(judge, court, Role.JUDGE)
    other_judge = UserFactory(username="other_judge", real_name="外院法官")
    add_member(other_judge, other_court, Role.JUDGE)
    return World(
        high_court=high, court=court, other_court=other_court, partner=partner, other_partner=other_partner,
        mediator=mediator, other_mediator=other_mediator, org_admin=org_admin, clerk=clerk,
        other_clerk=other_clerk, judge=judge, other_judge=other_judge,
        applicant=UserFactory(username="alice", real_name="张三"),
        respondent=UserFactory(username="bob", real_name="李四"),
        lawyer=UserFactory(username="lawyer", real_name="王律师"),
        outsider=UserFactory(username="charlie", real_name="赵六"),
    )


@pytest.fixture
def president(world: World) -> User:
    """The court's president (院长): a membership role of its own, which approves a confirmation's extension.
    Kept out of ``world`` so the tests that count a court's staff stay as they are."""
    user = UserFactory(username="president", real_name="孙院长")
    add_member(user, world.court, Role.COURT_PRESIDENT)
    return user
