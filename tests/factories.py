"""factory_boy factories for the domain. States are reached through services, never by writing status."""

from __future__ import annotations

import functools

import factory
from django.contrib.auth.hashers import make_password

from mediation.choices import CourtLevel, MediatorKind, OrganisationKind, Role, Sector
from mediation.models import MediatorProfile, Membership, Organisation, User
from mediation.validators import resident_id_check_char


def make_resident_id(seq: int, birth: str = "19850612") -> str:
    """A valid GB 11643 number (Beijing Dongcheng region code) for test person ``seq``."""
    first17 = f"110101{birth}{seq % 1000:03d}"
    return first17 + resident_id_check_char(first17)


TEST_PASSWORD = "pw-for-tests-only"


@functools.cache
def test_password_hash() -> str:
    """Hash the shared test password once: PBKDF2 per user would cost ~0.3 s each."""
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: f"用户{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    password = factory.LazyFunction(lambda: test_password_hash())


class CourtFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试第{n}基层人民法院")
    kind = OrganisationKind.COURT
    court_level = CourtLevel.BASIC


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试调解中心{n}")
    kind = OrganisationKind.PARTNER
    sector = Sector.LABOUR


def add_member(user: User, organisation: Organisation, role: Role) -> Membership:
    membership, _ = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    return membership


def make_mediator(organisation: Organisation, **profile: object) -> User:
    user = UserFactory()
    add_member(user, organisation, Role.MEDIATOR)
    MediatorProfile.objects.create(user=user, kind=profile.pop("kind", MediatorKind.INVITED), **profile)
    return user
