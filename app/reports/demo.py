"""The demo city's credit reports: one citizen holds a report of each kind (and a revoked one), a few others hold
one each so the dashboard's chart has figures; the PDFs are also written under instance/demo-reports/. Adds
``reports`` to the demo credentials."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g
from sqlalchemy import select

from app.audit.service import Actor
from app.citizens.models import Citizen
from app.citizens.service import ID_PURPOSE, has_consent
from app.extensions import db
from app.reports import service
from app.rights.models import OPEN_STATES, RightsCase
from app.scoring.models import Score
from app.security.pii import vault

SHOWCASE = (("credit_loan", "level", None), ("rental", "level_score", None), ("job", "full", None),
            ("other", "level", "办理人才公寓入住"))
OTHERS = (("credit_loan", "level_score"), ("credit_loan", "level"), ("job", "level"))


def _showcase_citizen() -> Citizen | None:
    """A scored citizen with an open objection, so the full report shows one marked as such."""
    ids = db.session.scalars(
        select(RightsCase.citizen_id).join(Score, Score.citizen_id == RightsCase.citizen_id)
        .where(RightsCase.kind == "objection", RightsCase.state.in_(OPEN_STATES), Score.level >= 2)
        .order_by(RightsCase.citizen_id)).all()
    for citizen_id in ids:
        if has_consent(citizen_id, "scoring"):
            return db.session.get(Citizen, citizen_id)
    return None


def seed(payload: dict, base_url: str) -> None:
    g.actor = Actor("system", "demo-seed")
    citizen = _showcase_citizen()
    if citizen is None:
        return
    folder = Path(current_app.instance_path) / "demo-reports"
    folder.mkdir(parents=True, exist_ok=True)
    issued = []
    for purpose, scope, text in SHOWCASE:
        report = service.request_report(citizen, purpose, scope, text, base_url=base_url)
        (folder / f"{report.number}.pdf").write_bytes(report.pdf)
        issued.append(report)
    revoked = service.revoke(citizen, issued[-1].number)
    shown = [c["ref"] for c in payload.get("citizens", [])]
    for (purpose, scope), ref in zip(OTHERS, shown[2:], strict=False):
        other = db.session.scalar(select(Citizen).where(Citizen.ref == ref))
        if other is not None and other.id != citizen.id and db.session.get(Score, other.id) is not None \
                and has_consent(other.id, "scoring"):
            service.request_report(other, purpose, scope, base_url=base_url)
    ca = Path(current_app.config["KEYS_DIR"]) / "reports" / "ca.pem"
    payload["reports"] = {
        "note": "个人信用报告：下面的居民持有每种内容范围的报告各一份（另有一份已撤销）。"
                "用任意 code 登录小程序并绑定该居民后，"
                "GET /mp/v1/me/reports 列出报告，GET /mp/v1/me/reports/<number>/pdf 下载，"
                "POST /mp/v1/me/reports 申请新报告。PDF 的二维码打开核验页面。",
        "citizen": {"name": citizen.name, "id_number": vault().decrypt(citizen.id_cipher, ID_PURPOSE),
                    "ref": citizen.ref},
        "reports": [{"number": report.number, "scope": report.scope, "scope_name": service.SCOPES[report.scope],
                     "purpose_name": service.purpose_name(report),
                     "status": "revoked" if report.id == revoked.id else "valid",
                     "verify_url": service.verify_url(report.number, base_url),
                     "pdf_file": str(folder / f"{report.number}.pdf")} for report in issued],
        "ca_certificate": str(ca),
        "check_offline": f"pdfsig {folder}/<number>.pdf（信任演示根证书：见 README「个人信用报告」）",
        "staff_lookup": f"{base_url}/console/reports",
    }
