"""Print a join URL and a single-use token for a demo participant, so that a client written by someone
else can be tested against a running server (docs/protocol.md, "Getting in"). Development only."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mediation.choices import SessionKind, SessionStatus
from mediation.exceptions import DomainError
from mediation.models import Case, CaseMediator, MediationSession, User
from mediation.services import room_entry
from mediation.services.scheduling import case_allows_scheduling, session_schedule

COMMAND = "join_link"


class Command(BaseCommand):
    help = "Print the room URL, WebSocket URL and a join token for --as <username> in --case <reference>."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", required=True, help="the case reference, e.g. YZ2026000001")
        parser.add_argument("--as", dest="username", required=True, help="the demo participant's username")
        parser.add_argument("--session", type=int, help="a session id (default: the case's next scheduled one)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("join_link records identity checks as done: it runs only with DEBUG=1.")
        case = Case.objects.filter(reference=options["case"]).first()
        if case is None:
            raise CommandError(f"No case {options['case']!r}.")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        session = self._session(case, options.get("session"))
        try:
            room = room_entry.room_for_session(session=session, actor=user)
            member = room_entry.room_member_get_or_create(room=room, user=user)
            member = room_entry.room_checks_record_by_command(member=member, command=COMMAND)
            token, row = room_entry.room_token_issue(member=member)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        site = urlsplit(str(settings.SITE_URL))
        ws_scheme = "wss" if site.scheme == "https" else "ws"
        page = urljoin(str(settings.SITE_URL), page_path(room.pk))
        self.stdout.write(f"room:    {room.pk} (case {case.reference}, session {session.pk}, "
                          f"{member.get_role_display()} {member.display_name}, {member.get_state_display()})")
        self.stdout.write(f"page:    {page}")
        self.stdout.write(f"ws:      {ws_scheme}://{site.netloc}/ws/room/{room.pk}/?token={token}")
        self.stdout.write(f"token:   {token}")
        self.stdout.write(f"expires: {row.expires_at.isoformat()}")

    def _session(self, case: Case, session_id: int | None) -> MediationSession:
        sessions = MediationSession.objects.filter(case=case)
        if session_id is not None:
            found = sessions.filter(pk=session_id).first()
            if found is None:
                raise CommandError(f"No session {session_id} in case {case.reference}.")
            return found
        upcoming = sessions.filter(status=SessionStatus.SCHEDULED, ends_at__gt=timezone.now()).order_by("starts_at")
        found = upcoming.first()
        if found is not None:
            return found
        # A demo convenience: schedule one now as the presiding mediator when the case allows it.
        presiding = CaseMediator.objects.filter(case=case, is_active=True).order_by("-presiding", "pk").first()
        if presiding is None or not case_allows_scheduling(case):
            raise CommandError(f"Case {case.reference} has no scheduled session and none can be scheduled now.")
        start = timezone.now() + dt.timedelta(minutes=2)
        try:
            session = session_schedule(case=case, actor=presiding.mediator, kind=SessionKind.JOINT_ONLINE,
                                       starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                       note="join_link 为演示安排的调解活动")
        except DomainError as exc:
            raise CommandError(f"Could not schedule a session: {exc}") from exc
        self.stdout.write(f"scheduled session {session.pk} at {session.starts_at.isoformat()}")
        return session


def page_path(room_id: int) -> str:
    """The room page of the phone UI (the documented path if the UI is not installed)."""
    try:
        return reverse("room_page", args=[room_id])
    except NoReverseMatch:
        return f"/rooms/{room_id}/"
