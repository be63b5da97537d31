"""Incident ids are scoped to the department that sent them, and only adverse records are de-duplicated (SPEC §1)."""

from datetime import date, timedelta

from app.extensions import db
from app.scoring.service import current_score
from tests.factories import bearer, gen_citizen, gen_department, new_id_number


def test_two_departments_case_numbers_do_not_collide_and_a_penalty_never_drops_an_evaluation(client, ctx):
    number = new_id_number(date(1975, 2, 2))
    citizen = gen_citizen("沈园", number)
    _, amr = gen_department("SX_AMR", ["LA_PENALTY_GENERAL", "PC_EVAL"])
    _, tax = gen_department("SX_TAX", ["LA_TAX_ARREARS"])
    day = (date.today() - timedelta(days=10)).isoformat()

    def push(key, external_id, type_code, **extra):
        row = {"external_id": external_id, "id_number": number, "type_code": type_code, "occurred_at": day,
               "incident_id": "2026-001", **extra}
        assert client.post("/api/v1/records", json=row, headers=bearer(key)).status_code == 200
        db.session.expire_all()
        return current_score(citizen).total

    assert push(amr, "E-1", "PC_EVAL", grade="差") == 100 + 300 + 75
    assert push(amr, "P-1", "LA_PENALTY_GENERAL") == 100 + 270 + 75  # the evaluation still counts
    assert push(tax, "T-1", "LA_TAX_ARREARS") == 100 + 230 + 75  # another department's "2026-001"
