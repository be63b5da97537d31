"""浙里办 fixtures: registered citizens, tickets from the stand-in SSO for them, and signed-in /zlb/v1 sessions."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import bearer, gen_citizen, new_id_number
from tests.miniprogram_api.conftest import _plain_id


class Zlb:
    """One city with 王丽 and 陈强 registered (no consent yet); ``ticket(person)`` asks the stand-in for a ticket as
    the container would, ``login(person)`` signs in through /zlb/v1/session and returns the headers."""

    def __init__(self, app, client, sso) -> None:
        self.app, self.client, self.sso = app, client, sso
        with app.app_context():
            wang = gen_citizen("王丽", new_id_number(date(1985, 3, 9)), "13900001111", consent=False)
            chen = gen_citizen("陈强", new_id_number(date(1979, 11, 2)), "13900002222", consent=False)
            self.people = {"wang": {"name": "王丽", "id_number": _plain_id(wang), "ref": wang.ref},
                           "chen": {"name": "陈强", "id_number": _plain_id(chen), "ref": chen.ref}}

    def person(self, who: str, **changes) -> dict:
        known = self.people.get(who)
        base = {"userId": f"zlb-user-{who}", "userName": known["name"] if known else "路人",
                "idType": "111", "idNo": known["id_number"] if known else new_id_number(date(1990, 1, 1)),
                "phone": "13700000000"}
        return {**base, **changes}

    def ticket(self, who: str = "wang", **changes) -> str:
        return self.sso.issue_ticket(self.person(who, **changes))

    def session(self, ticket: str):
        return self.client.post("/zlb/v1/session", json={"ticketId": ticket})

    def login(self, who: str = "wang") -> dict:
        response = self.session(self.ticket(who))
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    def consent(self, headers: dict) -> None:
        response = self.client.put("/zlb/v1/me/consents", json={"kind": "scoring"}, headers=headers)
        assert response.status_code == 200, response.get_json()


@pytest.fixture
def zlb(app, client, zlb_sso):
    return Zlb(app, client, zlb_sso)
