"""个人信用报告: issue (render + sign), list, download, revoke, verify, and the staff's look-up and figures.

A report is a snapshot: what it shows is fixed when it is issued and kept with it, so verifying a report says what
that paper says, never today's score, and never more than the citizen chose to show. Verifying it is a read of the
citizen's data by someone else, so each verification is in the citizen's audit trail ("who looked at my data").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import func, select, update

from app import ratelimit
from app.audit import service as audit
from app.audit.service import Actor
from app.citizens.models import Citizen
from app.citizens.service import has_consent
from app.errors import ApiError
from app.extensions import db
from app.records.models import Department, Record
from app.reports import render, signing
from app.reports.models import CreditReport
from app.rights import commitments
from app.rights.models import OPEN_STATES, RightsCase
from app.scoring import service as scoring
from app.scoring.models import Score
from app.security.pii import mask_name
from app.timeutil import CITY_TZ, utcnow
from score_model import DIMENSION_NAMES

PURPOSES = {"credit_loan": "信易贷", "job": "求职", "rental": "租房", "other": "其他"}
SCOPES = {"level": "仅信用等级", "level_score": "信用等级和信用分", "full": "完整信用档案"}
STATUS_NAMES = {"valid": "有效", "expired": "已过期", "revoked": "已撤销", "unknown": "未找到该报告"}

# 32 symbols without 0/O and 1/I, so a number read aloud or typed from paper survives; 16 of them are 80 bits.
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NUMBER_LENGTH = 16

REQUESTS_SPENT = ratelimit.Refusal("too_many_reports", "今日申请信用报告次数已达上限，请约 {minutes} 分钟后再试。")
VERIFICATIONS_SPENT = ratelimit.Refusal("too_many_verifications", "核验过于频繁，请约 {minutes} 分钟后再试。")


def new_number() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(NUMBER_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, NUMBER_LENGTH, 4))


def normalise_number(text: str) -> str | None:
    """The canonical form of a typed number (any case, spaces or dashes anywhere), or None if it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch not in " -")
    if len(raw) != NUMBER_LENGTH or any(ch not in _ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + 4] for i in range(0, NUMBER_LENGTH, 4))


def public_base_url() -> str:
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return "http://127.0.0.1:5000"


def verify_url(number: str, base_url: str | None = None) -> str:
    return f"{(base_url or public_base_url()).rstrip('/')}/verify/report/{number}"


def _city_time(moment: datetime) -> str:
    return moment.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")


def purpose_name(report: CreditReport) -> str:
    if report.purpose == "other" and report.purpose_text:
        return f"其他：{report.purpose_text}"
    return PURPOSES[report.purpose]


def status_of(report: CreditReport, now: datetime | None = None) -> str:
    if report.revoked_at is not None:
        return "revoked"
    return "valid" if (now or utcnow()) < report.valid_until else "expired"


# -- issuing --------------------------------------------------------------------------------------------------


def _full_file(citizen: Citizen, stored: Score, score_rules) -> dict:
    """Dimensions, every counted record with its points and dates, commitments, and records under an open
    objection (they do not count while it is open, and the report says so)."""
    contributions = [c for c in scoring.explain(citizen).contributions if c.counted]
    by_ref = {}
    if contributions:
        rows = db.session.execute(
            select(Record.ref, Record.occurred_at, Department.name)
            .join(Department, Department.id == Record.department_id)
            .where(Record.citizen_id == citizen.id, Record.ref.in_([c.ref for c in contributions])))
        by_ref = {row.ref: row for row in rows}
    records = []
    for contribution in contributions:
        row = by_ref.get(contribution.ref)
        records.append({
            "name": contribution.name,
            "dimension_name": DIMENSION_NAMES.get(contribution.dimension, "") if contribution.dimension else "",
            "department": row.name if row else "",
            "occurred_on": row.occurred_at.isoformat() if row else "",
            "counts_through": (contribution.counts_until - timedelta(days=1)).isoformat()
            if contribution.counts_until else None,
            "points": contribution.points,
        })
    records.sort(key=lambda r: r["occurred_on"], reverse=True)
    objections = []
    for case, record in db.session.execute(
            select(RightsCase, Record).join(Record, Record.id == RightsCase.record_id)
            .where(RightsCase.citizen_id == citizen.id, RightsCase.kind == "objection",
                   RightsCase.state.in_(OPEN_STATES)).order_by(RightsCase.id)):
        kind = score_rules.catalog.get(record.type_code)
        objections.append({"name": kind.name if kind else record.type_code,
                           "occurred_on": record.occurred_at.isoformat(),
                           "filed_on": case.received_on.isoformat()})
    return {
        "dimensions": [{"key": key, "name": dimension.name, "points": getattr(stored, key), "cap": dimension.cap}
                       for key, dimension in score_rules.dimensions.items()],
        "records": records,
        "commitments": [{"name": c["name"], "status_name": c["status_name"], "starts_on": c["starts_on"].isoformat(),
                         "ends_on": c["ends_on"].isoformat()} for c in commitments.list_for(citizen.id)],
        "objections": objections,
    }


