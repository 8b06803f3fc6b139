"""Matching a name to a resident ID number (legal-rules §B5): the identity-authentication provider.
``get_identity_provider()`` picks one by ``settings.IDENTITY_PROVIDER``:

- ``development``: no provider; a name matches unless it contains "不符" (so the demo and the tests can
  show a mismatch). Never for production: the system check mediation.E002 refuses it with DEBUG off.
- ``http``: the provider's HTTP API (``settings.IDENTITY_PROVIDER_URL``), authenticated with a bearer token:
  ``POST {"name", "id_number"}`` as JSON, a 2xx answer ``{"match": true|false, "reference": "..."}``.

The provider's reference is kept with the check (``IdentityVerification.provider_reference``) and in the
audit trail, so a later dispute can be taken back to the provider's own record.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from mediation.adapters.http import post_json

HTTP_TIMEOUT_SECONDS = 5


class IdentityProviderError(Exception):
    """The provider could not be asked or gave no usable answer. The text is for the operator's log."""


@dataclass(frozen=True)
class NameIdMatch:
    matched: bool
    reference: str
    provider: str


class IdentityProvider(Protocol):
    def match(self, *, name: str, id_number: str) -> NameIdMatch:
        """Whether ``name`` is the name registered for ``id_number``; raise IdentityProviderError."""
        ...


class DevelopmentIdentityProvider:
    def match(self, *, name: str, id_number: str) -> NameIdMatch:
        return NameIdMatch(matched="不符" not in name, reference=f"dev-{uuid.uuid4().hex[:16]}", provider="development")


class HttpIdentityProvider:
    def match(self, *, name: str, id_number: str) -> NameIdMatch:
        url = settings.IDENTITY_PROVIDER_URL
        if not url:
            raise IdentityProviderError("IDENTITY_PROVIDER_URL is not set.")
        body = json.dumps({"name": name, "id_number": id_number}, ensure_ascii=False).encode("utf-8")
        answer = post_json(
            url=url, body=body, timeout=HTTP_TIMEOUT_SECONDS, service="The identity provider",
            error=IdentityProviderError, headers={
                "Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                "Authorization": f"Bearer {settings.IDENTITY_PROVIDER_TOKEN}",
            },
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("match"), bool) or not answer.get("reference"):
            raise IdentityProviderError("The identity provider's answer has no match or no reference.")
        return NameIdMatch(matched=answer["match"], reference=str(answer["reference"])[:100], provider="http")


_PROVIDERS: dict[str, type[DevelopmentIdentityProvider] | type[HttpIdentityProvider]] = {
    "development": DevelopmentIdentityProvider,
    "http": HttpIdentityProvider,
}


def get_identity_provider() -> IdentityProvider:
    return _PROVIDERS[settings.IDENTITY_PROVIDER]()
