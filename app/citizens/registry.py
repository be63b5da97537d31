"""The population registry (人口库) import: millions of residents from one CSV file, in bulk and idempotent.

Each row is validated by the same rules as a registration at the counter (``service.validate_registration``);
a bad row is reported with its line and kept out, the good ones are kept. Rows are encrypted and blind-indexed
in Python and streamed, chunk by chunk, into a temporary staging table (COPY on PostgreSQL, executemany on
SQLite), so memory does not grow with the file. The merge is then a few set-based statements:

* people not registered yet are added;
* people whose name, phone or status changed since the last import are updated (a keyed digest of what the
  import last wrote tells, so an unchanged re-import writes nothing);
* people an earlier import listed and this one does not are marked ``unlisted`` (a full registry extract only;
  ``snapshot=False`` for a partial file). Nobody is deleted: records, scores and history stay;
* records departments pushed before these people were registered are attached (``citizens_registered``, to which
  app/records listens).
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, String, Table, insert, text
from sqlalchemy.engine import Connection

from app.audit import service as audit
from app.bulk import copy_rows
from app.citizens.counter import attach_held_records
from app.citizens.service import ID_PURPOSE, PHONE_PURPOSE, validate_registration
from app.errors import ApiError
from app.extensions import db
from app.security.pii import mask_id_number, mask_phone, vault
from app.storable import UNSTORABLE
from app.timeutil import city_today, utcnow

REGISTRY_DIGEST_PURPOSE = b"registry-row"
UNLISTED_DIGEST = "unlisted"  # not a digest: a person listed again is always rewritten
# Header names: English or the registry's Chinese ones.
HEADERS = {"name": "name", "姓名": "name", "id_number": "id_number", "身份证号码": "id_number",
           "身份证号": "id_number", "phone": "phone", "手机号码": "phone", "手机号": "phone",
           "status": "status", "状态": "status"}
STATUSES = {"": "active", "active": "active", "在册": "active", "正常": "active",
            "moved": "moved", "迁出": "moved", "deceased": "deceased", "死亡": "deceased"}
REJECTIONS = {
    "invalid_characters": "该行含有无法识别的字符。",
    "invalid_status": "人口状态只能为 在册（active）、迁出（moved）或 死亡（deceased）。",
    "duplicate_in_file": "同一文件中身份证号码重复，仅保留第一次出现的一行。",
    "missing_column": "文件缺少必需的列：姓名（name）与身份证号码（id_number）。",
}

_staging_metadata = MetaData()
_STAGING = Table(
    "registry_import", _staging_metadata,
    Column("line", Integer, primary_key=True),
    Column("ref", String(32)),
    Column("id_index", String(64)),
    Column("name", String(64)),
    Column("id_cipher", LargeBinary),
    Column("id_masked", String(18)),
    Column("birth_date", Date),
    Column("phone_cipher", LargeBinary),
    Column("phone_masked", String(16)),
    Column("status", String(16)),
    Column("digest", String(64)),
    prefixes=["TEMPORARY"],
)
_STAGING_COLUMNS = tuple(column.name for column in _STAGING.columns)


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    unlisted: int = 0
    rejected: int = 0
    attached_citizens: int = 0
    first_rejections: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in ("rows", "added", "updated", "unchanged", "unlisted",
                                                      "rejected", "attached_citizens")}


class RegistryFileError(Exception):
    """The file as a whole cannot be imported (e.g. a required column is missing)."""


def read_rows(handle) -> Iterator[tuple[int, dict]]:
    """(line number, row) from a registry CSV; the header is line 1. Values are stripped; unknown columns dropped."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    names = [HEADERS.get(column.strip().lower() if column.strip().isascii() else column.strip())
             for column in header]
    if "name" not in names or "id_number" not in names:
        raise RegistryFileError(REJECTIONS["missing_column"])
    for values in reader:
        if not values:
            continue
        yield reader.line_num, {name: value.strip() for name, value in zip(names, values, strict=False) if name}


def _clean(row: dict, today: date, pii) -> tuple:
    """One staging row (without line and ref) from a file row, or ApiError with the counter's code."""
    if UNSTORABLE.search("".join(row.values())):
        raise ApiError(422, "invalid_characters", REJECTIONS["invalid_characters"])
    phone = row.get("phone") or None
    resident, name = validate_registration(row.get("name", ""), row.get("id_number", ""), phone, today)
    status = STATUSES.get(row.get("status", "").lower())
    if status is None:
        raise ApiError(422, "invalid_status", REJECTIONS["invalid_status"])
    number = resident.number  # normalised, as service.id_index would make it
    digest = pii.blind_index(f"{name}\x1f{phone or ''}\x1f{status}", REGISTRY_DIGEST_PURPOSE)
    return (pii.blind_index(number, ID_PURPOSE), name, pii.encrypt(number, ID_PURPOSE), mask_id_number(number),
            resident.birth_date, pii.encrypt(phone, PHONE_PURPOSE) if phone else None,
            mask_phone(phone) if phone else None, status, digest)


