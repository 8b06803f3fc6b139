"""Client frames of yizhan-room/1: every malformed, oversized or wrong-type frame becomes an error, never an
exception; the token bucket holds 30 frames/s with bursts of 120."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from realtime import frames as f


def test_ping_is_a_frame():
    assert isinstance(f.parse_frame('{"type": "ping"}'), f.Ping)


def test_chat_keeps_its_ref():
    frame = f.parse_frame(json.dumps({"type": "chat", "ref": "m-1", "text": "你好"}))

    assert isinstance(frame, f.Chat) and (frame.ref, frame.text) == ("m-1", "你好")


def test_binary_frame_is_refused_as_text_only():
    assert f.parse_frame(None, b"\x00").code == "text_only"


def test_frame_over_16_kib_of_utf8_is_too_large():
    text = json.dumps({"type": "chat", "ref": "x", "text": "字" * 6000}, ensure_ascii=False)

    assert len(text) < f.MAX_FRAME_BYTES < len(text.encode())
    assert f.parse_frame(text).code == "too_large"


def test_broken_json_is_bad_json():
    assert f.parse_frame('{"type": "ping"').code == "bad_json"


def test_array_is_an_unknown_type():
    assert f.parse_frame("[1, 2]").code == "unknown_type"


def test_unknown_type_answers_with_the_ref():
    error = f.parse_frame('{"type": "shutdown", "ref": 7}')

    assert (error.code, error.ref) == ("unknown_type", 7)


def test_wrong_field_type_is_invalid_and_named():
    error = f.parse_frame('{"type": "signal", "to": "12", "data": {"candidate": {}}}')

    assert error.code == "invalid" and "to" in error.message


def test_signal_without_description_or_candidate_is_invalid():
    assert f.parse_frame('{"type": "signal", "to": 3, "data": {"hello": 1}}').code == "invalid"


def test_boolean_is_not_a_member_id():
    assert f.parse_frame('{"type": "admit", "ref": "a", "member": true}').code == "invalid"


def test_chat_over_2000_characters_is_invalid():
    assert f.parse_frame(json.dumps({"type": "chat", "ref": "x", "text": "a" * 2001})).code == "invalid"


def test_ref_longer_than_64_characters_is_invalid():
    assert f.parse_frame(json.dumps({"type": "chat", "ref": "r" * 65, "text": "hi"})).code == "invalid"


def test_end_needs_an_aware_continue_time():
    naive = {"type": "end", "ref": "e", "outcome": "continue", "continue_at": "2026-03-09T09:00:00"}
    aware = {**naive, "continue_at": "2026-03-09T09:00:00+08:00"}

    assert f.parse_frame(json.dumps(naive)).code == "invalid"
    assert isinstance(f.parse_frame(json.dumps(aware)), f.End)


def test_deeply_nested_frame_is_an_error_not_a_crash():
    nested = '{"type": "signal", "to": 1, "data": {"candidate": ' + "[" * 5000 + "]" * 5000 + "}}"

    assert isinstance(f.parse_frame(nested), f.FrameError)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(
            st.sampled_from(["type", "ref", "to", "data", "text", "member", "side", "outcome", "version", "x"]),
            children, max_size=5),
        max_leaves=20,
    ).map(json.dumps),
))
def test_no_input_makes_the_parser_raise(text):
    result = f.parse_frame(text)

    assert isinstance(result, (f.FrameError, f._Frame))


@given(st.dictionaries(st.sampled_from(sorted(f.FRAME_TYPES)), st.none(), min_size=1, max_size=1),
       st.dictionaries(st.sampled_from(["ref", "to", "data", "text", "member", "side", "locked", "entry"]),
                       st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none(),
                                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)), max_size=4))
def test_every_known_type_with_random_fields_validates_or_errors(kind, fields):
    result = f.parse_frame(json.dumps({"type": next(iter(kind)), **fields}))

    assert isinstance(result, (f.FrameError, f._Frame))


def test_bucket_allows_a_burst_of_120_then_refuses():
    bucket = f.TokenBucket()
    now = bucket.updated

    assert all(bucket.take(now) for _ in range(120))
    assert not bucket.take(now)


def test_bucket_refills_at_30_per_second():
    bucket = f.TokenBucket()
    now = bucket.updated
    for _ in range(120):
        bucket.take(now)

    assert sum(bucket.take(now + 1.0) for _ in range(40)) == 30


def test_bucket_says_far_over_after_240_refusals_in_one_flood():
    bucket = f.TokenBucket()
    now = bucket.updated
    for _ in range(120 + 239):
        bucket.take(now)
    assert not bucket.far_over

    bucket.take(now)

    assert bucket.far_over


def test_frames_trickling_through_a_flood_do_not_reset_the_count():
    bucket = f.TokenBucket()
    now = bucket.updated
    for step in range(120 + 600):
        bucket.take(now + step * 0.01)  # 100 frames/s against 30 allowed

    assert bucket.far_over
