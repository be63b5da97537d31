"""Validity windows of the city's signing keys, and the rotation that keeps every signature verifiable.

One Ed25519 key ring (``app/security/signing.py``) signs everything a third party verifies with our JWKS: credit
codes, partner attestations (compact JWS and SD-JWT VC), Token Status Lists, the partner API's bearer tokens and
the audit checkpoints. (The PDF report carries an X.509 signature of its own, not this ring.) Each key has:

* ``not_before`` (JWK member ``nbf``): it signs nothing earlier; a verifier refuses a token whose ``iat`` is
  before it (a stolen next key cannot sign tokens dated before its time);
* ``retired_at`` (not published): after it the key signs nothing; a signature dated later is refused here;
* ``not_after`` (JWK member ``exp``): nothing it signed is accepted after it, and the key leaves the JWKS.

A key signs for ``SIGNING_KEY_LIFETIME_SECONDS``; ``not_after`` lies the *overlap* beyond the end of its
signing, the overlap being the longest lifetime of anything it signs (see :func:`overlap_seconds`), so the old
key stays verifiable until everything it signed has expired. The next key is published
``SIGNING_KEY_PUBLISH_AHEAD_SECONDS`` before it takes over, longer than any verifier caches our JWKS, so an
offline verifier already holds it at the switch; the switch itself happens at its ``not_before``, by itself, in
every worker.

``flask keys rotate`` (daily from the scheduler, job ``keys-rotate``) publishes the next key when the current
one's signing period ends within the publish-ahead time; ``--start`` publishes it now; ``--now`` switches at once
(the old key verifies for the overlap); ``--compromised`` switches at once and drops the old key from the JWKS
(everything it signed stops verifying: what a leaked key calls for).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.security.signing import KeyRing, SigningKey, epoch_to_datetime


def overlap_seconds(config) -> int:
    """The longest time anything a key signs may still be shown after it was signed, plus clock leeway."""
    lifetimes = (config["CREDIT_CODE_TTL_SECONDS"], config["PARTNER_ATTESTATION_TTL_SECONDS"],
                 config["STATUS_LIST_EXP_SECONDS"], config["PARTNER_AUTH_MAX_LIFETIME_SECONDS"])
    return max(lifetimes) + config["PARTNER_CLOCK_LEEWAY_SECONDS"] + 60


def ring_settings(config) -> dict:
    return {"lifetime": config["SIGNING_KEY_LIFETIME_SECONDS"], "overlap": overlap_seconds(config),
            "publish_ahead": config["SIGNING_KEY_PUBLISH_AHEAD_SECONDS"]}


def signing_ends(ring: KeyRing, key: SigningKey) -> float:
    return key.not_after - ring.overlap


@dataclass
class RotationStep:
    action: str  # nothing | published | switched | compromised
    current: SigningKey
    next: SigningKey | None
    message: str


def _when(epoch: float) -> str:
    return epoch_to_datetime(epoch).isoformat(timespec="seconds")


def rotate(ring: KeyRing, *, start: bool = False, now: bool = False, compromised: bool = False) -> RotationStep:
    """One step of the rotation; safe to run any number of times (the scheduler runs it daily)."""
    if compromised:
        old = ring.current()
        key = ring.rotate(keep_previous_for=0)
        return RotationStep("compromised", key, None,
                            f"current key is now {key.kid}; key {old.kid} left the JWKS at once and nothing it "
                            f"signed verifies any more")
    if now:
        old = ring.current()
        key = ring.rotate(keep_previous_for=ring.overlap)
        return RotationStep("switched", key, None,
                            f"current key is now {key.kid}; key {old.kid} verifies what it signed until "
                            f"{_when(ring.get(old.kid).not_after)}")
    promoted = ring.promote_due()
    current = ring.current()
    upcoming = ring.next_key()
    clock = ring.clock()
    if upcoming is None and (start or signing_ends(ring, current) - ring.publish_ahead <= clock):
        takes_over = clock + ring.publish_ahead if start else max(signing_ends(ring, current),
                                                                   clock + ring.publish_ahead)
        upcoming = ring.prepare_next(not_before=takes_over)
        return RotationStep("published", current, upcoming,
                            f"next key {upcoming.kid} is published and takes over at {_when(upcoming.not_before)}; "
                            f"current key {current.kid} signs until then")
    if promoted is not None:
        return RotationStep("switched", current, upcoming, f"key {current.kid} took over at its not-before")
    if upcoming is not None:
        return RotationStep("nothing", current, upcoming,
                            f"next key {upcoming.kid} takes over at {_when(upcoming.not_before)}")
    return RotationStep("nothing", current, None,
                        f"current key {current.kid} signs until {_when(signing_ends(ring, current))}; its successor "
                        f"is published at {_when(signing_ends(ring, current) - ring.publish_ahead)}")


def jwk_window_allows(jwk: dict, issued_at: float, now: float, leeway: float = 0) -> bool:
    """A partner's JWK with the window members we publish (``nbf``, ``exp``): the signature's time and now must
    lie inside it. A JWK without them (a partner that has not moved) has no window to check."""
    nbf, exp = jwk.get("nbf"), jwk.get("exp")
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and issued_at < nbf - leeway:
        return False
    return not (isinstance(exp, int | float) and not isinstance(exp, bool)
                and (now > exp + leeway or issued_at > exp))
