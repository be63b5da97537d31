"""Records the credit centre issues itself: the outcome of a commitment (kept / broken / false) and an accepted
voluntary report (自愿注册). Same table, same catalog, same idempotency on (department, external id) and the same
announcements as a department's 归集, so they reach the score by the one path every record takes.

The caller owns the transaction (nothing here commits) and rescores the citizen after committing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from flask import current_app
from sqlalchemy import select, update

from app.audit import service as audit
from app.citizens.models import Citizen
from app.extensions import db
from app.records.catalog import rules
from app.records.models import Department, Record
from app.signals import records_landed

CREDIT_CENTRE_NAME = "信用中心"


def credit_centre() -> Department:
    """The credit centre's department row (code from CREDIT_CENTRE_DEPARTMENT), created on first use."""
    code = current_app.config["CREDIT_CENTRE_DEPARTMENT"]
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        department = Department(code=code, name=CREDIT_CENTRE_NAME, record_types=[])
        db.session.add(department)
        db.session.flush()
    return department


def issue(citizen_id: int, type_code: str, external_id: str, occurred_at: date, *, summary: str,
          quantity: int = 1) -> Record:
    """Add one record from the credit centre, or return the one already issued under ``external_id``."""
    if type_code not in rules().catalog:
        raise ValueError(f"{type_code} is not in the catalog")
    department = credit_centre()
    existing = db.session.scalar(select(Record).where(Record.department_id == department.id,
                                                      Record.external_id == external_id))
    if existing is not None:
        return existing
    values = {"type_code": type_code, "status": "active", "occurred_at": str(occurred_at), "quantity": quantity,
              "summary": summary, "who": citizen_id}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    record = Record(citizen_id=citizen_id, department_id=department.id, external_id=external_id,
                    type_code=type_code, status="active", occurred_at=occurred_at, quantity=quantity,
                    summary=summary[:500], content_digest=digest)
    db.session.add(record)
    db.session.flush()
    db.session.execute(update(Citizen).where(Citizen.id == citizen_id).values(needs_recompute=True))
    audit.log(citizen_id, "records.issue", "信用中心记入信用记录",
              {"department": department.code, "record": record.ref, "type": type_code})
    if records_landed.receivers:
        records_landed.send(current_app._get_current_object(), record_ids=[record.id])
    return record
