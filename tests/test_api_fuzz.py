"""No input makes the API fail or break its contract: every operation of the OpenAPI document, fed inputs
generated from its own schema (and mutations of them) by schemathesis, answers without a 5xx, and every answer's
body matches the schema the document gives for its status code (so a drift between the code and the document that
clients are generated from fails here).

Each operation is called with the credentials its security scheme asks for (an admin, a department, a merchant
terminal, a bound citizen), so the generated input reaches the validation and the services, not only the guard.
The mini-program's login reaches the stand-in WeChat server, 浙里办's the stand-in province SSO; partner calls
carry a fresh token signed by a registered 杭州. Generation is derandomized and keeps no example database, so every
run sends the same inputs; 25 examples per operation keep the whole API under a minute.

Generated input cannot make state: a random ref names no case, and a list is empty until something is filed. So the
fixture issues an attestation for 杭州 and, for the operations about cases, files an objection and a repair of the
citizen's records, which puts them in every list; ``test_answers_about_seeded_state_match_the_document`` then calls the
operations that name one of them, with its real ref, and checks their bodies too.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.config import TestConfig
from app.extensions import db
from app.factory import create_app
from benefits.catalog import ensure_default_scenes
from tests.factories import bearer, gen_department, staff_headers


def _openapi_document() -> dict:
    """The document as the app serves it; read from a throwaway app because pytest collects this module before
    the session's app exists (schemathesis's lazy fixture loader does not run on pytest 9)."""
    with tempfile.TemporaryDirectory() as instance:
        return create_app(TestConfig, INSTANCE_PATH=Path(instance), KEYS_DIR=Path(instance) / "keys",
                          SQLALCHEMY_DATABASE_URI="sqlite://").test_client().get("/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_openapi_document())


@pytest.fixture
def seeded(app, client, wechat, zlb_sso, tmp_path) -> dict:
    """Headers for each security scheme (a partner's token is single-use, so each call gets a fresh one), and the
    refs of what the citizen has filed and been issued."""
    from app.citizens import service as citizens
    from app.partners import attestations
    from app.rights import calendar
    from tests.app.partners.conftest import PartnerCity
    from tests.app.rights.conftest import image_bytes
    from tests.benefits.helpers import Shop, make_citizen, mp_headers, zlb_headers
    from tests.miniprogram_api.conftest import _plain_id

    hangzhou = PartnerCity(tmp_path / "hangzhou-keys")
    with app.app_context():
        ensure_default_scenes()
        _, department_key = gen_department()
        shop = Shop(client)
        person = make_citizen("张三丰", level=3)
        citizen = mp_headers(person)
        zlb_citizen = zlb_headers(person)
        hangzhou.register()
        staff = staff_headers(client, "fuzz-admin", role="admin")
        citizens.grant_consent(person, "partner_sharing", channel="test")
        db.session.commit()
        jti = attestations.issue(person, "330100")["jti"]
        db.session.commit()
        id_number = _plain_id(person)
    refs = {"attestation": jti}

    def file_cases() -> dict:
        """An objection and a repair of two of the citizen's records (only for the operations about cases: the
        calendar and the filings cost a second an operation). Once per operation: its examples share the state."""
        if "objection" in refs:
            return refs
        with app.app_context():
            calendar.seed()
        record_refs = []
        for n in range(2):
            reported = client.post("/api/v1/records", headers=bearer(department_key), json={
                "external_id": f"fuzz-{n}", "id_number": id_number, "type_code": "LA_PENALTY_GENERAL",
                "occurred_at": (date.today() - timedelta(days=120)).isoformat()})
            assert reported.status_code == 200, reported.get_json()
            record_refs.append(reported.get_json()["ref"])
        objection = client.post("/mp/v1/me/objections", headers=citizen, content_type="multipart/form-data", data={
            "record": record_refs[0], "reason_code": "wrong_facts", "reason_text": "处罚已撤销"})
        assert objection.status_code == 201, objection.get_json()
        version = client.get(f"/mp/v1/me/repairs/preview?record={record_refs[1]}", headers=citizen).get_json()
        repair = client.post("/mp/v1/me/repairs", headers=citizen, content_type="multipart/form-data", data={
            "record": record_refs[1], "statement": "罚款已缴清", "commitment_accepted": "true",
            "commitment_version": version.get("commitment_version") or "none",
            "evidence": [(io.BytesIO(image_bytes()), "paid.jpg")]})
        assert repair.status_code == 201, repair.get_json()
        refs.update(objection=objection.get_json()["ref"], repair=repair.get_json()["ref"])
        return refs

    return {"headers": {"staffToken": lambda: staff, "departmentKey": lambda: bearer(department_key),
                        "terminalKey": lambda: shop.headers, "citizenToken": lambda: citizen,
                        "zlbToken": lambda: zlb_citizen, "partnerToken": hangzhou.headers},
            "refs": refs, "file_cases": file_cases}


def _headers(seeded: dict, operation) -> dict:
    schemes = [name for requirement in operation.definition.raw.get("security", []) for name in requirement]
    return next((seeded["headers"][name]() for name in schemes if name in seeded["headers"]), {})


ABOUT_CASES = ("/api/v1/rights/", "/api/v1/departments/me/", "/mp/v1/me/cases", "/mp/v1/me/objections",
               "/mp/v1/me/repairs", "/mp/v1/me/evidence")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_input_makes_an_operation_fail(app, case, seeded):
    if case.operation.path.startswith(ABOUT_CASES):
        seeded["file_cases"]()
    response = case.call(app=app, headers=_headers(seeded, case.operation))
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


# (path, method, the seeded ref its path names, body): the operations whose answer describes one seeded thing.
SEEDED_CALLS = [
    ("/api/v1/rights/cases", "GET", None, None),
    ("/api/v1/rights/cases/{ref}", "GET", "objection", None),
    ("/api/v1/rights/cases/{ref}", "GET", "repair", None),
    ("/api/v1/departments/me/objections", "GET", None, None),
    ("/api/v1/departments/me/objections/{ref}", "GET", "objection", None),
    ("/api/v1/departments/me/objections/{ref}/answer", "POST", "objection", {"finding": "经核查，处罚已被撤销"}),
    ("/mp/v1/me/cases", "GET", None, None),
    ("/mp/v1/me/cases/{ref}", "GET", "objection", None),
    ("/mp/v1/me/attestations", "GET", None, None),
    ("/api/v1/rights/objections/{ref}/decision", "POST", "objection",
     {"decision": "upheld", "reason": "经核查，该处罚已被复议机关撤销"}),
    ("/api/v1/rights/repairs/{ref}/decision", "POST", "repair", {"decision": "approved", "reason": "符合修复条件"}),
]


def test_answers_about_seeded_state_match_the_document(app, seeded):
    seeded["file_cases"]()
    for path, method, names, body in SEEDED_CALLS:
        operation = schema[path][method]
        case = operation.Case(path_parameters={"ref": seeded["refs"][names]} if names else None,
                              **({"body": body, "media_type": "application/json"} if body else {}))
        response = case.call(app=app, headers=_headers(seeded, operation))
        assert response.status_code in (200, 201), (path, response.text[:300])
        if path.endswith(("cases", "objections", "attestations")):
            assert response.json()["items"] if "items" in response.json() else response.json(), path
        case.validate_response(response, checks=[response_schema_conformance])
