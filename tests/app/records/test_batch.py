"""归集 through POST /api/v1/records/batch: good rows kept, every bad row reported, resends change nothing."""

import json
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.scoring.service import current_score
from tests.factories import bearer, gen_citizen, gen_department, new_id_number, staff_headers

BATCH = "/api/v1/records/batch"


@pytest.fixture
def setup(app):
    with app.app_context():
        department, key = gen_department("SX_AMR", ["LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS"])
        alice = gen_citizen("王丽")
        bob = gen_citizen("陈强")
        yield {"key": key, "alice": alice.ref, "bob": bob.ref,
               "alice_id": _plain_id(alice), "bob_id": _plain_id(bob)}


def _plain_id(citizen) -> str:
    from app.citizens.service import ID_PURPOSE
    from app.security.pii import vault

    return vault().decrypt(citizen.id_cipher, ID_PURPOSE)


def _row(external_id, id_number, type_code="LA_PENALTY_GENERAL", days_ago=30, **extra):
    return {"external_id": external_id, "id_number": id_number, "type_code": type_code,
            "occurred_at": (date.today() - timedelta(days=days_ago)).isoformat(), **extra}


def _score_total(app, ref):
    from app.citizens.service import get_by_ref

    with app.app_context():
        score = current_score(get_by_ref(ref))
        return score.total if score else None


