"""A time-stamping authority (RFC 3161) behind one small interface: the audit checkpoints' outside witness.

``Rfc3161TimeStampAuthority`` asks a TSA over HTTP (pyHanko's client) for a token over a SHA-256 digest and
checks a token against the TSA certificates the settings trust. The tests run a real RFC 3161 HTTP exchange
against a local server that signs with a test TSA key (``tests/hardening/tsa_server.py``). No TSA configured
(``AUDIT_TSA_URL`` empty): ``time_stamp_authority()`` is None and checkpoints are signed locally only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Protocol

from django.conf import settings


class TimeStampUnavailable(Exception):
    """The TSA could not be reached or answered with an error."""


class TimeStampInvalid(Exception):
    """A token that does not cover the digest, is not signed by a trusted TSA, or cannot be read."""


class TimeStampAuthority(Protocol):
    def stamp(self, digest: bytes) -> bytes:
        """A DER-encoded RFC 3161 time-stamp token over the SHA-256 ``digest``."""
        ...

    def verify(self, token: bytes, digest: bytes) -> dt.datetime:
        """The time the token certifies for ``digest``; TimeStampInvalid otherwise."""
        ...


class Rfc3161TimeStampAuthority:
    def __init__(self, *, url: str, trust_pem: Path, timeout: int = 10) -> None:
        self.url = url
        self.trust_pem = Path(trust_pem)
        self.timeout = timeout

    def stamp(self, digest: bytes) -> bytes:
        from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper  # heavy; loaded on first use

        client = HTTPTimeStamper(self.url, timeout=self.timeout)
        try:
            token = asyncio.run(client.async_timestamp(digest, "sha256"))
        except Exception as exc:  # network errors, a TSA error status, a malformed response
            raise TimeStampUnavailable(f"time-stamping authority {self.url}: {exc}") from exc
        return bytes(token.dump())

    def _trusted(self) -> list[object]:
        from asn1crypto import pem, x509

        data = self.trust_pem.read_bytes()
        return [x509.Certificate.load(der) for _kind, _headers, der in pem.unarmor(data, multiple=True)]

    def verify(self, token: bytes, digest: bytes) -> dt.datetime:
        from asn1crypto import cms
        from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
        from pyhanko_certvalidator import ValidationContext

        try:
            content = cms.ContentInfo.load(token)
            signed = content["content"]
            context = ValidationContext(trust_roots=self._trusted(), allow_fetching=False)
            status = asyncio.run(validate_tst_signed_data(
                signed, context, lambda algorithm: digest if algorithm == "sha256" else b""))
        except TimeStampInvalid:
            raise
        except Exception as exc:
            raise TimeStampInvalid(f"time-stamp token cannot be verified: {exc}") from exc
        if not status.get("intact") or not status.get("valid"):
            raise TimeStampInvalid("time-stamp token does not cover this checkpoint or its signature is broken")
        if status.get("trust_problem_indic") is not None:
            raise TimeStampInvalid("time-stamp token is not signed by a trusted time-stamping authority")
        return status["timestamp"]


def time_stamp_authority() -> TimeStampAuthority | None:
    """The TSA the settings name, or None when checkpoints are signed locally only."""
    if not settings.AUDIT_TSA_URL:
        return None
    return Rfc3161TimeStampAuthority(url=settings.AUDIT_TSA_URL, trust_pem=Path(settings.AUDIT_TSA_TRUST),
                                     timeout=settings.AUDIT_TSA_TIMEOUT)
