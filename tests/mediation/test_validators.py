"""Resident ID numbers (GB 11643-1999) are checked with a message that names the problem."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from mediation.models import Party
from mediation.validators import (
    mask_resident_id,
    resident_id_check_char,
    validate_mobile,
    validate_resident_id,
)
from tests.factories import make_resident_id


def test_a_valid_number_passes():
    validate_resident_id("11010519491231002X")  # the standard's own example
    validate_resident_id(make_resident_id(7))


@pytest.mark.parametrize(
    ("number", "code", "fragment"),
    [
        ("1101051949123100", "id_length", "18位"),
        ("11010519491231002A", "id_chars", "数字"),
        ("110105194913310021", "id_birthdate", "19491331"),
        ("110105194912310021", "id_checksum", "应为 X"),
    ],
)
def test_each_problem_gets_its_own_message(number, code, fragment):
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(number)
    assert caught.value.code == code
    assert fragment in caught.value.messages[0]


@given(st.from_regex(r"\A110101(19[5-9]\d|200\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}\Z"))
def test_any_single_wrong_check_character_is_caught(first17):
    good = resident_id_check_char(first17)
    validate_resident_id(first17 + good)
    for wrong in "0123456789X":
        if wrong != good:
            with pytest.raises(ValidationError):
                validate_resident_id(first17 + wrong)


def test_masking_hides_the_middle():
    assert mask_resident_id("11010519491231002X") == "110*************2X"
    assert mask_resident_id("") == ""


def test_party_clean_reports_the_id_problem_on_the_field():
    party = Party(name="张三", id_type="resident_id", id_number="110105194912310021")
    with pytest.raises(ValidationError) as caught:
        party.clean()
    assert "id_number" in caught.value.message_dict


def test_mobile_numbers():
    validate_mobile("13912345678")
    for bad in ("12345", "23912345678", "1391234567a"):
        with pytest.raises(ValidationError):
            validate_mobile(bad)
