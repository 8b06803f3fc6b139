"""Domain errors. Each carries a message a person can act on; views and consumers show it as is."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a request that the rules refuse. ``str(exc)`` is shown to the user. ``field`` names the
    input it is about, when one is (so a page can show it there): "code", "handwriting"…"""

    code = "domain_error"
    field = ""


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"


class StaleState(DomainError):
    """Someone else changed the case first (compare-and-set failed)."""

    code = "stale_state"


class PermissionDenied(DomainError):
    code = "permission_denied"


class InvalidInput(DomainError):
    code = "invalid_input"
