"""全过程留痕: reads and changes by others leave a trail in the request's transaction; the chainer links it into a
hash chain within seconds, and tampering with a linked entry is found."""

import threading

from sqlalchemy import func, select, text

from app.audit import service as audit
from app.audit.models import AuditEntry, PendingAuditEntry
from app.audit.service import Actor, chain_pending, entries_for_subject, verify_chain
from app.extensions import db
from tests.factories import gen_citizen, staff_headers


def _trail(subject_id):
    return list(db.session.scalars(db.select(AuditEntry).where(AuditEntry.subject_id == subject_id)
                                   .order_by(AuditEntry.seq)))


def _pending(subject_id):
    return list(db.session.scalars(db.select(PendingAuditEntry).where(PendingAuditEntry.subject_id == subject_id)
                                   .order_by(PendingAuditEntry.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_staff_reads_are_recorded_with_who_what_why(client, ctx):
    citizen = gen_citizen("谢道韫")
    headers = staff_headers(client)
    client.get(f"/api/v1/citizens/{citizen.ref}/score?reason=信用修复审核", headers=headers)
    chain_pending()  # what the audit-chain job does every few seconds
    entries = _trail(citizen.id)
    read = entries[-1]
    assert (read.actor_type, read.actor_id, read.action, read.reason) == ("staff", "staff01", "score.read",
                                                                          "信用修复审核")
    assert read.prev_hash == db.session.get(AuditEntry, read.seq - 1).hash


def test_a_read_is_pending_in_its_transaction_until_the_chainer_links_it(client, ctx):
    citizen = gen_citizen("卫夫人")
    chain_pending()
    last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    linked_before = _count(AuditEntry)

    client.get(f"/api/v1/citizens/{citizen.ref}/score?reason=窗口查询", headers=staff_headers(client))
    db.session.expire_all()
    (pending,) = _pending(citizen.id)
    assert (pending.actor_id, pending.action, pending.reason) == ("staff01", "score.read", "窗口查询")
    written_at = pending.occurred_at
    assert _count(AuditEntry) == linked_before  # written with the read, not linked yet
    # The citizen already sees it in their trail.
    entries, _ = entries_for_subject(citizen.id, 1, 10)
    assert (entries[0].reason, entries[0].seq) == ("窗口查询", None)

    assert chain_pending() == 1
    db.session.expire_all()
    assert _pending(citizen.id) == [] and _count(PendingAuditEntry) == 0
    read = _trail(citizen.id)[-1]
    assert (read.seq, read.prev_hash) == (last.seq + 1, last.hash)
    assert (read.actor_id, read.action, read.reason, read.occurred_at) == ("staff01", "score.read", "窗口查询",
                                                                           written_at)
    assert verify_chain().ok
    assert chain_pending() == 0


def test_verify_links_what_is_pending_then_reports_the_first_tampered_link(client, runner, ctx):
    ref = gen_citizen("王羲之").ref
    headers = staff_headers(client)
    for reason in ("核查一", "核查二", "核查三"):
        client.get(f"/api/v1/citizens/{ref}/score?reason={reason}", headers=headers)
    pending = _count(PendingAuditEntry)
    assert pending >= 3
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0
    assert f"audit chain intact: {_count(AuditEntry)} entries ({pending} newly linked)" in ok.output
    assert _count(PendingAuditEntry) == 0

    target = db.session.scalar(db.select(AuditEntry.seq).where(AuditEntry.reason == "核查二"))
    db.session.execute(text("UPDATE audit_entry SET reason = '无' WHERE seq = :seq"), {"seq": target})
    db.session.commit()
    # Entries written after the tampering are linked after it; the broken link is still found.
    client.get(f"/api/v1/citizens/{ref}/score?reason=核查四", headers=headers)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"audit chain BROKEN at seq {target}: content does not match its hash" in broken.output


def test_a_deleted_link_is_found(client, runner, ctx):
    citizen = gen_citizen("贺知章")
    headers = staff_headers(client)
    for reason in ("一", "二", "三"):
        client.get(f"/api/v1/citizens/{citizen.ref}/score?reason=核查{reason}", headers=headers)
    chain_pending()
    middle = db.session.scalar(db.select(AuditEntry.seq).where(AuditEntry.reason == "核查二"))
    db.session.execute(text("DELETE FROM audit_entry WHERE seq = :seq"), {"seq": middle})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at seq {middle + 1}" in result.output


def test_the_chain_command_links_pending_entries(runner, ctx):
    audit.append([1, 2, None], "test.read", "核对", actor=Actor("staff", "staff01"))
    db.session.commit()
    result = runner.invoke(args=["audit", "chain"])
    assert result.exit_code == 0 and "linked 3 audit entries" in result.output
    assert (_count(AuditEntry), _count(PendingAuditEntry)) == (3, 0)
    assert "linked 0 audit entries" in runner.invoke(args=["audit", "chain"]).output


def test_chaining_in_small_batches_makes_one_chain(ctx):
    audit.append(range(1, 2001), "test.read", "批量", details={"batch": True}, actor=Actor("job", "test"))
    db.session.commit()
    assert chain_pending(batch=300) == 2000  # deletes of more ids than SQLite takes parameters are chunked
    assert _count(PendingAuditEntry) == 0
    assert db.session.scalars(select(AuditEntry.subject_id).order_by(AuditEntry.seq)).all() == list(range(1, 2001))
    report = verify_chain()
    assert (report.ok, report.checked, report.pending) == (True, 2000, 0)


def test_a_subjects_trail_pages_across_pending_and_linked_entries(ctx):
    subject, other = 4242, 4343
    staff = Actor("staff", "staff01")
    for n in range(1, 6):
        audit.log(subject, "test.read", f"第{n}次", actor=staff)
        audit.log(other, "test.read", f"别人{n}", actor=staff)
    db.session.commit()
    chain_pending()
    for n in range(6, 9):
        audit.log(subject, "test.read", f"第{n}次", details={"n": n}, actor=staff)
    db.session.commit()

    pages = [entries_for_subject(subject, page, 3) for page in (1, 2, 3, 4)]
    assert [total for _, total in pages] == [8, 8, 8, 8]
    assert [[entry.reason for entry in items] for items, _ in pages] == [
        ["第8次", "第7次", "第6次"], ["第5次", "第4次", "第3次"], ["第2次", "第1次"], []]
    first, _ = pages[0]
    assert all(entry.seq is None for entry in first) and first[0].details == {"n": 8}
    assert first[0].occurred_at.tzinfo is not None and first[0].actor_type == "staff"

    crossing, total = entries_for_subject(subject, 2, 2)  # the last pending entry, then the newest linked one
    assert total == 8 and [entry.reason for entry in crossing] == ["第6次", "第5次"]
    assert crossing[0].seq is None and crossing[1].seq is not None and crossing[1].details == {}

    chain_pending()  # linking moves nothing: the oldest pending entries become the newest linked ones
    assert [entry.reason for entry in entries_for_subject(subject, 2, 2)[0]] == ["第6次", "第5次"]
    assert entries_for_subject(subject, 1, 10)[1] == 8


def test_concurrent_chainers_and_writers_make_one_unbroken_chain(app, ctx):
    """Two chainers (think: two schedulers started by mistake, or an operator's `flask audit chain` while the job
    runs), each with its own app context and session, while requests keep writing. On PostgreSQL the advisory lock
    serialises them; on SQLite the single writer does, and a chainer that read a stale last link loses on the
    primary key and retries."""
    audit.append(range(1, 1501), "test.read", "并发前", actor=Actor("job", "test"))
    db.session.commit()
    barrier = threading.Barrier(3)
    linked: list[int] = []
    errors: list[str] = []

    def chainer():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                linked.append(chain_pending(batch=40))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    def writer():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                for n in range(1501, 1701):
                    audit.log(n, "test.read", "并发中", actor=Actor("staff", "staff01"))
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=target) for target in (chainer, chainer, writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    linked.append(chain_pending())  # whatever the writer committed after both chainers finished

    assert sum(linked) == 1700
    assert _count(PendingAuditEntry) == 0
    subjects = db.session.scalars(select(AuditEntry.subject_id)).all()
    assert sorted(subjects) == list(range(1, 1701))  # none lost, none twice
    report = verify_chain()
    assert report.ok and report.checked == 1700
