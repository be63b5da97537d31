"""No input makes the API fail or break its contract: every operation of the OpenAPI document, fed inputs
generated from its own schema (and mutations of them) by schemathesis, answers without a 5xx, and every answer's
body matches the schema the document gives for its status code (so a drift between the code and the document that
clients are generated from fails here).

Each operation is called with the credentials its security scheme asks for (an admin, a department, a merchant
terminal, a bound citizen), so the generated input reaches the validation and the services, not only the guard.
The mini-program's login reaches the stand-in WeChat server, 浙里办's the stand-in province SSO; partner calls
carry a fresh token signed by a registered 杭州. Generation is derandomized and keeps no example database, so every
run sends the same inputs; 25 examples per operation keep the whole API under a minute.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.config import TestConfig
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
def credentials(app, client, wechat, zlb_sso, tmp_path) -> dict[str, Callable[[], dict]]:
    """Headers for each security scheme; a partner's token is single-use, so each call gets a fresh one."""
    from tests.app.partners.conftest import PartnerCity
    from tests.benefits.helpers import Shop, make_citizen, mp_headers, zlb_headers

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
    return {"staffToken": lambda: staff, "departmentKey": lambda: bearer(department_key),
            "terminalKey": lambda: shop.headers, "citizenToken": lambda: citizen, "zlbToken": lambda: zlb_citizen,
            "partnerToken": hangzhou.headers}



@schema.parametrize()
@settings(max_examples=25, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_input_makes_an_operation_fail(app, case, credentials):
    schemes = [name for requirement in case.operation.definition.raw.get("security", []) for name in requirement]
    headers = next((credentials[name]() for name in schemes if name in credentials), {})
    response = case.call(app=app, headers=headers)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
