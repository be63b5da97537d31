"""A merchant terminal verifies credit codes: one test per answer a cashier can see, plus cancel and audit."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.service import entries_for_subject
from app.citizens import service as citizens
from app.extensions import db
from app.scoring import service as scoring
from app.security.signing import b64url_decode, keyring
from app.timeutil import city_today
from benefits import catalog, codes, credit_code, verification
from tests.benefits.helpers import Shop, code_for, make_citizen, make_merchant, make_offer, mp_headers, report
from tests.factories import bearer, staff_headers


@pytest.fixture
def shop(app, client):
    with app.app_context():
        return Shop(client)


@pytest.fixture
def zhang(app):
    """An L3 (良好) citizen and their mini-program headers."""
    with app.app_context():
        citizen = make_citizen("张三丰", level=3)
        return {"id": citizen.id, "ref": citizen.ref, "headers": mp_headers(citizen)}


def _forge(app, *, kid=None, sign=None, level=3, issuer=None, subject=b"\x00" * 12, issued_at=None, ttl=60):
    with app.app_context():
        key = keyring().current()
        now = int(issued_at if issued_at is not None else time.time())
        return codes.encode(kid=kid or key.kid, sign=sign or key.sign, code_id=codes.new_code_id(), subject=subject,
                            level=level, issuer=issuer or app.config["CITY_CODE"], issued_at=now,
                            expires_at=now + ttl)


def test_ok_redeems_and_says_only_eligibility_level_and_masked_name(client, shop, zhang):
    answer = shop.verify(code_for(client, zhang["headers"]))
    assert answer["eligible"] is True and answer["reason"] == "ok"
    assert answer["level_name"] == "良好" and answer["masked_name"] == "张**"
    assert answer["redemption_id"] and len(answer["redemption_id"]) == 32
    assert set(answer) == {"eligible", "reason", "message", "level_name", "masked_name", "redemption_id"}


def test_second_scan_of_the_same_code_is_already_used(client, shop, zhang):
    code = code_for(client, zhang["headers"])
    assert shop.verify(code)["reason"] == "ok"
    again = shop.verify(code)
    assert (again["eligible"], again["reason"]) == (False, "already_used")
    assert "redemption_id" not in again and again["masked_name"] is None


def test_used_code_is_refused_even_when_the_key_value_store_forgot_it(app, client, shop, zhang):
    code = code_for(client, zhang["headers"])
    assert shop.verify(code)["reason"] == "ok"
    app.extensions["kv_client"].flushdb()  # Redis restarted without persistence
    assert shop.verify(code)["reason"] == "already_used"


@pytest.mark.parametrize("garbage", [
    "", "hello", "XYF1", "XYF1.abc.def.ghi", "XYF2.AbCd1234.AAAA.BBBB", "https://example.com/?x=1",
    "XYF1.bad kid!.AAAA.BBBB", "X" * 300,
])
def test_anything_that_is_not_a_credit_code_is_malformed(client, shop, garbage):
    if not garbage:
        response = client.post("/merchant/v1/verifications", headers=shop.headers,
                               json={"code": garbage, "offer_id": shop.offer_ref})
        assert response.status_code == 422  # an empty string is a form error, not a scan
        return
    answer = shop.verify(garbage)
    assert (answer["eligible"], answer["reason"], answer["level_name"]) == (False, "malformed", None)


def test_truncated_or_non_canonical_code_is_malformed(client, shop, zhang):
    code = code_for(client, zhang["headers"])
    assert shop.verify(code[:-3])["reason"] == "malformed"
    prefix, kid, payload, signature = code.split(".")
    assert shop.verify(".".join([prefix, kid, payload + "A", signature]))["reason"] == "malformed"


def test_tampered_level_is_bad_signature(app, client, shop, zhang):
    code = code_for(client, zhang["headers"])
    prefix, kid, payload, signature = code.split(".")
    raw = bytearray(b64url_decode(payload))
    raw[25] = 5  # level byte: 良好 -> 极好
    from app.security.signing import b64url

    tampered = ".".join([prefix, kid, b64url(bytes(raw)), signature])
    assert shop.verify(tampered)["reason"] == "bad_signature"


def test_code_signed_with_a_foreign_key_under_our_kid_is_bad_signature(app, client, shop):
    forged = _forge(app, sign=Ed25519PrivateKey.generate().sign)
    assert shop.verify(forged)["reason"] == "bad_signature"


def test_unknown_kid_is_unknown_key_and_an_unregistered_city_is_partner_unknown(app, client, shop):
    assert shop.verify(_forge(app, kid="NoSuchK1"))["reason"] == "unknown_key"
    # Another city's code, from a city this one has no mutual recognition with.
    assert shop.verify(_forge(app, issuer="110100"))["reason"] == "partner_unknown"


def test_expired_code(client, shop, zhang, monkeypatch):
    code = code_for(client, zhang["headers"])
    monkeypatch.setattr(credit_code, "clock", lambda: time.time() + 61)
    answer = shop.verify(code)
    assert (answer["reason"], answer["masked_name"]) == ("expired", None)


def test_offer_not_found(client, shop, zhang):
    assert shop.verify(code_for(client, zhang["headers"]), offer_ref="0" * 32)["reason"] == "offer_not_found"


def test_paused_or_out_of_dates_offer_is_inactive(app, client, shop, zhang):
    with app.app_context():
        today = city_today()
        catalog.update_offer(shop.offer_ref, {"status": "paused"})
        later = make_offer(shop.merchant_ref, title="下月开放的权益", valid_from=today + timedelta(days=3))
        over = make_offer(shop.merchant_ref, title="已结束的权益", valid_from=today - timedelta(days=30),
                          valid_until=today - timedelta(days=1))
        db.session.commit()
        later_ref, over_ref = later.ref, over.ref
    for offer_ref in (shop.offer_ref, later_ref, over_ref):
        assert shop.verify(code_for(client, zhang["headers"]), offer_ref=offer_ref)["reason"] == "offer_inactive"


def test_other_merchants_offer_or_branch_is_wrong_merchant_or_branch(app, client, shop, zhang):
    with app.app_context():
        other, other_branches, _ = make_merchant("绍兴公共自行车", scenes=("xing",), branches=("城市广场站",))
        other_offer = make_offer(other, title="公共自行车免押金", scene="xing")
        second = catalog.add_branch(catalog.get_merchant(shop.merchant_ref), "北门售票处")
        only_south = make_offer(shop.merchant_ref, title="南门专享", branch_ids=[shop.branch_ref])
        db.session.commit()
        refs = other_offer.ref, other_branches[0].ref, second.ref, only_south.ref
    other_offer_ref, other_branch_ref, north_ref, only_south_ref = refs
    verify = lambda **kw: shop.verify(code_for(client, zhang["headers"]), **kw)["reason"]  # noqa: E731
    assert verify(offer_ref=other_offer_ref) == "wrong_merchant_or_branch"
    assert verify(branch_ref=other_branch_ref) == "wrong_merchant_or_branch"
    assert verify(offer_ref=only_south_ref, branch_ref=north_ref) == "wrong_merchant_or_branch"
    assert verify(offer_ref=only_south_ref, branch_ref=shop.branch_ref) == "ok"


def test_terminal_fixed_at_a_branch_redeems_only_there(app, client, shop, zhang):
    with app.app_context():
        merchant = catalog.get_merchant(shop.merchant_ref)
        north = catalog.add_branch(merchant, "北门售票处")
        _, key = catalog.issue_terminal(merchant, "北门闸机", north.ref)
        db.session.commit()
        north_ref = north.ref
    fixed = bearer(key)
    assert shop.verify(code_for(client, zhang["headers"]), headers=fixed)["reason"] == "wrong_merchant_or_branch"
    response = client.post("/merchant/v1/verifications", headers=fixed,
                           json={"code": code_for(client, zhang["headers"]), "offer_id": shop.offer_ref})
    assert response.get_json()["reason"] == "ok"  # no branch given: the terminal's own
    assert shop.verify(code_for(client, zhang["headers"]), branch_ref=north_ref, headers=fixed)["reason"] == "ok"


def test_withdrawn_consent_after_the_code_was_shown(app, client, shop, zhang):
    code = code_for(client, zhang["headers"])
    with app.app_context():
        citizen = citizens.get_by_ref(zhang["ref"])
        citizens.withdraw_consent(citizen, "scoring")
        db.session.commit()
        scoring.recompute_citizen(citizen)
    answer = shop.verify(code)
    assert (answer["reason"], answer["level_name"], answer["masked_name"]) == ("consent_withdrawn", None, None)


def test_restricted_since_the_code_was_shown(app, client, shop, zhang):
    code = code_for(client, zhang["headers"])
    with app.app_context():
        citizen = citizens.get_by_ref(zhang["ref"])
        from app.citizens.service import ID_PURPOSE
        from app.security.pii import vault

        report(vault().decrypt(citizen.id_cipher, ID_PURPOSE), [{"type_code": "LA_JUDGMENT_DEBTOR"}])
    answer = shop.verify(code)
    assert (answer["eligible"], answer["reason"], answer["level_name"]) == (False, "restricted", "受限")


def test_level_too_low_by_level_or_by_minimum_score(app, client, shop):
    with app.app_context():
        low = make_citizen("李四", level=1)
        low_headers = mp_headers(low)
        good = make_citizen("王五", level=3)
        good_headers = mp_headers(good)
        strict = make_offer(shop.merchant_ref, title="高分专享", min_level=3, min_score=700)
        db.session.commit()
        strict_ref = strict.ref
    answer = shop.verify(code_for(client, low_headers))
    assert (answer["reason"], answer["level_name"], answer["masked_name"]) == ("level_too_low", "待提高", "李*")
    assert shop.verify(code_for(client, good_headers), offer_ref=strict_ref)["reason"] == "level_too_low"  # 655


def test_a_refused_code_is_still_the_customers_to_use_where_it_qualifies(app, client, shop, zhang):
    with app.app_context():
        strict = make_offer(shop.merchant_ref, title="优秀专享", min_level=4)
        db.session.commit()
        strict_ref = strict.ref
    code = code_for(client, zhang["headers"])
    assert shop.verify(code, offer_ref=strict_ref)["reason"] == "level_too_low"
    assert shop.verify(code, offer_ref="0" * 32)["reason"] == "offer_not_found"
    assert shop.verify(code)["reason"] == "ok"
    assert shop.verify(code)["reason"] == "already_used"


def test_per_day_limit_then_cancel_gives_the_use_back(app, client, zhang):
    with app.app_context():
        shop = Shop(client, limit_per_day=1)
    first = shop.verify(code_for(client, zhang["headers"]))
    assert first["reason"] == "ok"
    refused = shop.verify(code_for(client, zhang["headers"]))
    assert refused["reason"] == "limit_reached" and "今天" in refused["message"]
    response = client.post(f"/merchant/v1/redemptions/{first['redemption_id']}/cancel", headers=shop.headers)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert shop.verify(code_for(client, zhang["headers"]))["reason"] == "ok"


def test_total_limit(app, client, zhang):
    with app.app_context():
        shop = Shop(client, limit_total=2)
    assert [shop.verify(code_for(client, zhang["headers"]))["reason"] for _ in range(3)] == [
        "ok", "ok", "limit_reached"]


def test_quota_exhausted_and_given_back_by_cancel(app, client):
    with app.app_context():
        shop = Shop(client, quota=1)
        a, b = [mp_headers(make_citizen(name)) for name in ("赵六", "钱七")]
    first = shop.verify(code_for(client, a))
    assert first["reason"] == "ok"
    assert shop.verify(code_for(client, b))["reason"] == "quota_exhausted"
    client.post(f"/merchant/v1/redemptions/{first['redemption_id']}/cancel", headers=shop.headers)
    assert shop.verify(code_for(client, b))["reason"] == "ok"


def test_cancel_rules(app, client, shop, zhang, monkeypatch):
    redemption_id = shop.verify(code_for(client, zhang["headers"]))["redemption_id"]
    with app.app_context():
        other, _, other_key = make_merchant("绍兴咸亨酒店", scenes=("gou",))
    response = client.post(f"/merchant/v1/redemptions/{redemption_id}/cancel", headers=bearer(other_key))
    assert response.status_code == 404 and response.get_json()["code"] == "redemption_not_found"
    monkeypatch.setattr(credit_code, "clock", lambda: time.time() + 31 * 60)
    response = client.post(f"/merchant/v1/redemptions/{redemption_id}/cancel", headers=shop.headers)
    assert response.status_code == 409 and response.get_json()["code"] == "cancel_window_passed"
    monkeypatch.setattr(credit_code, "clock", lambda: time.time() + 29 * 60)
    first = client.post(f"/merchant/v1/redemptions/{redemption_id}/cancel", headers=shop.headers)
    again = client.post(f"/merchant/v1/redemptions/{redemption_id}/cancel", headers=shop.headers)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    with app.app_context():
        assert catalog.get_offer(shop.offer_ref).redeemed_count == 0  # given back once, not twice


def test_terminal_key_is_required_and_a_revoked_or_suspended_one_is_refused(app, client, shop, zhang):
    body = {"code": "XYF1.x.y.z", "offer_id": shop.offer_ref}
    assert client.post("/merchant/v1/verifications", json=body).status_code == 401
    assert client.post("/merchant/v1/verifications", json=body, headers=bearer("mk_nope")).status_code == 401
    with app.app_context():
        merchant = catalog.get_merchant(shop.merchant_ref)
        catalog.update_merchant(merchant.ref, {"status": "suspended"})
        db.session.commit()
    response = client.post("/merchant/v1/verifications", json=body, headers=shop.headers)
    assert response.status_code == 403 and response.get_json()["code"] == "merchant_suspended"
    with app.app_context():
        merchant = catalog.get_merchant(shop.merchant_ref)
        catalog.update_merchant(merchant.ref, {"status": "active"})
        terminal = catalog.terminals_of(merchant)[0]
        catalog.revoke_terminal(merchant, terminal.ref)
        db.session.commit()
    response = client.post("/merchant/v1/verifications", json=body, headers=shop.headers)
    assert response.status_code == 401 and "终端" in response.get_json()["message"]


def test_a_revocation_made_through_another_server_applies_within_the_cache_lifetime(app, client, shop, zhang,
                                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "LOCAL_CACHE_SECONDS", 0.3)
    assert shop.verify(code_for(client, zhang["headers"]))["reason"] == "ok"
    with app.app_context():
        # Another server's staff API wrote this: nothing in this process was told.
        db.session.execute(db.text("UPDATE benefit_terminal SET revoked_at = CURRENT_TIMESTAMP"))
        db.session.commit()
    time.sleep(0.35)
    body = {"code": code_for(client, zhang["headers"]), "offer_id": shop.offer_ref}
    assert client.post("/merchant/v1/verifications", json=body, headers=shop.headers).status_code == 401


def test_a_scan_that_reads_the_offer_while_a_pause_is_being_saved_does_not_keep_it_active(app, client, shop, zhang):
    """Staff pause the offer; before their transaction commits, a scan on another thread of this process reads
    (and caches) the offer as still active. Once the pause commits, the next scan must hear offer_inactive."""
    assert shop.verify(code_for(client, zhang["headers"]))["reason"] == "ok"
    with app.app_context():
        terminal = verification.authenticate_terminal(shop.key)
        catalog.update_offer(shop.offer_ref, {"status": "paused"})  # flushed, not committed

        seen = []

        def scan_reads_the_offer():
            with app.app_context():
                seen.append(verification._offer_row(terminal, shop.offer_ref, shop.branch_ref).status)
                db.session.remove()

        reader = threading.Thread(target=scan_reads_the_offer)
        reader.start()
        reader.join()
        assert seen == ["active"]  # the other thread read, and cached, the row as it was before the pause
        db.session.commit()
    assert shop.verify(code_for(client, zhang["headers"]))["reason"] == "offer_inactive"


def test_every_attempt_is_in_the_ledger_and_reads_of_the_citizen_are_in_their_trail(app, client, shop, zhang):
    code = code_for(client, zhang["headers"])
    shop.verify("not a code")
    shop.verify(code)
    shop.verify(code)
    with app.app_context():
        staff = staff_headers(client)
    attempts = client.get("/api/v1/verification-attempts", headers=staff).get_json()
    assert [a["reason"] for a in attempts["items"]] == ["already_used", "ok", "malformed"]
    assert attempts["items"][1]["redemption_id"]
    with app.app_context():
        entries, total = entries_for_subject(zhang["id"], 1, 10)
        verify_entries = [e for e in entries if e.action == "benefits.verify"]
        # The malformed scan and the refused reuse never identified anyone; the redemption did.
        assert len(verify_entries) == 1
        entry = verify_entries[0]
        assert entry.actor_type == "merchant" and entry.details["result"] == "ok"
        assert entry.details["merchant"] == "绍兴大禹陵景区"


def test_the_answer_never_carries_id_number_phone_or_score(app, client, shop, zhang):
    answer = client.post("/merchant/v1/verifications", headers=shop.headers,
                         json={"code": code_for(client, zhang["headers"]), "offer_id": shop.offer_ref,
                               "branch_id": shop.branch_ref}).get_data(as_text=True)
    with app.app_context():
        citizen = citizens.get_by_ref(zhang["ref"])
        from app.citizens.service import ID_PURPOSE
        from app.security.pii import vault

        id_number = vault().decrypt(citizen.id_cipher, ID_PURPOSE)
    for secret in (id_number, "13800138000", "张三丰", zhang["ref"]):
        assert secret not in answer
    # The raw score (655) must be no value of the answer; as a substring it may occur by chance inside a random
    # redemption id, so compare values, not text.
    values = list(json.loads(answer).values())
    assert 655 not in values and "655" not in values


def test_a_scan_while_the_key_value_store_is_down_is_a_503_and_the_code_stays_usable(twin_app, client, shop,
                                                                                   zhang):
    code = code_for(client, zhang["headers"])
    cut_off = twin_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    response = cut_off.post("/merchant/v1/verifications", headers=shop.headers,
                            json={"code": code, "offer_id": shop.offer_ref, "branch_id": shop.branch_ref})
    assert response.status_code == 503
    assert response.get_json()["code"] == "service_unavailable" and response.headers["Retry-After"] == "5"
    assert shop.verify(code)["reason"] == "ok"  # the failed scan redeemed nothing and used nothing up
    assert shop.verify(code)["reason"] == "already_used"


def test_a_scan_whose_database_connection_dies_is_a_503_and_the_code_stays_usable(app, client, shop, zhang,
                                                                                   twin_app):
    """The scan's reservation and the holder's read travel to PostgreSQL together (psycopg's pipeline mode): a
    connection that dies there is the JSON 503 the README promises, not a 500; the code is not spent, and the
    next scan gets a live connection."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL: a SQLite connection cannot be killed from outside")
    # A server of its own with one pooled connection, so the scan gets the connection that is killed.
    server = twin_app(REDIS_URL=app.config["REDIS_URL"],
                      SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    cashier = server.test_client()
    assert shop.verify(code_for(client, zhang["headers"]), client=cashier)["reason"] == "ok"
    with server.app_context():
        pid = db.session.scalar(db.text("SELECT pg_backend_pid()"))
        db.session.remove()
    with psycopg.connect(os.environ["DATABASE_URL"].replace("+psycopg", ""), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))

    code = code_for(client, zhang["headers"])
    response = cashier.post("/merchant/v1/verifications", headers=shop.headers,
                            json={"code": code, "offer_id": shop.offer_ref, "branch_id": shop.branch_ref})
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["code"] == "service_unavailable"
    assert shop.verify(code, client=cashier)["reason"] == "ok"


def test_scans_audit_entries_are_sealed_and_link(app, client, shop, runner):
    """A scan's audit entry (one SQL statement on PostgreSQL) carries its seal: the chainer links it (issue 22,
    defect 9)."""
    with app.app_context():
        headers = mp_headers(make_citizen("钱七", level=3))
    code = code_for(client, headers)
    assert shop.verify(code)["eligible"] is True
    assert shop.verify(code)["eligible"] is False  # used: a refusal, written by the other statement
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain intact" in result.output, result.output
