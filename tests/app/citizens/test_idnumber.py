from datetime import date

import pytest

from app.citizens.idnumber import InvalidIdNumber, make_id_number, parse_adult_id_number, parse_id_number


@pytest.mark.parametrize("number", ["11010519491231002X", "360426199101010071", "440308199901101512",
                                    "810000199408230021", "11010519491231002x"])
def test_valid_numbers_from_the_standard_and_permits(number):
    assert parse_id_number(number).number == number.upper()


@pytest.mark.parametrize(("number", "code"), [
    ("440308199901101513", "id_number_checksum"),
    ("440308199902301512", "id_number_date"),
    ("44030819990110151", "id_number_length"),
    ("44030819990110151Y", "id_number_format"),
    ("", "id_number_length"),
])
def test_invalid_numbers_say_why(number, code):
    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(number)
    assert error.value.code == code
    assert error.value.message  # Chinese text for the citizen


def test_adults_only_counted_from_the_birthday():
    number = make_id_number("330602", date(2008, 6, 1), 1)
    with pytest.raises(InvalidIdNumber) as error:
        parse_adult_id_number(number, today=date(2026, 5, 31))
    assert error.value.code == "not_adult"
    assert parse_adult_id_number(number, today=date(2026, 6, 1)).birth_date == date(2008, 6, 1)
