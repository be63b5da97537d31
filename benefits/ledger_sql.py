"""A verification's writes in one statement on PostgreSQL: the attempt, its audit entry and, for a successful
scan, the redemption (data-modifying CTEs, one round trip instead of three).

Same rows and columns as the portable path in ``verification._Ledger`` (which SQLite keeps); the redemption's
unique ``code_id`` still fails the whole statement, so a code that was used raises IntegrityError as before.
"""

from __future__ import annotations

import json

from sqlalchemy import text

_ATTEMPT_COLUMNS = ("created_at, city_day, terminal_id, merchant_id, offer_id, branch_id, citizen_id, partner_id, "
                    "code_id, reason, eligible")
_ATTEMPT_VALUES = (":created_at, :city_day, :terminal_id, :merchant_id, :offer_id, :branch_id, :citizen_id, "
                   ":partner_id, :code_id, :reason, :eligible")
_AUDIT = ("INSERT INTO audit_pending (occurred_at, actor_type, actor_id, subject_id, action, reason, details) "
          "VALUES (:created_at, :actor_type, :actor_id, :citizen_id, :action, :audit_reason, CAST(:details AS json))")

ATTEMPT_AND_AUDIT = text(f"WITH a AS (INSERT INTO benefit_attempt ({_ATTEMPT_COLUMNS}, redemption_id) "
                         f"VALUES ({_ATTEMPT_VALUES}, NULL)) {_AUDIT}")
REDEMPTION_ATTEMPT_AND_AUDIT = text(
    "WITH r AS (INSERT INTO benefit_redemption (ref, code_id, citizen_id, partner_id, partner_subject, offer_id, "
    "merchant_id, branch_id, terminal_id, city_day, redeemed_at, cancelled_at) VALUES (:ref, :code_id, :citizen_id, "
    "NULL, NULL, :offer_id, :merchant_id, :branch_id, :terminal_id, :city_day, :created_at, NULL) RETURNING id), "
    f"a AS (INSERT INTO benefit_attempt ({_ATTEMPT_COLUMNS}, redemption_id) SELECT {_ATTEMPT_VALUES}, r.id FROM r), "
    f"p AS ({_AUDIT}) SELECT id FROM r")


def audit_details(details: dict) -> str:
    return json.dumps(details, ensure_ascii=False)