def import_registry(rows: Iterable[tuple[int, dict]], *, snapshot: bool = True, chunk_size: int = 5000,
                    on_rejected: Callable[[dict], None] | None = None,
                    on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import the registry rows (see the module docstring); returns what was done. One transaction for the
    merge: an interrupted import changes nothing and can simply be run again."""
    report = ImportReport()
    today, pii = city_today(), vault()

    def rejected(line: int, code: str, message: str) -> None:
        entry = {"line": line, "code": code, "message": message}
        report.rejected += 1
        if len(report.first_rejections) < 20:
            report.first_rejections.append(entry)
        if on_rejected:
            on_rejected(entry)

    with db.engine.connect() as connection:
        _STAGING.create(connection)
        try:
            chunk: list[tuple] = []
            seen = 0
            for line, row in rows:
                seen += 1
                try:
                    chunk.append((line, secrets.token_hex(16), *_clean(row, today, pii)))
                except ApiError as error:
                    rejected(line, error.code, error.message)
                if seen >= chunk_size:
                    _stage(connection, chunk)
                    if on_progress:
                        on_progress(seen)
                    chunk, seen = [], 0
            _stage(connection, chunk)
            if on_progress and seen:
                on_progress(seen)
            for line in _drop_duplicates(connection):
                rejected(line, "duplicate_in_file", REJECTIONS["duplicate_in_file"])
            report.rows = connection.execute(text("SELECT count(*) FROM registry_import")).scalar_one()
            _merge(connection, report, snapshot)
            connection.commit()
        finally:
            connection.rollback()
            connection.execute(text("DROP TABLE IF EXISTS registry_import"))
            connection.commit()
    report.unchanged = report.rows - report.added - report.updated
    audit.log(None, "citizens.import", "人口库导入", report.as_dict())
    db.session.commit()
    report.attached_citizens = len(attach_held_records(None))
    return report


def _stage(connection: Connection, chunk: list[tuple]) -> None:
    if chunk:
        if connection.dialect.name == "postgresql":
            copy_rows(connection, _STAGING, _STAGING_COLUMNS, chunk)
        else:
            connection.execute(insert(_STAGING), [dict(zip(_STAGING_COLUMNS, row, strict=True)) for row in chunk])


def _drop_duplicates(connection: Connection) -> list[int]:
    """Lines repeating an ID number of an earlier line: removed from the staging table, returned."""
    connection.execute(text("CREATE INDEX registry_import_id_index ON registry_import (id_index, line)"))
    lines = list(connection.execute(text(
        "SELECT s.line FROM registry_import s WHERE EXISTS (SELECT 1 FROM registry_import t "
        "WHERE t.id_index = s.id_index AND t.line < s.line) ORDER BY s.line")).scalars())
    for start in range(0, len(lines), 900):
        part = lines[start:start + 900]
        connection.execute(text(f"DELETE FROM registry_import WHERE line IN ({', '.join(map(str, part))})"))
    if connection.dialect.name == "postgresql":
        connection.execute(text("ANALYZE registry_import"))
    return lines


def _merge(connection: Connection, report: ImportReport, snapshot: bool) -> None:
    params = {"now": utcnow(), "no": False, "unlisted": UNLISTED_DIGEST}
    # Changed people first (before the new ones exist, which are then not compared for nothing). An empty phone
    # in the registry keeps a phone given at the counter.
    report.updated = connection.execute(text(
        "UPDATE citizen SET name = s.name, status = s.status, registry_digest = s.digest, "
        "phone_cipher = COALESCE(s.phone_cipher, citizen.phone_cipher), "
        "phone_masked = COALESCE(s.phone_masked, citizen.phone_masked) "
        "FROM registry_import s WHERE citizen.id_index = s.id_index "
        "AND (citizen.registry_digest IS NULL OR citizen.registry_digest <> s.digest)"), params).rowcount
    report.added = connection.execute(text(
        "INSERT INTO citizen (ref, name, id_cipher, id_index, id_masked, phone_cipher, phone_masked, birth_date, "
        "needs_recompute, created_at, status, registry_digest) "
        "SELECT s.ref, s.name, s.id_cipher, s.id_index, s.id_masked, s.phone_cipher, s.phone_masked, s.birth_date, "
        ":no, :now, s.status, s.digest FROM registry_import s "
        "WHERE NOT EXISTS (SELECT 1 FROM citizen c WHERE c.id_index = s.id_index) "
        "ON CONFLICT (id_index) DO NOTHING"), params).rowcount
    if snapshot:
        # Listed by an earlier import, not by this one: moved away or deceased, the extract does not say which.
        report.unlisted = connection.execute(text(
            "UPDATE citizen SET status = 'unlisted', registry_digest = :unlisted "
            "WHERE registry_digest IS NOT NULL AND registry_digest <> :unlisted "
            "AND NOT EXISTS (SELECT 1 FROM registry_import s WHERE s.id_index = citizen.id_index)"),
            params).rowcount
