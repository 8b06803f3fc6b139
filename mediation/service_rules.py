"""When an electronic service takes effect (OLR 31), as a pure function of what each channel recorded.

OLR 31 para 1: to an address the recipient provided or confirmed, service is effective when the document
reaches that system. Para 2, to another address that can be confirmed as the recipient's: effective when
the recipient replies or acts on it (item 1); presumed effective when the system reports it read (item 2),
which the recipient may rebut. Several channels: the earliest effective one counts.

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


@dataclass(frozen=True)
class Effective:
    """The moment service took effect, over which channel, and by which paragraph of OLR 31."""

    at: dt.datetime
    channel: str
    rule: str


def channel_effective(delivery: DeliveryMoments) -> Effective | None:
    """When service over this one channel took effect, or None if it has not yet.

    A confirmed address counts from arrival. If arrival was never recorded (a provider that reports
    nothing back) the recipient's own reply or read still proves receipt, so para 2 applies to it too.
    For any other address a reply or action is proof (item 1); a read is only a presumption (item 2), so
    once the recipient acts the certain rule replaces the presumption, even if that moves the time later
    (a later effective time never shortens a period running against the recipient).
    """
    if delivery.address_source == AddressSource.CONFIRMED and delivery.arrived_at is not None:
        return Effective(at=delivery.arrived_at, channel=delivery.channel, rule=ServiceRule.ARRIVAL)
    if delivery.acted_at is not None:
        return Effective(at=delivery.acted_at, channel=delivery.channel, rule=ServiceRule.REPLY)
    if delivery.read_at is not None:
        return Effective(at=delivery.read_at, channel=delivery.channel, rule=ServiceRule.READ)
    return None


def effective_service(deliveries: Iterable[DeliveryMoments]) -> Effective | None:
    """The earliest effective channel of a service (OLR 31 para 3), or None while none is effective."""
    candidates = [e for e in (channel_effective(d) for d in deliveries) if e is not None]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda e: (e.at, _RULE_STRENGTH.get(ServiceRule(e.rule), 9), _CHANNEL_ORDER.get(e.channel, 99)),
    )
