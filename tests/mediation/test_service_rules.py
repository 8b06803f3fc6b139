"""OLR 31 as a pure function: a confirmed address counts from arrival, any other from a reply or action (or,
presumed, from a read), and of several channels the earliest effective one wins."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from mediation.choices import AddressSource, ServiceChannel, ServiceRule
from mediation.service_rules import DeliveryMoments, Effective, channel_effective, effective_service

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
CONFIRMED = AddressSource.CONFIRMED
OTHER = AddressSource.OTHER


def minutes(n: int) -> dt.datetime:
    return T + dt.timedelta(minutes=n)


def test_a_confirmed_address_is_served_when_the_document_arrives_in_its_system():
    sms = DeliveryMoments(ServiceChannel.SMS, CONFIRMED, sent_at=minutes(0), arrived_at=minutes(1))
    assert channel_effective(sms) == Effective(at=minutes(1), channel=ServiceChannel.SMS, rule=ServiceRule.ARRIVAL)


def test_a_confirmed_address_is_served_on_arrival_even_if_nobody_ever_reads_it():
    sms = DeliveryMoments(ServiceChannel.SMS, CONFIRMED, arrived_at=minutes(1), read_at=None, acted_at=None)
    assert effective_service([sms]).rule == ServiceRule.ARRIVAL


def test_a_confirmed_address_that_has_not_arrived_is_not_served_yet():
    assert channel_effective(DeliveryMoments(ServiceChannel.EMAIL, CONFIRMED, sent_at=minutes(0))) is None


def test_a_confirmed_address_without_a_recorded_arrival_is_served_when_the_recipient_shows_they_received_it():
    read = DeliveryMoments(ServiceChannel.SMS, CONFIRMED, read_at=minutes(7))
    assert channel_effective(read) == Effective(at=minutes(7), channel=ServiceChannel.SMS, rule=ServiceRule.READ)
    acted = DeliveryMoments(ServiceChannel.SMS, CONFIRMED, acted_at=minutes(9))
    assert channel_effective(acted).rule == ServiceRule.REPLY
    read_then_acted = DeliveryMoments(ServiceChannel.SMS, CONFIRMED, read_at=minutes(7), acted_at=minutes(9))
    assert channel_effective(read_then_acted) == Effective(at=minutes(7), channel=ServiceChannel.SMS,
                                                           rule=ServiceRule.READ)


def test_another_address_is_not_served_by_arrival_alone():
    assert channel_effective(DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1))) is None


def test_another_address_is_served_when_the_recipient_replies_or_acts():
    acted = DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1), acted_at=minutes(30))
    assert channel_effective(acted) == Effective(at=minutes(30), channel=ServiceChannel.EMAIL, rule=ServiceRule.REPLY)


def test_another_address_is_presumed_served_when_the_system_reports_it_read():
    read = DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1), read_at=minutes(12))
    assert channel_effective(read) == Effective(at=minutes(12), channel=ServiceChannel.EMAIL, rule=ServiceRule.READ)


def test_a_later_act_does_not_move_an_effective_time_already_reached_by_the_read():
    both = DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1), read_at=minutes(12),
                           acted_at=minutes(40))
    assert channel_effective(both) == Effective(at=minutes(12), channel=ServiceChannel.EMAIL, rule=ServiceRule.READ)


def test_an_act_before_any_reported_read_serves_under_the_reply_rule():
    both = DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1), read_at=minutes(50),
                           acted_at=minutes(40))
    assert channel_effective(both) == Effective(at=minutes(40), channel=ServiceChannel.EMAIL, rule=ServiceRule.REPLY)
    same = DeliveryMoments(ServiceChannel.EMAIL, OTHER, read_at=minutes(40), acted_at=minutes(40))
    assert channel_effective(same).rule == ServiceRule.REPLY


def test_of_several_channels_arriving_at_different_times_the_earliest_wins():
    deliveries = [
        DeliveryMoments(ServiceChannel.SMS, CONFIRMED, sent_at=minutes(0), arrived_at=minutes(5)),
        DeliveryMoments(ServiceChannel.EMAIL, CONFIRMED, sent_at=minutes(0), arrived_at=minutes(2)),
        DeliveryMoments(ServiceChannel.IM, CONFIRMED),  # never sent
    ]
    assert effective_service(deliveries) == Effective(
        at=minutes(2), channel=ServiceChannel.EMAIL, rule=ServiceRule.ARRIVAL
    )


def test_the_earliest_effective_channel_wins_whichever_rule_made_it_effective():
    deliveries = [
        DeliveryMoments(ServiceChannel.SMS, CONFIRMED, arrived_at=minutes(60)),
        DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1), read_at=minutes(20)),
    ]
    assert effective_service(deliveries) == Effective(at=minutes(20), channel=ServiceChannel.EMAIL,
                                                      rule=ServiceRule.READ)


def test_a_channel_that_arrived_first_but_is_not_yet_effective_does_not_win():
    deliveries = [
        DeliveryMoments(ServiceChannel.EMAIL, OTHER, arrived_at=minutes(1)),  # not effective: nobody read it
        DeliveryMoments(ServiceChannel.SMS, CONFIRMED, arrived_at=minutes(3)),
    ]
    assert effective_service(deliveries).channel == ServiceChannel.SMS


def test_at_the_same_moment_a_certain_rule_beats_a_presumption():
    deliveries = [
        DeliveryMoments(ServiceChannel.EMAIL, OTHER, read_at=minutes(5)),
        DeliveryMoments(ServiceChannel.SMS, CONFIRMED, arrived_at=minutes(5)),
    ]
    assert effective_service(deliveries).rule == ServiceRule.ARRIVAL
    assert effective_service(list(reversed(deliveries))).rule == ServiceRule.ARRIVAL


def test_a_sign_for_document_is_served_only_by_the_acknowledgement():
    seen = DeliveryMoments(ServiceChannel.PLATFORM, CONFIRMED, arrived_at=minutes(0), read_at=minutes(5),
                           acted_at=minutes(6))
    assert channel_effective(seen, sign_for=True) is None
    assert effective_service([seen], sign_for=True) is None
    signed = DeliveryMoments(ServiceChannel.PLATFORM, CONFIRMED, arrived_at=minutes(0), read_at=minutes(5),
                             acted_at=minutes(6), acknowledged_at=minutes(30))
    assert effective_service([seen, signed], sign_for=True) == Effective(
        at=minutes(30), channel=ServiceChannel.PLATFORM, rule=ServiceRule.REPLY
    )


def test_no_effective_channel_means_no_effective_service():
    assert effective_service([]) is None
    assert effective_service([DeliveryMoments(ServiceChannel.SMS, CONFIRMED, sent_at=minutes(0))]) is None


_moment = st.one_of(st.none(), st.integers(min_value=0, max_value=600).map(minutes))
_delivery = st.builds(
    DeliveryMoments,
    channel=st.sampled_from(ServiceChannel.values),
    address_source=st.sampled_from(AddressSource.values),
    sent_at=_moment, arrived_at=_moment, read_at=_moment, acted_at=_moment,
)


@given(st.lists(_delivery, max_size=5), st.randoms(use_true_random=False))
def test_the_answer_is_the_earliest_channel_answer_whatever_the_order(deliveries, rnd):
    answers = [e for e in map(channel_effective, deliveries) if e is not None]
    shuffled = list(deliveries)
    rnd.shuffle(shuffled)
    result = effective_service(deliveries)
    assert result == effective_service(shuffled)
    if not answers:
        assert result is None
    else:
        assert result is not None
        assert result.at == min(e.at for e in answers)
        assert result in answers
