"""Partner cities (互认): the same code runs as any city, and two instances recognise each other's citizens.

* ``service``: the registry (city code, score name, native scale and cut-offs onto L1–L5, JWKS inline or by URL,
  API address, status) and the per-partner pseudonym keys;
* ``attestations``: what our citizens show abroad (compact JWS, EdDSA) and their revocation feed;
* ``inbound``: a partner's credit code or attestation at one of our merchants (the checker benefits.verification
  calls through benefits.visitors);
* ``auth`` / ``client``: the partner API's caller authentication (a short-lived JWT signed with the caller's own
  key) and our calls to partners;
* ``settlement``: receipts (outbox here, records there), settlement counts and the daily reconciliation report.
"""
