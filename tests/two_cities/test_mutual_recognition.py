"""互认 between two running instances over HTTP: 绍兴 (330600, 绍兴信用分) and 杭州 (330100, 钱江分).

The story, step by step: each registers the other through its staff API; a 绍兴 citizen's attestation is
accepted by a 杭州 merchant offer open to partner citizens; a 杭州 citizen redeems a 绍兴 offer; a 绍兴 citizen
who falls to L0 has their attestation revoked, and after 杭州's reconciliation pulls the revocation it is refused
there; both sides' settlement counts match their receipts, until a receipt is deliberately dropped.
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from datetime import timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import create_engine, text

from app.timeutil import city_today
from tests.two_cities.conftest import ROOT, STATUS_LIST_TTL

pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")

# Redemptions made in the story, per host city and home city, for the settlement step.
REDEEMED: dict[tuple[str, str], int] = {}


def _count(host, home) -> None:
    REDEEMED[(host.code, home.code)] = REDEEMED.get((host.code, home.code), 0) + 1


@pytest.fixture(scope="module")
def linked(cities):
    """Each city registers the other through its staff API: JWKS URL and partner API address."""
    shaoxing, hangzhou = cities["shaoxing"], cities["hangzhou"]
    for here, there in ((shaoxing, hangzhou), (hangzhou, shaoxing)):
        info = requests.get(f"{there.url}/partner/v1/info", timeout=10).json()
        partner = here.call("PUT", f"/api/v1/partners/{there.code}/keys", headers=here.admin,
                            json={"jwks_url": info["jwks_url"], "api_base_url": info["api_base_url"]})
        assert partner["status"] == "active" and partner["key_ids"], partner
        # The seeded registry row holds the partner's public ladder: the same cut-offs its own instance publishes.
        assert [(c["level"], c["min"]) for c in partner["cutoffs"]] == [(c["level"], c["min"])
                                                                         for c in info["cutoffs"]]
    return cities


def _person(city, level: int, index: int = 0) -> dict:
    people = city.citizens_at_least(level)
    assert len(people) > index, f"{city.name}'s demo has too few citizens at L{level}+"
    return people[index]


def test_a_shaoxing_attestation_is_accepted_by_a_hangzhou_offer(linked):
    shaoxing, hangzhou = linked["shaoxing"], linked["hangzhou"]
    person = _person(shaoxing, 3)
    issued = shaoxing.attest(person, "330100")
    # An independent JOSE library verifies it with 绍兴's published keys.
    keys = KeySet.import_key_set(requests.get(f"{shaoxing.url}/.well-known/jwks.json", timeout=10).json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        claims = jwt.decode(issued["attestation"], keys, algorithms=["EdDSA"]).claims
    assert (claims["iss"], claims["aud"], claims["lvl"]) == ("330600", "330100", person["level"])

    offer = hangzhou.partner_offer("西湖游船8折（互认）")
    answer = hangzhou.verify(offer, issued["attestation"])
    assert (answer["eligible"], answer["reason"], answer["partner_city"]) == (True, "ok", "绍兴"), answer
    assert answer["level_name"] == person["level_name"] and answer["masked_name"] is None
    _count(hangzhou, shaoxing)
    assert hangzhou.verify(offer, issued["attestation"])["reason"] == "already_used"
    # The credit code of 绍兴's mini-program works at the 杭州 counter too.
    answer = hangzhou.verify(offer, shaoxing.credit_code(person))
    assert (answer["reason"], answer["partner_city"]) == ("ok", "绍兴"), answer
    _count(hangzhou, shaoxing)
    # Not every offer is open to partner citizens.
    closed = hangzhou.credentials["merchants"][1]["offers"][0]["offer_id"]
    merchant = hangzhou.credentials["merchants"][1]
    answer = hangzhou.call("POST", "/merchant/v1/verifications",
                           headers={"Authorization": f"Bearer {merchant['terminals'][0]['key']}"},
                           json={"code": shaoxing.attest(person, "330100")["attestation"], "offer_id": closed,
                                 "branch_id": merchant["branches"][0]["branch_id"]})
    assert answer["reason"] == "partner_not_accepted", answer


def test_a_hangzhou_citizen_redeems_a_shaoxing_offer(linked):
    shaoxing, hangzhou = linked["shaoxing"], linked["hangzhou"]
    person = _person(hangzhou, 3)
    offer = shaoxing.partner_offer("大禹陵景区门票8折（互认）")
    answer = shaoxing.verify(offer, hangzhou.attest(person, "330600")["attestation"])
    assert (answer["eligible"], answer["reason"], answer["partner_city"]) == (True, "ok", "杭州"), answer
    assert "钱江分" in answer["message"]
    _count(shaoxing, hangzhou)
    # With raw-score sharing the attestation carries the 钱江分 score, which 绍兴 maps through 钱江分's cut-offs:
    # the same level 杭州 gives it.
    hangzhou.call("PUT", "/mp/v1/me/consents/raw_score_sharing", headers=hangzhou.session(person))
    issued = hangzhou.attest(person, "330600")
    assert issued["score_included"] is True
    answer = shaoxing.verify(offer, issued["attestation"])
    assert (answer["reason"], answer["level_name"]) == ("ok", person["level_name"]), answer
    _count(shaoxing, hangzhou)
    # An attestation made for 绍兴 is no good at home.
    home_offer = hangzhou.partner_offer("灵隐寺门票（互认）")
    assert hangzhou.verify(home_offer, hangzhou.attest(person, "330600")["attestation"])["reason"] == "wrong_audience"


def test_revoked_here_is_refused_there_after_reconciliation(linked):
    shaoxing, hangzhou = linked["shaoxing"], linked["hangzhou"]
    person = _person(shaoxing, 3, index=1)
    issued = shaoxing.attest(person, "330100")
    # The court reports the citizen as 失信被执行人: L0 at once, and the attestation is revoked.
    court = next(d for d in shaoxing.credentials["departments"] if "LA_JUDGMENT_DEBTOR" in d["record_types"])
    batch = shaoxing.call("POST", "/api/v1/records/batch", headers={"Authorization": f"Bearer {court['key']}"},
                          json={"records": [{"external_id": "2C-REVOKE-1", "id_number": person["id_number"],
                                             "type_code": "LA_JUDGMENT_DEBTOR",
                                             "occurred_at": (city_today() - timedelta(days=3)).isoformat()}]})
    assert batch["accepted"] == 1 and batch["recompute"] == "done", batch
    mine = shaoxing.call("GET", "/mp/v1/me/attestations", headers=shaoxing.session(person))
    assert next(a for a in mine if a["jti"] == issued["jti"])["state"] == "revoked"

    report = hangzhou.reconcile("330600", city_today().isoformat())
    assert report["revocations_pulled"] >= 1 and not report["errors"], report
    offer = hangzhou.partner_offer("钱塘江观潮（互认）")
    answer = hangzhou.verify(offer, issued["attestation"])
    assert (answer["eligible"], answer["reason"]) == (False, "attestation_revoked"), answer


def test_settlement_counts_match_until_a_receipt_is_dropped(linked):
    shaoxing, hangzhou = linked["shaoxing"], linked["hangzhou"]
    today = city_today().isoformat()
    shaoxing.wait_receipts_sent("330100")
    hangzhou.wait_receipts_sent("330600")

    # 杭州, the home city of the citizens who redeemed in 绍兴, compares 绍兴's count with its receipts.
    report = hangzhou.reconcile("330600", today)
    assert report["status"] == "matched", report
    assert report["theirs_total"] == report["ours_total"] == REDEEMED[("330600", "330100")]
    assert all(row["status"] == "matched" for row in report["rows"]) and report["rows"]
    # And the other way round, through 绍兴's command line this time.
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "partners", "reconcile", "--partner",
                             "330100", "--date", today], cwd=ROOT, env=shaoxing.env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"330100 杭州 {today}: matched (theirs {REDEEMED[('330100', '330600')]}" in result.stdout

    # A receipt lost at 杭州 (deliberately dropped): the rerun of the day shows the difference.
    engine = create_engine(hangzhou.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            dropped = connection.execute(text(
                "DELETE FROM partner_receipt WHERE id = (SELECT max(id) FROM partner_receipt)")).rowcount
    finally:
        engine.dispose()
    assert dropped == 1
    matched_runs = report["runs"]
    report = hangzhou.reconcile("330600", today)
    assert (report["status"], report["runs"]) == ("mismatched", matched_runs + 1), report
    assert report["theirs_total"] - report["ours_total"] == 1
    assert any(row["status"] == "mismatched" for row in report["rows"])
    listed = hangzhou.call("GET", f"/api/v1/partners/reconciliations?partner=330600&date={today}",
                           headers=hangzhou.admin)
    assert [r["report_id"] for r in listed] == [report["report_id"]]  # replaced, not added


def test_an_sd_jwt_vc_with_only_the_chosen_disclosures_and_its_revocation_through_the_status_list(linked):
    """绍兴 moves its attestations for 杭州 to SD-JWT VC: the citizen shows their name but not their score; 杭州's
    merchant accepts it; the npm @sd-jwt verifier, fetching 绍兴's status list over HTTP itself, agrees. The
    citizen withdraws partner sharing: 杭州 refuses the attestation they kept, through the status list alone
    (no reconciliation run), once the list's ttl has passed."""
    from tests.npm_sd_jwt import npm_verify

    shaoxing, hangzhou = linked["shaoxing"], linked["hangzhou"]
    registered = shaoxing.call("PATCH", "/api/v1/partners/330100", headers=shaoxing.admin,
                               json={"credential_format": "sd-jwt-vc"})
    assert registered["credential_format"] == "sd-jwt-vc"
    person = _person(shaoxing, 3, index=2)
    shown, kept = (shaoxing.attest(person, "330100", ["name"]) for _ in range(2))
    assert shown["credential_format"] == "sd-jwt-vc" and shown["name_included"] and not shown["score_included"]

    offer = hangzhou.partner_offer("宋城门票（互认，SD-JWT VC）")
    answer = hangzhou.verify(offer, shown["attestation"])
    assert (answer["eligible"], answer["reason"], answer["partner_city"]) == (True, "ok", "绍兴"), answer
    assert answer["level_name"] == person["level_name"]
    _count(hangzhou, shaoxing)

    jwks = requests.get(f"{shaoxing.url}/.well-known/jwks.json", timeout=10).json()
    outside = npm_verify(kept["attestation"], jwks)
    assert outside["ok"] and outside["status"] == 0, outside
    assert outside["payload"]["name"] == person["name"] and "score" not in outside["payload"]
    assert outside["payload"]["level"] == person["level"] and outside["payload"]["aud"] == "330100"

    shaoxing.call("DELETE", "/mp/v1/me/consents/partner_sharing", expect=None, headers=shaoxing.session(person))
    mine = shaoxing.call("GET", "/mp/v1/me/attestations", headers=shaoxing.session(person))
    assert {a["state"] for a in mine if a["jti"] in (shown["jti"], kept["jti"])} == {"revoked"}
    time.sleep(STATUS_LIST_TTL + 0.5)  # what 杭州 cached of the list has expired
    answer = hangzhou.verify(offer, kept["attestation"])
    assert (answer["eligible"], answer["reason"]) == (False, "attestation_revoked"), answer
    outside = npm_verify(kept["attestation"], jwks)
    assert outside["ok"] is False and outside["status"] == 1, outside


def test_the_demo_names_its_served_address_not_a_callers_host(cities):
    """The demo sets PUBLIC_BASE_URL to where it serves (issue 22, defect 7): a forged Host is not reflected."""
    city = cities["shaoxing"]
    info = requests.get(f"{city.url}/partner/v1/info", headers={"Host": "evil.example"}, timeout=10).json()
    assert info["jwks_url"] == f"{city.url}/.well-known/jwks.json"
    assert "evil" not in str(info)
