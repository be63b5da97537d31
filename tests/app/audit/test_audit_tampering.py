"""The six kinds of tampering a hash chain alone misses are found through signed checkpoints kept outside the
audit table (sequence number + head hash, signed with the city's Ed25519 key), and through the canonical form of
every hashed field (``null`` is not ``{}``)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select, text

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.audit.service import Actor, chain_pending
from app.extensions import db
from app.security.signing import b64url_decode, keyring


def _write(count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        audit.log(number, "score.read", f"核查{number}", {} if number % 2 else {"n": number},
                  actor=Actor("staff", "staff01"))
    db.session.commit()


@pytest.fixture
def trail(ctx):
    """Three rounds of writing and linking: 30 linked entries, a signed checkpoint after each round."""
    for round_ in range(3):
        _write(10, round_ * 10)
        chain_pending()
    return 30


def _verify(runner):
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def _last_seq() -> int:
    return db.session.scalar(select(func.max(AuditEntry.seq)))


def test_an_untouched_trail_verifies_against_its_latest_checkpoint(runner, trail):
    code, output = _verify(runner)
    assert code == 0 and "audit chain intact: 30 entries" in output and "checkpoint 30" in output


def test_deleting_the_last_entry_is_found(runner, trail):
    db.session.execute(text("DELETE FROM audit_entry WHERE seq = 30"))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "signed checkpoint at seq 30" in output and "missing" in output, output


def test_deleting_the_last_ten_entries_is_found(runner, trail):
    db.session.execute(text("DELETE FROM audit_entry WHERE seq > 20"))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "signed checkpoint at seq 30" in output and "missing" in output, output


def test_appending_a_well_formed_entry_is_found(runner, trail):
    last = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    occurred_at = last.occurred_at
    forged_hash = audit._link_hash(last.hash, 31, occurred_at, "staff", "staff01", 7, "score.read", "伪造", {})
    db.session.add(AuditEntry(seq=31, occurred_at=occurred_at, actor_type="staff", actor_id="staff01", subject_id=7,
                              action="score.read", reason="伪造", details={}, prev_hash=last.hash,
                              hash=forged_hash))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "BROKEN at seq 31" in output and "after the last signed checkpoint" in output, output


def test_rewriting_a_middle_entry_and_every_later_hash_is_found(runner, trail):
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    prev_hash = entries[13].prev_hash
    for entry in entries[13:]:
        if entry.seq == 14:
            entry.reason = "已改写"
        entry.prev_hash = prev_hash
        entry.hash = audit._link_hash(prev_hash, entry.seq, entry.occurred_at, entry.actor_type, entry.actor_id,
                                      entry.subject_id, entry.action, entry.reason, entry.details)
        prev_hash = entry.hash
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "BROKEN at seq 20" in output and "signed checkpoint" in output, output


def test_details_changed_from_empty_to_null_is_found(runner, trail):
    target = db.session.scalar(select(AuditEntry.seq).where(AuditEntry.reason == "核查5"))
    db.session.execute(text("UPDATE audit_entry SET details = 'null' WHERE seq = :seq"), {"seq": target})
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and f"BROKEN at seq {target}: content does not match its hash" in output, output


def test_a_forged_checkpoint_signature_is_found(runner, trail):
    db.session.execute(text("UPDATE audit_checkpoint SET head_hash = :h WHERE seq = 30"), {"h": "f" * 64})
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "signature" in output, output


def test_the_latest_checkpoint_is_public_and_verifiable_with_the_jwks(app, client, trail):
    answer = client.get("/api/v1/audit/checkpoint")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["seq"] == 30 and body["head_hash"] == db.session.scalar(select(AuditEntry.hash)
                                                                           .where(AuditEntry.seq == 30))
    payload = json.dumps({"city": app.config["CITY_CODE"], "seq": body["seq"], "head_hash": body["head_hash"],
                          "signed_at": body["signed_at"]}, sort_keys=True, separators=(",", ":")).encode()
    assert body["payload"] == payload.decode()
    assert keyring().verify(body["kid"], payload, b64url_decode(body["signature"]))
    assert hashlib.sha256(payload).hexdigest()  # what a holder keeps: the payload and its signature


def test_a_pending_entry_changed_before_it_is_linked_is_found(runner, ctx, caplog):
    """An entry is sealed when written (issue 22, defect 9): changed in ``audit_pending`` before the chainer links
    it, it is not linked as if genuine, and ``flask audit verify`` reports it."""
    _write(3)
    pending_id = db.session.scalar(text("SELECT min(id) FROM audit_pending"))
    db.session.execute(text("UPDATE audit_pending SET reason = '例行核查' WHERE id = :id"), {"id": pending_id})
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and "changed before it was linked" in output, output
    linked_reasons = set(db.session.scalars(select(AuditEntry.reason)))
    assert "例行核查" not in linked_reasons and linked_reasons == {"核查1", "核查2"}
    assert "changed before it was linked" in caplog.text
