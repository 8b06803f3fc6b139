import pytest

from mediation.choices import CaseStatus


@pytest.mark.django_db
def test_demo_case_walks_to_closed_settled(world):
    case = world.new_case()
    case = world.drive(case, CaseStatus.CLOSED_SETTLED)
    assert case.status == CaseStatus.CLOSED_SETTLED
    assert case.audit_events.count() > 5
