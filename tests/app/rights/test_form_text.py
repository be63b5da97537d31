"""Text sent in a multipart form reaches the database like JSON does: a NUL byte (PostgreSQL text cannot hold one)
or a lone surrogate is refused with a coded 422 in Chinese, never a 500 (issue 22, defect 1)."""

from __future__ import annotations

import io

import pytest

from tests.app.rights.conftest import image_bytes


@pytest.mark.parametrize("field", ["record", "reason_text", "reason_code"])
def test_a_nul_byte_in_an_objection_form_field_is_refused(rights, field):
    record = rights.report()
    data = {"record": record, "reason_code": "wrong_facts", "reason_text": "罚款已被复议撤销"}
    data[field] = data[field][:-1] + "\x00"  # within every length limit, so only the NUL is wrong
    response = rights.client.post("/mp/v1/me/objections", data=data, headers=rights.citizen,
                                  content_type="multipart/form-data")
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == "invalid_characters" and "字符" in body["message"]
    assert field in body["errors"]
    assert rights.record(record)["status"] == "active"


def test_a_nul_byte_in_a_repair_statement_or_file_name_is_refused(rights):
    record = rights.report()
    for data in ({"statement": "罚款已缴清\x00"}, {"evidence_name": "paid\x00.jpg"}):
        form = {"record": record, "statement": data.get("statement", "罚款已缴清"), "commitment_version": "none",
                "commitment_accepted": "true",
                "evidence": [(io.BytesIO(image_bytes()), data.get("evidence_name", "paid.jpg"))]}
        response = rights.client.post("/mp/v1/me/repairs", data=form, headers=rights.citizen,
                                       content_type="multipart/form-data")
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert response.get_json()["code"] == "invalid_characters"


def test_an_ordinary_form_still_files_its_objection(rights):
    response = rights.object(rights.report())
    assert response.status_code == 201, response.get_json()
