"""app/records does not import app/scoring: it announces ``records_changed`` after its commit and app/scoring
rescores. With nobody listening, the batch's answer says so (``queued``) and the marks wait for the recompute job."""

from datetime import date, timedelta

from app.citizens.service import ID_PURPOSE, get_by_ref
from app.scoring import service as scoring
from app.security.pii import vault
from app.signals import records_changed
from tests.factories import bearer, gen_citizen, gen_department, staff_headers


def _row(external_id: str, id_number: str) -> dict:
    return {"external_id": external_id, "id_number": id_number, "type_code": "LA_PENALTY_GENERAL",
            "occurred_at": (date.today() - timedelta(days=30)).isoformat()}


def _total(app, ref: str) -> int | None:
    with app.app_context():
        score = scoring.current_score(get_by_ref(ref))
        return score.total if score else None


def test_without_a_listener_the_batch_says_queued_and_the_job_rescores(app, client):
    with app.app_context():
        _, key = gen_department("SX_AMR", ["LA_PENALTY_GENERAL"])
        citizen = gen_citizen("王丽")
        ref, id_number = citizen.ref, vault().decrypt(citizen.id_cipher, ID_PURPOSE)
    before = _total(app, ref)
    assert before is not None

    with records_changed.muted():
        body = client.post("/api/v1/records/batch", json={"records": [_row("Q-1", id_number)]},
                           headers=bearer(key)).get_json()
    assert (body["accepted"], body["recompute"]) == (1, "queued")
    assert _total(app, ref) == before
    with app.app_context():
        assert get_by_ref(ref).needs_recompute
        scoring.recompute("changed")
    penalised = _total(app, ref)
    assert penalised < before

    # A status changed by staff marks the citizen too, so a rescore nobody ran is not lost.
    record_ref = client.post("/api/v1/records", json=_row("Q-2", id_number), headers=bearer(key)).get_json()["ref"]
    penalised = _total(app, ref)
    with app.app_context():
        headers = staff_headers(client)
    with records_changed.muted():
        response = client.patch(f"/api/v1/records/{record_ref}", json={"status": "revoked", "reason": "部门来函更正"},
                                headers=headers)
    assert response.status_code == 200, response.get_json()
    assert _total(app, ref) == penalised
    with app.app_context():
        assert get_by_ref(ref).needs_recompute
        scoring.recompute("changed")
    assert _total(app, ref) > penalised