def request_report(citizen: Citizen, purpose: str, scope: str, purpose_text: str | None = None,
                   valid_days: int | None = None, base_url: str | None = None) -> CreditReport:
    """Issue one report: snapshot what the chosen scope shows, render the PDF, sign it, keep it. Commits."""
    config = current_app.config
    if purpose not in PURPOSES:
        raise ApiError(422, "invalid_purpose", "报告用途不在可选范围内。",
                       {"purpose": ["请选择信易贷、求职、租房或其他。"]})
    if scope not in SCOPES:
        raise ApiError(422, "invalid_scope", "报告内容范围不在可选范围内。",
                       {"scope": ["请选择 level、level_score 或 full。"]})
    purpose_text = (purpose_text or "").strip() or None
    if purpose == "other" and not purpose_text:
        raise ApiError(422, "purpose_text_required", "用途选择“其他”时，请填写具体用途。",
                       {"purpose_text": ["请填写具体用途。"]})
    if purpose != "other":
        purpose_text = None
    days = valid_days or config["REPORT_VALIDITY_DAYS"]
    if not 1 <= days <= config["REPORT_MAX_VALIDITY_DAYS"]:
        raise ApiError(422, "invalid_validity", f"有效期须在 1 至 {config['REPORT_MAX_VALIDITY_DAYS']} 天之间。",
                       {"valid_days": ["有效期超出范围。"]})
    if not has_consent(citizen.id, "scoring"):
        raise ApiError(409, "no_scoring_consent",
                       "您尚未授权（或已撤回授权）信用评分，无法出具信用报告。可在「我的授权」中开启信用评分授权。")
    stored = db.session.get(Score, citizen.id)
    if stored is None:
        raise ApiError(404, "score_not_ready", "信用分正在计算中，请稍后再申请信用报告。")
    report_signer = signing.signer()
    now = utcnow().replace(microsecond=0)
    report_signer.check_window(now)  # before spending the citizen's budget or rendering anything
    ratelimit.hit(config["REPORT_REQUESTS_PER_CITIZEN"], REQUESTS_SPENT, "report-request", citizen.ref)

    score_rules = scoring.rules()
    number = new_number()
    report = CreditReport(
        number=number, citizen_id=citizen.id, purpose=purpose, purpose_text=purpose_text, scope=scope,
        issued_at=now, valid_until=now + timedelta(days=days), masked_name=mask_name(citizen.name),
        masked_id_number=citizen.id_masked, level=stored.level, level_name=score_rules.level_name(stored.level),
        total=stored.total if scope != "level" else None, rules_version=stored.rules_version,
    )
    city = config["CITY_NAME"]
    context = {
        "city": city, "score_name": config["SCORE_NAME"], "number": number, "masked_name": report.masked_name,
        "masked_id_number": report.masked_id_number, "purpose_name": purpose_name(report),
        "scope_name": SCOPES[scope], "as_of": _city_time(now), "valid_from": _city_time(now),
        "valid_until": _city_time(report.valid_until), "level": report.level, "level_name": report.level_name,
        "total": report.total, "max_total": score_rules.max_total, "verify_url": verify_url(number, base_url),
        "full": _full_file(citizen, stored, score_rules) if scope == "full" else None,
    }
    pdf = report_signer.sign(render.render_pdf(context), city=city, now=now)
    report.pdf, report.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
    db.session.add(report)
    audit.log(citizen.id, "report.issue", f"本人申请个人信用报告（{purpose_name(report)}）",
              {"report": number, "purpose": purpose, "scope": scope})
    db.session.commit()
    return report


# -- the citizen's own reports ---------------------------------------------------------------------------------


def view(report: CreditReport, now: datetime | None = None) -> dict:
    """The report as its holder (and staff) see it."""
    status = status_of(report, now)
    return {
        "number": report.number, "purpose": report.purpose, "purpose_text": report.purpose_text,
        "purpose_name": purpose_name(report), "scope": report.scope, "scope_name": SCOPES[report.scope],
        "issued_at": report.issued_at, "valid_until": report.valid_until, "revoked_at": report.revoked_at,
        "status": status, "status_name": STATUS_NAMES[status], "level": report.level,
        "level_name": report.level_name, "total": report.total, "verifications": report.verifications,
        "verify_url": verify_url(report.number),
    }


def reports_of(citizen: Citizen) -> list[dict]:
    rows = db.session.scalars(select(CreditReport).where(CreditReport.citizen_id == citizen.id)
                              .order_by(CreditReport.issued_at.desc(), CreditReport.id.desc()))
    now = utcnow()
    return [view(report, now) for report in rows]


def _own(citizen: Citizen, number: str) -> CreditReport:
    canonical = normalise_number(number)
    report = db.session.scalar(select(CreditReport).where(CreditReport.number == canonical,
                                                          CreditReport.citizen_id == citizen.id)) \
        if canonical else None
    if report is None:
        raise ApiError(404, "report_not_found", "没有找到这份信用报告。")
    return report