def test_three_good_three_bad_then_resend_is_unchanged(app, client, setup):
    before = _score_total(app, setup["alice"])
    rows = [
        _row("P-1", setup["alice_id"]),
        _row("P-2", setup["bob_id"], "LA_PENALTY_SERIOUS"),
        _row("P-3", setup["alice_id"], days_ago=400),
        _row("P-4", "440308199901101513"),                     # bad checksum
        _row("P-5", setup["bob_id"], "LA_CRIMINAL"),           # exists in the catalog, not this department's
        _row("P-1", setup["bob_id"]),                          # duplicate external id inside the batch
    ]
    response = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["accepted"], body["updated"], body["unchanged"]) == (3, 0, 0)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (3, "invalid_id_number"), (4, "type_not_owned"), (5, "duplicate_in_batch")]
    assert all(r["message"] for r in body["rejected"])
    assert body["recompute"] == "done"
    after = _score_total(app, setup["alice"])
    assert after < before  # an active general-procedure penalty lowers the law-abiding dimension

    again = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"])).get_json()
    assert (again["accepted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert len(again["rejected"]) == 3
    assert _score_total(app, setup["alice"]) == after


def test_a_changed_row_updates_and_rescores(app, client, setup):
    headers = bearer(setup["key"])
    client.post(BATCH, json={"records": [_row("P-9", setup["alice_id"])]}, headers=headers)
    penalised = _score_total(app, setup["alice"])
    body = client.post(BATCH, json={"records": [_row("P-9", setup["alice_id"], status="revoked")]},
                       headers=headers).get_json()
    assert (body["accepted"], body["updated"], body["unchanged"]) == (0, 1, 0)
    assert _score_total(app, setup["alice"]) > penalised


@pytest.mark.parametrize(("row", "code"), [
    ({"id_number": "x"}, "malformed"),                                                  # no external id
    ("not an object", "malformed"),
    ({"external_id": "E", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2024-01-01"}, "malformed"),
    ({"external_id": "E", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "01/02/2024"},
     "malformed"),
    ({"external_id": "E", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2024-02-30"},
     "impossible_date"),
    ({"external_id": "E", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2999-01-01"},
     "impossible_date"),
    ({"external_id": "E", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2024-05-01",
      "expires_at": "2024-04-01"}, "impossible_date"),
    ({"external_id": "E", "id_number": "SELF", "type_code": "NOPE", "occurred_at": "2024-01-01"}, "unknown_type"),
    ({"external_id": "E", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2024-01-01",
      "quantity": "three"}, "malformed"),
    ({"external_id": "E", "id_number": "440308199902301512", "type_code": "LA_PENALTY_GENERAL",
      "occurred_at": "2024-01-01"}, "invalid_id_number"),
    # PostgreSQL cannot store NUL, nothing can store a lone surrogate: the row goes, the batch stays
    ({"external_id": "E", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2024-01-01",
      "summary": "罚款\u0000"}, "malformed"),
    ({"external_id": "E\ud800", "id_number": "SELF", "type_code": "LA_PENALTY_GENERAL",
      "occurred_at": "2024-01-01"}, "malformed"),
])
def test_each_kind_of_bad_row_has_its_code(client, setup, row, code):
    if isinstance(row, dict) and row.get("id_number") == "SELF":
        row = {**row, "id_number": setup["alice_id"]}
    good = _row("G-1", setup["bob_id"])
    # json.dumps escapes what the test client's encoder cannot write (a lone surrogate), as a client would
    body = client.post(BATCH, data=json.dumps({"records": [row, good]}), content_type="application/json",
                       headers=bearer(setup["key"])).get_json()
    assert body["accepted"] == 1
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(0, code)]


def test_a_record_for_someone_not_registered_is_held_and_joins_their_file_when_they_register(app, client, setup):
    stranger = new_id_number(date(1985, 3, 3))
    rows = [_row("U-1", stranger), _row("G-1", setup["bob_id"]), _row("U-2", stranger, "LA_PENALTY_SERIOUS")]
    body = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"])).get_json()
    assert (body["accepted"], body["rejected"]) == (1, [])
    held = "该身份证号码尚未登记，记录已暂存，居民登记后自动归入其信用档案。"
    assert body["held"] == [{"index": 0, "external_id": "U-1", "code": "pending_citizen", "message": held},
                            {"index": 2, "external_id": "U-2", "code": "pending_citizen", "message": held}]
    # A resend holds the same rows again, not twice.
    again = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"])).get_json()
    assert [row["external_id"] for row in again["held"]] == ["U-1", "U-2"]

    headers = staff_headers(client)
    registered = client.post("/api/v1/citizens", json={"name": "新居民", "id_number": stranger,
                                                       "scoring_consent": True}, headers=headers)
    assert registered.status_code == 201, registered.get_json()
    # Both held records are in the new citizen's file and in their score at once.
    assert _score_total(app, registered.get_json()["ref"]) == 655 - 30 - 80
    resend = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"])).get_json()
    assert (resend["unchanged"], resend["held"]) == (3, [])
    with app.app_context():
        from app.records.models import PendingRecord, Record

        assert db.session.query(PendingRecord).count() == 0
        assert db.session.query(Record).count() == 3


def test_grade_is_required_for_the_public_evaluation(app, client):
    with app.app_context():
        _, key = gen_department("SX_CREDIT", ["PC_EVAL"])
        citizen_id = _plain_id(gen_citizen("俞敏"))
    rows = [_row("E-1", citizen_id, "PC_EVAL"), _row("E-2", citizen_id, "PC_EVAL", grade="优秀")]
    body = client.post(BATCH, json={"records": rows}, headers=bearer(key)).get_json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["code"] == "malformed" and body["rejected"][0]["field"] == "grade"


def test_batch_needs_a_valid_department_key(client, setup):
    assert client.post(BATCH, json={"records": []}).status_code == 401
    response = client.post(BATCH, json={"records": []}, headers=bearer("dk_forged"))
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_batch_over_the_limit_is_refused_whole(app, client, setup):
    rows = [_row(f"L-{i}", setup["alice_id"]) for i in range(app.config["RECORDS_BATCH_MAX"] + 1)]
    response = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"]))
    assert response.status_code == 413
    assert response.get_json()["code"] == "batch_too_large"


def test_large_batches_are_queued_for_the_recompute_job(app, client, setup, runner):
    app.config["BATCH_INLINE_RECOMPUTE_MAX"] = 1
    try:
        rows = [_row("Q-1", setup["alice_id"]), _row("Q-2", setup["bob_id"])]
        before = _score_total(app, setup["alice"])
        body = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"])).get_json()
    finally:
        app.config["BATCH_INLINE_RECOMPUTE_MAX"] = 500
    assert body["recompute"] == "queued"
    assert _score_total(app, setup["alice"]) == before
    result = runner.invoke(args=["scores", "recompute", "--changed"])
    assert result.exit_code == 0, result.output
    assert "processed=2 changed=2" in result.output
    assert _score_total(app, setup["alice"]) < before


def test_single_record_rescoring_at_once_and_refusals_as_errors(app, client, setup):
    before = _score_total(app, setup["bob"])
    response = client.post("/api/v1/records", json=_row("S-1", setup["bob_id"], "LA_PENALTY_SERIOUS"),
                           headers=bearer(setup["key"]))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ref"]
    assert _score_total(app, setup["bob"]) < before
    refused = client.post("/api/v1/records", json=_row("S-2", setup["bob_id"], "HN_VOLUNTEER"),
                          headers=bearer(setup["key"]))
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "type_not_owned"


def test_staff_revoking_a_record_rescoring_at_once(app, client, setup):
    from tests.factories import staff_headers

    record_ref = client.post("/api/v1/records", json=_row("R-1", setup["alice_id"]),
                             headers=bearer(setup["key"])).get_json()["ref"]
    penalised = _score_total(app, setup["alice"])
    with app.app_context():
        headers = staff_headers(client)
    response = client.patch(f"/api/v1/records/{record_ref}", json={"status": "revoked", "reason": "部门来函更正"},
                            headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "revoked"
    assert _score_total(app, setup["alice"]) > penalised


def test_a_resend_does_not_undo_an_open_objection(app, client, setup):
    from app.records.models import Record

    client.post(BATCH, json={"records": [_row("D-1", setup["alice_id"])]}, headers=bearer(setup["key"]))
    with app.app_context():
        record = db.session.scalar(db.select(Record).where(Record.external_id == "D-1"))
        record.status = "disputed"
        db.session.commit()
    changed = _row("D-1", setup["alice_id"], summary="补充说明")
    body = client.post(BATCH, json={"records": [changed]}, headers=bearer(setup["key"])).get_json()
    assert body["updated"] == 1
    with app.app_context():
        assert db.session.scalar(db.select(Record.status).where(Record.external_id == "D-1")) == "disputed"


def test_catalog_is_public_and_versioned(client):
    response = client.get("/api/v1/catalog")
    assert response.status_code == 200
    assert response.headers["X-Rules-Version"] == "v1"
    codes = {entry["code"]: entry for entry in response.get_json()}
    assert codes["LA_JUDGMENT_DEBTOR"]["forces_l0"] is True
    assert codes["LA_PENALTY_GENERAL"]["class"] == "不良"


def test_concurrent_deliveries_of_one_batch_store_each_row_once(app, setup):
    """Two app servers receiving the same retry at the same moment: each row exists once afterwards."""
    import threading

    rows = [_row(f"C-{i}", setup["alice_id"] if i % 2 else setup["bob_id"]) for i in range(40)]
    results, barrier = [], threading.Barrier(2)

    def deliver():
        client = app.test_client()
        barrier.wait()
        response = client.post(BATCH, json={"records": rows}, headers=bearer(setup["key"]))
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from app.records.models import Record

    with app.app_context():
        stored = db.session.scalar(db.select(db.func.count()).select_from(Record).where(Record.external_id.like("C-%")))
    assert stored == 40
    assert [status for status, _ in results] == [200, 200], results
    assert sum(body["accepted"] for _, body in results) == 40
    assert sum(body["unchanged"] for _, body in results) == 40
