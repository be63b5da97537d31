"""`flask citizens import FILE.csv`: the population registry (人口库) in bulk, validated like the counter."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from sqlalchemy import select

from app.citizens.models import Citizen
from app.citizens.service import ID_PURPOSE, PHONE_PURPOSE, find_by_id_number
from app.extensions import db
from app.records.models import PendingRecord, Record
from app.security.pii import vault
from tests.factories import bearer, gen_department, new_id_number, staff_headers


def _write(path, rows, header=("name", "id_number", "phone", "status")):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(runner, path, *extra):
    result = runner.invoke(args=["citizens", "import", str(path), "--chunk-size", "2", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _people() -> dict[str, tuple]:
    db.session.expire_all()
    return {vault().decrypt(c.id_cipher, ID_PURPOSE): (c.name, c.status) for c in db.session.scalars(select(Citizen))}


def test_good_rows_are_kept_bad_ones_reported_by_line(runner, ctx, tmp_path):
    a, b, c = new_id_number(date(1960, 1, 1)), new_id_number(date(1990, 2, 2)), new_id_number(date(1985, 3, 3))
    minor = new_id_number(date.today() - timedelta(days=365 * 10))
    bad_checksum = a[:-1] + ("0" if a[-1] != "0" else "1")
    path = _write(tmp_path / "registry.csv", [
        ("王芳", a, "13800001111", "在册"),        # line 2
        ("李雷", b, "", "active"),                  # line 3
        ("张", c, "", ""),                          # line 4: name too short
        ("赵四", bad_checksum, "", ""),            # line 5
        ("钱五", minor, "", ""),                    # line 6: not an adult
        ("孙六", c, "12345", ""),                   # line 7: bad phone
        ("周七", c, "", "失踪"),                    # line 8: unknown status
        ("吴八", a, "", ""),                        # line 9: same ID number as line 2
        ("郑九", c, "13900002222", "deceased"),    # line 10
    ])
    errors = tmp_path / "errors.csv"
    output = _import(runner, path, "--errors", str(errors))
    assert "rows=3 added=3 updated=0 unchanged=0 unlisted=0 rejected=6" in output
    with errors.open(encoding="utf-8") as handle:
        reported = [(int(row["line"]), row["code"]) for row in csv.DictReader(handle)]
    assert sorted(reported) == [(4, "invalid_name"), (5, "id_number_checksum"), (6, "not_adult"),
                                (7, "invalid_phone"), (8, "invalid_status"), (9, "duplicate_in_file")]
    assert "line 4: invalid_name 请填写与身份证一致的姓名。" in output
    assert _people() == {a: ("王芳", "active"), b: ("李雷", "active"), c: ("郑九", "deceased")}
    # Encrypted and blind-indexed like a counter registration: found by number, phone readable only with the key.
    found = find_by_id_number(a)
    assert found.id_masked == a[:4] + "**********" + a[-4:]
    assert vault().decrypt(found.phone_cipher, PHONE_PURPOSE) == "13800001111"
    assert found.phone_masked == "138****1111"


def test_reimport_is_idempotent_updates_adds_and_marks_the_unlisted(runner, client, ctx, tmp_path):
    a, b, c, d = (new_id_number(date(1970, 1, i)) for i in range(1, 5))
    first = _write(tmp_path / "r1.csv", [("王芳", a, "", ""), ("李雷", b, "", ""), ("韩梅", c, "", "")])
    _import(runner, first)
    assert "rows=3 added=0 updated=0 unchanged=3 unlisted=0 rejected=0" in _import(runner, first)

    # The person who will leave the registry has records and a score: they stay.
    department, key = gen_department("SX_AMR", ["LA_PENALTY_GENERAL"])
    client.post("/api/v1/records/batch", json={"records": [
        {"external_id": "P-1", "id_number": c, "type_code": "LA_PENALTY_GENERAL",
         "occurred_at": (date.today() - timedelta(days=3)).isoformat()}]}, headers=bearer(key))
    second = _write(tmp_path / "r2.csv", [("王芳", a, "", ""), ("李雷", b, "", "迁出"), ("刘备", d, "", "")])
    assert "rows=3 added=1 updated=1 unchanged=1 unlisted=1 rejected=0" in _import(runner, second)
    assert _people() == {a: ("王芳", "active"), b: ("李雷", "moved"), c: ("韩梅", "unlisted"), d: ("刘备", "active")}
    assert db.session.scalar(select(db.func.count()).select_from(Record)) == 1

    # A partial file marks nobody; the unlisted person listed again is active again.
    third = _write(tmp_path / "r3.csv", [("韩梅", c, "", "")])
    assert "added=0 updated=1 unchanged=0 unlisted=0" in _import(runner, third, "--partial")
    assert _people()[c] == ("韩梅", "active")
    # Registered by the import: the counter sees them as registered.
    response = client.post("/api/v1/citizens", json={"name": "刘备", "id_number": d}, headers=staff_headers(client))
    assert (response.status_code, response.get_json()["code"]) == (409, "citizen_exists")


def test_records_held_for_people_not_registered_attach_on_import(runner, client, ctx, tmp_path):
    number = new_id_number(date(1988, 8, 8))
    _, key = gen_department("SX_AMR", ["LA_PENALTY_GENERAL"])
    body = client.post("/api/v1/records/batch", json={"records": [
        {"external_id": "H-1", "id_number": number, "type_code": "LA_PENALTY_GENERAL",
         "occurred_at": (date.today() - timedelta(days=3)).isoformat()}]}, headers=bearer(key)).get_json()
    assert [row["code"] for row in body["held"]] == ["pending_citizen"]
    output = _import(runner, _write(tmp_path / "r.csv", [("新人", number, "", "")]))
    assert "added=1" in output and "attached=1" in output
    citizen = find_by_id_number(number)
    assert [r.external_id for r in db.session.scalars(select(Record).where(Record.citizen_id == citizen.id))] \
        == ["H-1"]
    assert db.session.scalar(select(db.func.count()).select_from(PendingRecord)) == 0
    assert citizen.needs_recompute  # scored once they give their consent


def test_a_file_without_the_required_columns_is_refused(runner, ctx, tmp_path):
    path = _write(tmp_path / "bad.csv", [("x", "y")], header=("姓名", "电话"))
    result = runner.invoke(args=["citizens", "import", str(path)])
    assert result.exit_code != 0 and "身份证号码" in result.output
