"""Display preferences a person keeps with their account: the elder mode (长辈版, the national 适老化 rules)."""

from __future__ import annotations

from mediation.models import User


def user_elder_mode_set(*, user: User, on: bool) -> bool:
    """Remember the elder mode on ``user``'s account. A display preference, not an act on a case: no audit
    event (D40). Returns the new setting."""
    if user.elder_mode != on:
        user.elder_mode = on
        user.save(update_fields=["elder_mode"])
    return on
