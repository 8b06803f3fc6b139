"""Domain errors. Each carries a message a person can act on, and says what it means to each transport.

A class declares, once, how the error reaches a person (docs/decisions.md D28):

- ``status``: the HTTP status of a page (``frontend.middleware.DomainErrorMiddleware`` renders it);
- ``json_status`` and ``json_error``: the status and the ``"error"`` field of a JSON answer;
- ``close_code``: the close code of a socket refused while it connects (docs/protocol.md);
- ``frame_error``: the ``"code"`` of the ``error`` frame an open socket gets for a refused frame.

Raise the most precise class; views and consumers let it propagate to the boundary of their transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from mediation.models import Case, Room


class DomainError(Exception):
    """Base class: a request that the rules refuse. ``str(exc)`` is shown to the user.

    ``case`` (optional) is the case the refusal is about: the error page links back to it. ``room`` (optional)
    is the room a refusal to enter is about: the page says how its session ended. ``field`` (optional) names
    the input the refusal is about, when there is one ("code", "handwriting"…), so a page can show it there.
    """

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    json_status: ClassVar[int] = 400
    json_error: ClassVar[str] = "refused"
    close_code: ClassVar[int] = 4403
    frame_error: ClassVar[str] = "refused"

    def __init__(self, message: str = "", *, case: Case | None = None, room: Room | None = None) -> None:
        super().__init__(message)
        self.case = case
        self.room = room
        self.field = ""

    def json_extra(self) -> dict[str, Any]:
        """Fields a JSON answer carries besides ``error`` and ``message``."""
        return {}


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status = json_status = 409


class StaleState(DomainError):
    """Someone else changed the case first (compare-and-set failed)."""

    code = "stale_state"
    status = json_status = 409


class PermissionDenied(DomainError):
    """The person may see the thing but not do this with it (a party tries a mediator's control)."""

    code = "permission_denied"
    status = json_status = 403
    json_error = "forbidden"
    frame_error = "forbidden"


class NotFound(PermissionDenied):
    """Absent, or not yours: one answer for both, so nobody learns what exists by asking (an access helper
    raises it). A ``PermissionDenied`` too, so code that refuses either way catches both."""

    code = "not_found"
    status = json_status = 404
    json_error = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"
    json_error = "invalid"


# --- the mediation room (docs/protocol.md: "Getting in" and the close codes) -------------------------------


class NotSignedIn(DomainError):
    code = "not_signed_in"
    status = json_status = 401
    json_error = "not_signed_in"
    close_code = 4401


class TokenInvalid(DomainError):
    """No such join token for this room."""

    code = "token_invalid"
    status = json_status = 401
    json_error = "token_invalid"
    close_code = 4401


class TokenSpent(DomainError):
    """The join token was used or has expired."""

    code = "token_spent"
    status = json_status = 409
    json_error = "token_spent"
    close_code = 4409


class RoomEnded(DomainError):
    code = "room_ended"
    status = 409
    json_status = 410
    json_error = "ended"
    close_code = 4410


class MemberRemoved(DomainError):
    code = "removed"
    status = 409
    json_status = 403
    json_error = "removed"
    close_code = 4408


class RoomLocked(InvalidInput):
    """The mediator locked the room against newcomers."""

    code = "room_locked"
    status = json_status = 409
    json_error = "refused"
    close_code = 4423


class ChecksRequired(DomainError):
    """The identity re-check or the notices are not done for this room."""

    code = "checks_required"
    status = json_status = 409
    json_error = "checks_required"
    close_code = 4412


class NotAdmitted(PermissionDenied):
    """The member waits for the mediator to admit them: refused for now, not for good. JSON clients have
    always been told ``refused`` (400) for this; a socket still says ``forbidden``."""

    code = "not_admitted"
    status = 409
    json_status = 400
    json_error = "refused"


class NoticesRequired(InvalidInput):
    """Some required notices were not acknowledged; ``required`` lists their codes."""

    code = "notices_required"
    json_error = "notices_required"

    def __init__(self, message: str, *, required: list[str]) -> None:
        super().__init__(message)
        self.required = required

    def json_extra(self) -> dict[str, Any]:
        return {"required": self.required}
