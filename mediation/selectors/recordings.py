"""Who may watch a recording (issue 14 item 2): the people who were in the recorded space, and the judges of
the case's court. Everyone else, including a party of the same case who was waiting outside a caucus, is
answered ``NotFound`` (absent and not yours read the same)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import ConsentKind, RecordingStatus
from mediation.exceptions import NotFound
from mediation.models import Case, Consent, Recording, RecordingFile, User
from mediation.permissions import case_roles


def recording_may_view(user: User | None, recording: Recording) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.pk in recording.present_users or tr.JUDGE in case_roles(user, recording.case)


def recordings_for_case(*, user: User, case: Case) -> list[Recording]:
    """The case's recordings ``user`` may watch, newest first, with their files."""
    judge = tr.JUDGE in case_roles(user, case)
    rows = (Recording.objects.filter(case=case).select_related("case").prefetch_related("files__member")
            .order_by("-started_at"))
    return [r for r in rows if judge or user.pk in r.present_users]


def recording_file_for_user(*, user: User, pk: int) -> RecordingFile:
    file = RecordingFile.objects.select_related("recording__case").filter(pk=pk).first()
    if file is None or file.recording.status != RecordingStatus.READY or not recording_may_view(user, file.recording):
        raise NotFound(_("没有找到该录音录像，或您无权查看。"))
    return file


def recording_replaces_record(case: Case) -> bool:
    """OMR 22: a recording replaces the written record only when every party's latest answer to that question
    is an explicit, standing consent. (The undisputed facts are confirmed in writing either way.)"""
    parties = list(case.parties.values_list("pk", flat=True))
    if not parties:
        return False
    for party in parties:
        latest = (Consent.objects.filter(case=case, party_id=party, kind=ConsentKind.RECORDING_REPLACES_TRANSCRIPT)
                  .order_by("-given_at", "-pk").first())
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            return False
    return True