def get_own(citizen: Citizen, number: str) -> CreditReport:
    return _own(citizen, number)


def pdf_of(citizen: Citizen, number: str) -> tuple[str, bytes]:
    report = _own(citizen, number)
    return report.number, report.pdf


def revoke(citizen: Citizen, number: str) -> CreditReport:
    """Revoke one of the citizen's reports; revoking a revoked one changes nothing (the first time stands)."""
    report = _own(citizen, number)
    changed = db.session.execute(update(CreditReport).where(CreditReport.id == report.id,
                                                            CreditReport.revoked_at.is_(None))
                                 .values(revoked_at=utcnow())).rowcount
    if changed:
        audit.log(citizen.id, "report.revoke", "本人撤销个人信用报告", {"report": report.number})
    db.session.commit()
    db.session.refresh(report)
    return report


# -- verification by whoever holds the report ------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    status: str
    view: dict
    file_matches: bool | None = None


def public_view(report: CreditReport | None, number: str, now: datetime | None = None) -> dict:
    """What a verifier learns: the status, and only while valid, what the report itself shows."""
    if report is None:
        return {"number": number, "status": "unknown", "status_name": STATUS_NAMES["unknown"]}
    status = status_of(report, now)
    answer = {
        "number": report.number, "status": status, "status_name": STATUS_NAMES[status],
        "city": current_app.config["CITY_NAME"], "issued_at": report.issued_at, "as_of": report.issued_at,
        "valid_until": report.valid_until, "revoked_at": report.revoked_at, "purpose": report.purpose,
        "purpose_name": purpose_name(report), "scope": report.scope, "scope_name": SCOPES[report.scope],
    }
    if status == "valid":
        answer["shows"] = {"masked_name": report.masked_name, "masked_id_number": report.masked_id_number,
                           "level": report.level, "level_name": report.level_name,
                           **({"total": report.total} if report.scope != "level" else {})}
    return answer


def _organisation(text: str | None) -> str | None:
    cleaned = " ".join((text or "").split())[:60]
    return cleaned or None


def verify(number: str, organisation: str | None = None, pdf: bytes | None = None, via: str = "page") -> Verification:
    """Check a report number (and, given one, a PDF file against the issued bytes). Counts against the caller's
    address; a found report's verification is written to its holder's trail, with the verifier's stated
    organisation. Commits."""
    ratelimit.hit(current_app.config["REPORT_VERIFICATIONS_PER_ADDRESS"], VERIFICATIONS_SPENT, "report-verify",
                  ratelimit.client_ip())
    canonical = normalise_number(number)
    report = db.session.scalar(select(CreditReport).where(CreditReport.number == canonical)) if canonical else None
    now = utcnow()
    answer = public_view(report, canonical or number[:40], now)
    matches = None
    if report is not None:
        if pdf is not None:
            matches = hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
        organisation = _organisation(organisation)
        reason = f"核验个人信用报告（{purpose_name(report)}）"
        if organisation:
            reason = f"{organisation}{reason}"
        audit.log(report.citizen_id, "report.verify", reason[:200],
                  {"report": report.number, "organisation": organisation, "via": via, "status": answer["status"],
                   **({"file_matches": matches} if matches is not None else {})},
                  actor=Actor("verifier", "report-verifier"))
        db.session.execute(update(CreditReport).where(CreditReport.id == report.id)
                           .values(verifications=CreditReport.verifications + 1, last_verified_at=now))
        db.session.commit()
    return Verification(answer["status"], answer, matches)


def ca_certificate_pem() -> bytes | None:
    return signing.signer().root_pem()


# -- staff -----------------------------------------------------------------------------------------------------


def staff_lookup(number: str, reason: str) -> dict | None:
    """A report as staff see it (its holder's ref to open the file), the look-up audited with its reason."""
    canonical = normalise_number(number)
    report = db.session.scalar(select(CreditReport).where(CreditReport.number == canonical)) if canonical else None
    if report is None:
        return None
    citizen = db.session.get(Citizen, report.citizen_id)
    audit.log(report.citizen_id, "report.lookup", reason[:200], {"report": report.number})
    db.session.commit()
    return {**view(report), "citizen_ref": citizen.ref if citizen else None,
            "masked_name": report.masked_name, "masked_id_number": report.masked_id_number,
            "last_verified_at": report.last_verified_at, "pdf_sha256": report.pdf_sha256}


def _city_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CITY_TZ).astimezone(UTC)


def counts_by_purpose(date_from: date, date_to: date) -> dict:
    """Reports issued per purpose between two city dates (inclusive), every purpose listed."""
    rows = dict(db.session.execute(
        select(CreditReport.purpose, func.count()).where(
            CreditReport.issued_at >= _city_midnight(date_from),
            CreditReport.issued_at < _city_midnight(date_to + timedelta(days=1)))
        .group_by(CreditReport.purpose)).all())
    purposes = [{"key": key, "name": name, "count": rows.get(key, 0)} for key, name in PURPOSES.items()]
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "purposes": purposes,
            "total": sum(item["count"] for item in purposes)}
