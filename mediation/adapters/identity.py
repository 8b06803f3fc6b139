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
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

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
        request = urllib.request.Request(  # noqa: S310 - the settings only accept http(s) URLs
            url, data=body, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                "Authorization": f"Bearer {settings.IDENTITY_PROVIDER_TOKEN}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read()[:200].decode("utf-8", "replace")
            raise IdentityProviderError(f"The identity provider answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise IdentityProviderError(f"The identity provider at {url} cannot be reached: {reason}") from exc
        if not 200 <= status < 300:
            raise IdentityProviderError(f"The identity provider answered HTTP {status}.")
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise IdentityProviderError("The identity provider's answer is not JSON.") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("match"), bool) or not answer.get("reference"):
            raise IdentityProviderError("The identity provider's answer has no match or no reference.")
        return NameIdMatch(matched=answer["match"], reference=str(answer["reference"])[:100], provider="http")


_PROVIDERS: dict[str, type[DevelopmentIdentityProvider] | type[HttpIdentityProvider]] = {
    "development": DevelopmentIdentityProvider,
    "http": HttpIdentityProvider,
}


def get_identity_provider() -> IdentityProvider:
    return _PROVIDERS[settings.IDENTITY_PROVIDER]()
