"""Digits that only look like digits: full-width and Arabic-Indic numbers must not make a second citizen."""

from __future__ import annotations

from datetime import date

import pytest

from app.citizens.idnumber import InvalidIdNumber, parse_id_number
from benefits.uscc import InvalidUscc, normalise_uscc
from tests.factories import new_id_number, staff_headers

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_full_width_digits_are_read_as_the_same_number():
    number = new_id_number(date(1980, 4, 5))
    assert parse_id_number(number.translate(FULL_WIDTH)).number == number


def test_digits_of_other_scripts_are_refused():
    number = new_id_number(date(1980, 4, 5))
    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(number.translate(ARABIC_INDIC))
    assert error.value.code == "id_number_format"


@pytest.mark.parametrize("area", ["000000", "100000", "160000", "390000", "720000", "910000"])
def test_the_first_two_digits_must_be_a_province(area):
    from app.citizens.idnumber import make_id_number

    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(make_id_number(area, date(1980, 4, 5), 7))
    assert error.value.code == "id_number_area"
    assert "省" in error.value.message


@pytest.mark.parametrize("area", ["110105", "330602", "460100", "710000", "810000", "830000"])
def test_every_province_code_is_accepted(area):
    from app.citizens.idnumber import make_id_number

    assert parse_id_number(make_id_number(area, date(1980, 4, 5), 7))


def test_a_full_width_copy_of_a_registered_person_is_the_same_person(app, client):
    with app.app_context():
        headers = staff_headers(client)
    number = new_id_number(date(1975, 8, 9))
    body = {"name": "鲁迅", "id_number": number, "phone": "13700001111", "scoring_consent": True}
    assert client.post("/api/v1/citizens", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/citizens", json={**body, "id_number": number.translate(FULL_WIDTH)}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "citizen_exists"
    other_script = client.post("/api/v1/citizens", json={**body, "id_number": number.translate(ARABIC_INDIC)},
                               headers=headers)
    assert other_script.status_code == 422 and other_script.get_json()["code"] == "id_number_format"


def test_uscc_is_read_like_python_stdnum_reads_it():
    assert normalise_uscc("9111 0000-6000 3734 1L") == "91110000600037341L"
    assert normalise_uscc("91110000600037341L".translate(FULL_WIDTH)) == "91110000600037341L"
    with pytest.raises(InvalidUscc):
        normalise_uscc("91110000600037341L".translate(ARABIC_INDIC))


def test_a_merchant_uscc_with_a_full_width_digit_is_an_answer_not_a_crash(app, client):
    from benefits.catalog import ensure_default_scenes

    with app.app_context():
        ensure_default_scenes()
        admin = staff_headers(client, "admin09", role="admin")
    uscc = "9111000060003734１L"
    response = client.post("/api/v1/merchants", headers=admin,
                           json={"name": "绍兴大禹陵景区", "uscc": uscc, "scenes": ["you"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["uscc"] == "91110000600037341L"
    arabic = "91110000600037341L".translate(ARABIC_INDIC)
    response = client.post("/api/v1/merchants", headers=admin,
                           json={"name": "绍兴大禹陵景区二", "uscc": arabic, "scenes": ["you"]})
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_uscc"
