"""When an electronic service takes effect (OLR 31), as a pure function of what each channel recorded.

OLR 31 para 1: to an address the recipient provided or confirmed, service is effective when the document
reaches that system. Para 2, to another address that can be confirmed as the recipient's: effective when
the recipient replies or acts on it (item 1); presumed effective when the system reports it read (item 2),
which the recipient may rebut; whichever happens first fixes the moment. A 调解书 is served only when the
recipient acknowledges it (``sign_for``). Several channels: the earliest effective one counts.

No ORM here: ``mediation.services.service`` feeds in the recorded moments and stores the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from mediation.choices import AddressSource, ServiceChannel, ServiceRule

# At the same moment a certain rule beats a presumption, and the platform beats the other channels, so
# the answer does not depend on the order the deliveries were given in.
_RULE_STRENGTH = {ServiceRule.ARRIVAL: 0, ServiceRule.REPLY: 1, ServiceRule.READ: 2}
_CHANNEL_ORDER = {c: i for i, c in enumerate(ServiceChannel.values)}


@dataclass(frozen=True)
class DeliveryMoments:
    """What one channel recorded. Times are aware datetimes or None (not yet happened)."""

    channel: str
    address_source: str
    sent_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    read_at: dt.datetime | None = None
    acted_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None  # the recipient's explicit "确认收到" over this channel


@dataclass(frozen=True)
class Effective:
    """The moment service took effect, over which channel, and by which paragraph of OLR 31."""

    at: dt.datetime
    channel: str
    rule: str


def channel_effective(delivery: DeliveryMoments, *, sign_for: bool = False) -> Effective | None:
    """When service over this one channel took effect, or None if it has not yet.

    ``sign_for``: a document that takes effect only when the recipient signs for it (a 调解书: CPL 100,
    Interp 133/149): neither arrival, nor a read, nor a download serves it, only the recipient's explicit
    acknowledgement (the REPLY rule, at that moment).

    A confirmed address counts from arrival. If arrival was never recorded (a provider that reports
    nothing back) the recipient's own reply or read still proves receipt, so para 2 applies to it too.
    For any other address service is effective at the *earliest* of a reply or action (item 1) and a
    reported read (item 2, a presumption the recipient may rebut), under the rule of whichever came first:
    once service has taken effect a later act cannot move it (periods run from the first moment), and a
    successful rebuttal of the read is a matter for the court, not for this function. At the same moment
    the certain rule (REPLY) is named.
    """
    if sign_for:
        if delivery.acknowledged_at is None:
            return None
        return Effective(at=delivery.acknowledged_at, channel=delivery.channel, rule=ServiceRule.REPLY)
    if delivery.address_source == AddressSource.CONFIRMED and delivery.arrived_at is not None:
        return Effective(at=delivery.arrived_at, channel=delivery.channel, rule=ServiceRule.ARRIVAL)
    if delivery.acted_at is not None and (delivery.read_at is None or delivery.acted_at <= delivery.read_at):
        return Effective(at=delivery.acted_at, channel=delivery.channel, rule=ServiceRule.REPLY)
    if delivery.read_at is not None:
        return Effective(at=delivery.read_at, channel=delivery.channel, rule=ServiceRule.READ)
    return None


def effective_service(deliveries: Iterable[DeliveryMoments], *, sign_for: bool = False) -> Effective | None:
    """The earliest effective channel of a service (OLR 31 para 3), or None while none is effective."""
    candidates = [e for e in (channel_effective(d, sign_for=sign_for) for d in deliveries) if e is not None]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda e: (e.at, _RULE_STRENGTH.get(ServiceRule(e.rule), 9), _CHANNEL_ORDER.get(e.channel, 99)),
    )
