"""Recording consents and notice acknowledgements against the exact text version shown (§B5)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.choices import Channel
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import Case, Consent, NoticeAcknowledgement, NoticeText, Party, User
from mediation.notices import StandardText
from mediation.services.audit import audit_append


def notice_text_publish(
    *, code: str, title: str, body: str, actor: User | None, language: str = "zh-hans"
) -> NoticeText:
    """Publish a text. If the latest version has the same body it is reused; otherwise a new version."""
    with transaction.atomic():
        latest = NoticeText.objects.filter(code=code, language=language).order_by("-version").first()
        if latest is not None and latest.body == body and latest.title == title:
            return latest
        text = NoticeText.objects.create(
            code=code, language=language, title=title, body=body, version=(latest.version + 1) if latest else 1
        )
        audit_append(
            kind="notice.published", actor=actor, stream="platform",
            data={"code": code, "version": text.version, "language": language, "sha256": text.sha256},
        )
    return text


def notice_text_current(std: StandardText) -> NoticeText:
    """The latest published version of a standard text (published from ``notices.py`` the first time asked)."""
    latest = NoticeText.objects.filter(code=std.code, language="zh-hans").order_by("-version").first()
    if latest is not None:
        return latest
    return notice_text_publish(code=std.code, title=std.title, body=std.body, actor=None)


def consent_record(
    *,
    case: Case,
    party: Party,
    actor: User,
    kind: str,
    granted: bool,
    text: NoticeText,
    channel: str = Channel.WEB,
    ip_address: str | None = None,
) -> Consent:
    """Record a party's answer to one consent question, at the case's current stage."""
    if party.case_id != case.pk:
        raise InvalidInput(_("当事人不属于本案。"))
    if party.user_id != actor.pk and not party.agents.filter(user=actor).exists():
        raise PermissionDenied(_("只能由当事人本人或其代理人作出同意。"))
    with transaction.atomic():
        consent = Consent.objects.create(
            case=case, party=party, user=actor, kind=kind, stage=case.status, granted=granted, text=text,
            channel=channel, given_at=timezone.now(), ip_address=ip_address,
        )
        audit_append(
            kind="consent.granted" if granted else "consent.refused", actor=actor, case=case,
            data={"party": party.pk, "consent": kind, "stage": case.status, "text": text.code,
                  "version": text.version, "text_sha256": text.sha256, "channel": channel},
        )
    return consent


def notice_acknowledge(
    *, case: Case, actor: User, text: NoticeText, channel: str = Channel.WEB
) -> NoticeAcknowledgement:
    with transaction.atomic():
        ack = NoticeAcknowledgement.objects.create(
            case=case, user=actor, text=text, channel=channel, acknowledged_at=timezone.now()
        )
        audit_append(
            kind="notice.acknowledged", actor=actor, case=case,
            data={"text": text.code, "version": text.version, "text_sha256": text.sha256, "channel": channel},
        )
    return ack


def consent_all_parties_granted(*, case: Case, kind: str, given_after: datetime.datetime | None = None) -> bool:
    """True when the case has parties and every party's latest answer to ``kind`` is a grant that has not
    been withdrawn. With ``given_after``, only answers given at or after that moment count (a consent to
    extend one period is not a consent to extend the next)."""
    parties = list(case.parties.all())
    if not parties:
        return False  # nobody agreed to anything
    for party in parties:
        answers = Consent.objects.filter(case=case, party=party, kind=kind)
        if given_after is not None:
            answers = answers.filter(given_at__gte=given_after)
        latest = answers.order_by("-given_at", "-pk").first()
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            return False
    return True
