"""全过程留痕: reads and changes by others leave a hash-chained trail; tampering is found."""

from sqlalchemy import text

from app.audit.models import AuditEntry
from app.extensions import db
from tests.factories import gen_citizen, staff_headers


def _trail(subject_id):
    return list(db.session.scalars(db.select(AuditEntry).where(AuditEntry.subject_id == subject_id)
                                   .order_by(AuditEntry.seq)))


def test_staff_reads_are_recorded_with_who_what_why(client, ctx):
    citizen = gen_citizen("谢道韫")
    headers = staff_headers(client)
    client.get(f"/api/v1/citizens/{citizen.ref}/score?reason=信用修复审核", headers=headers)
    entries = _trail(citizen.id)
    read = entries[-1]
    assert (read.actor_type, read.actor_id, read.action, read.reason) == ("staff", "staff01", "score.read",
                                                                          "信用修复审核")
    assert read.prev_hash == entries[-2].hash


def test_verify_passes_then_reports_the_first_tampered_link(client, runner, ctx):
    citizen = gen_citizen("王羲之")
    headers = staff_headers(client)
    for reason in ("核查一", "核查二", "核查三"):
        client.get(f"/api/v1/citizens/{citizen.ref}/score?reason={reason}", headers=headers)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output

    target = db.session.scalar(db.select(AuditEntry.seq).where(AuditEntry.reason == "核查二"))
    db.session.execute(text("UPDATE audit_entry SET reason = '无' WHERE seq = :seq"), {"seq": target})
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at seq {target}" in broken.output


def test_a_deleted_link_is_found(client, runner, ctx):
    citizen = gen_citizen("贺知章")
    headers = staff_headers(client)
    for reason in ("一", "二", "三"):
        client.get(f"/api/v1/citizens/{citizen.ref}/score?reason=核查{reason}", headers=headers)
    middle = db.session.scalar(db.select(AuditEntry.seq).where(AuditEntry.reason == "核查二"))
    db.session.execute(text("DELETE FROM audit_entry WHERE seq = :seq"), {"seq": middle})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at seq {middle + 1}" in result.output
