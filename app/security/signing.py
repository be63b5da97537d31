"""The city's Ed25519 signing keys: a key ring with ``kid``s, a published JWKS, and rotation.

Used for the credit code (扫码亮信) and, later, for partner-city attestations (JWS ``EdDSA``): anything a
third party must be able to verify but never forge.

Each key has a state:

* ``next``: published in the JWKS but not yet used, so offline verifiers that cache the JWKS already
  know it when it becomes current (``prepare_next``);
* ``current``: signs everything new (exactly one);
* ``previous``: no longer signs, still verifies until ``not_after`` (what it signed has expired by then),
  after which it disappears from the JWKS and from verification.

Every key has a validity window (``app/security/key_windows.py`` says how it is chosen and checked):
``not_before`` (it signs nothing earlier), ``not_after`` (nothing it signed is accepted later) and, once
retired, ``retired_at`` (it signed nothing later). The JWKS carries the window in each JWK as ``nbf`` and
``exp`` (NumericDate, like the JWT claims of the same names; RFC 7517 §4 tells libraries to ignore members they
do not know). A ``next`` key whose ``not_before`` has come becomes ``current`` by itself, in every worker, so
the switch needs nobody awake.

First-look storage is a directory (``SIGNING_KEYS_DIR``, default ``KEYS_DIR/signing``): one PKCS#8 PEM per key
and a ``keys.json`` manifest, written atomically under a file lock so that several workers starting at once,
or a rotation while they serve, never see half a key ring. Workers notice a changed manifest within a second
(and at once when asked for a ``kid`` they do not know). In production the directory is a mounted secret
shared by every app server.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

log = logging.getLogger(__name__)

MANIFEST = "keys.json"
_LOCK = ".lock"
_RELOAD_CHECK_SECONDS = 1.0
ALG = "EdDSA"
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: only the URL-safe alphabet, no padding, and the text must be the canonical encoding."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:  # non-canonical trailing bits would make two strings for one code
        raise ValueError("not canonical base64url")
    return data


def jwk_thumbprint(public: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint of the OKP key (joserfc)."""
    return OKPKey.import_key(public).thumbprint()


def public_jwk(public: Ed25519PublicKey, kid: str) -> dict:
    # No "alg": one key signs our compact JWS as "EdDSA" (what partners verify today), SD-JWT VCs and status lists
    # as "Ed25519" (RFC 9864) and raw credit codes; JOSE libraries that match a JWK's alg would refuse one of them.
    jwk = OKPKey.import_key(public).as_dict(private=False)
    return {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"], "kid": kid, "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    state: str  # next | current | previous
    created_at: float
    not_after: float | None  # nothing it signed verifies after this (epoch seconds)
    public: Ed25519PublicKey
    _private: Ed25519PrivateKey | None = None
    not_before: float | None = None  # it signs nothing before this
    retired_at: float | None = None  # previous keys: when they stopped signing

    def covers(self, issued_at: float, now: float, leeway: float = 0) -> bool:
        """Whether a signature made at ``issued_at`` by this key is inside its window, checked at ``now``."""
        # Whole seconds, as published in the JWK and as tokens carry their iat.
        start = int(self.not_before if self.not_before is not None else self.created_at)
        end = self.retired_at + 1 if self.retired_at is not None else now
        return (start - leeway <= issued_at <= end + leeway
                and (self.not_after is None or now <= self.not_after + leeway))

    def sign(self, data: bytes) -> bytes:
        if self._private is None or self.state != "current":
            raise RuntimeError(f"key {self.kid} is {self.state}; only the current key signs")
        return self._private.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def public_jwk(self) -> dict:
        jwk = public_jwk(self.public, self.kid)
        jwk["nbf"] = int(self.not_before if self.not_before is not None else self.created_at)
        if self.not_after is not None:
            jwk["exp"] = int(self.not_after)
        return jwk

    def jose_public(self) -> OKPKey:
        return OKPKey.import_key(self.public)

    def jose_private(self) -> OKPKey:
        """The key for joserfc to sign a JWS with (only the current key signs)."""
        if self._private is None or self.state != "current":
            raise RuntimeError(f"key {self.kid} is {self.state}; only the current key signs")
        return OKPKey.import_key(self._private)


class KeyRing:
    """The signing keys in one directory. Thread-safe; safe across processes sharing the directory."""

    def __init__(self, directory: Path | str, *, kid_length: int = 8, clock=time.time,
                 lifetime: float = 90 * 86400, overlap: float = 8 * 86400, publish_ahead: float = 2 * 86400) -> None:
        self.directory = Path(directory)
        self.kid_length = kid_length
        self.clock = clock
        # lifetime: how long a key signs; overlap: how long after it stops signing what it signed may still be
        # shown (the longest-lived token it signs); publish_ahead: how long the next key sits in the JWKS unused.
        self.lifetime, self.overlap, self.publish_ahead = lifetime, overlap, publish_ahead
        self._mutex = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._mtime_ns: int | None = None
        self._checked_at = 0.0
        self._load(create=True)

    # -- reading -------------------------------------------------------------------------------------

    def current(self) -> SigningKey:
        self._maybe_reload()
        now = self.clock()
        due = any(k.state == "next" and k.not_before is not None and k.not_before <= now
                  for k in self._keys.values())
        if due:
            self.promote_due()
        for key in self._keys.values():
            if key.state == "current":
                if key.not_after is not None and key.not_after - self.overlap < now:
                    return self._renew_spent(key.kid)
                return key
        raise RuntimeError(f"no current signing key in {self.directory}")

    def _renew_spent(self, kid: str) -> SigningKey:
        """Nobody rotated in time and the current key's signing period is over: a fresh key takes over at once
        (not published ahead, so offline verifiers refetch the JWKS on its unknown kid), rather than signing
        tokens that would outlive the key's window."""
        log.error("signing key %s reached the end of its signing period without a rotation; "
                  "run `flask keys rotate` on schedule", kid)
        return self.rotate(self.overlap, expect_current=kid)

    def next_key(self) -> SigningKey | None:
        self._maybe_reload()
        return next((k for k in self._keys.values() if k.state == "next"), None)

    def get(self, kid: str) -> SigningKey | None:
        """A key that may verify now (current, next, or previous within its window); None otherwise."""
        self._maybe_reload()
        key = self._keys.get(kid)
        if key is None:
            self._maybe_reload(force=True)  # another process may just have rotated
            key = self._keys.get(kid)
        if key is None or (key.not_after is not None and key.not_after < self.clock()):
            return None
        return key

    def verifying_key(self, kid: str, issued_at: float, leeway: float = 0) -> SigningKey | None:
        """The key ``kid`` when a signature it made at ``issued_at`` is inside its window now; None otherwise."""
        key = self.get(kid)
        return key if key is not None and key.covers(issued_at, self.clock(), leeway) else None

    def sign(self, data: bytes) -> tuple[str, bytes]:
        key = self.current()
        return key.kid, key.sign(data)

    def verify(self, kid: str, data: bytes, signature: bytes) -> bool:
        key = self.get(kid)
        return key is not None and key.verify(signature, data)

    def jwks(self) -> dict:
        self._maybe_reload()
        now = self.clock()
        order = {"current": 0, "next": 1, "previous": 2}
        keys = sorted((k for k in self._keys.values() if k.not_after is None or k.not_after >= now),
                      key=lambda k: (order[k.state], -k.created_at))
        return {"keys": [k.public_jwk() for k in keys]}

    def keys(self) -> list[SigningKey]:
        self._maybe_reload()
        return list(self._keys.values())

    # -- changing ------------------------------------------------------------------------------------

    def _window(self, not_before: float) -> dict:
        return {"not_before": not_before, "not_after": not_before + self.lifetime + self.overlap}

    def prepare_next(self, not_before: float | None = None) -> SigningKey:
        """Publish the next key ahead of its use, to take over at ``not_before`` (default: ``publish_ahead`` from
        now). Idempotent: returns the one already prepared."""
        with self._locked():
            entries = self._read_manifest()
            for entry in entries:
                if entry["state"] == "next":
                    self._load()
                    return self._keys[entry["kid"]]
            kid = self._new_key_file()
            now = self.clock()
            start = now + self.publish_ahead if not_before is None else not_before
            entries.append({"kid": kid, "state": "next", "created_at": now, **self._window(start)})
            self._write_manifest(entries)
        self._load()
        return self._keys[kid]

    def promote_due(self) -> SigningKey | None:
        """Make the prepared next key current once its ``not_before`` has come (any worker may; one wins)."""
        now = self.clock()
        with self._locked():
            entries = self._read_manifest()
            promoted = next((e for e in entries if e["state"] == "next" and e.get("not_before") is not None
                             and e["not_before"] <= now), None)
            if promoted is None:
                self._load()
                return None
            self._retire_current(entries, now, self.overlap)
            promoted["state"] = "current"
            self._write_manifest(entries)
        log.warning("signing key %s took over at its not-before", promoted["kid"])
        self._load()
        return self._keys[promoted["kid"]]

    @staticmethod
    def _retire_current(entries: list[dict], now: float, keep_for: float) -> None:
        for entry in entries:
            if entry["state"] == "current":
                entry["state"], entry["retired_at"] = "previous", now
                # 0 (a leaked key): gone at once, not at the end of this very second.
                entry["not_after"] = now + keep_for if keep_for > 0 else now - 1

    def rotate(self, keep_previous_for: float, expect_current: str | None = None) -> SigningKey:
        """Make the next key (or a fresh one) current; the old current verifies for ``keep_previous_for`` s.

        ``expect_current``: rotate only if that key is still current (another worker may have done it)."""
        now = self.clock()
        with self._locked():
            entries = self._read_manifest()
            if expect_current is not None and not any(e["kid"] == expect_current and e["state"] == "current"
                                                      for e in entries):
                self._load()
                return next(k for k in self._keys.values() if k.state == "current")
            kept, pruned = [], []
            for entry in entries:
                is_spent = entry["state"] == "previous" and entry["not_after"] < now
                (pruned if is_spent else kept).append(entry)
            promoted = next((e for e in kept if e["state"] == "next"), None)
            if promoted is None:
                promoted = {"kid": self._new_key_file(), "state": "next", "created_at": now}
                kept.append(promoted)
            self._retire_current(kept, now, keep_previous_for)
            # Taking over early (an emergency, or a rotation by hand): its window starts now.
            promoted.update(state="current", **self._window(now))
            self._write_manifest(kept)
            # Only after the manifest stops naming them, so a reader never meets a missing file.
            for entry in pruned:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / f"{entry['kid']}.pem").unlink()
        log.warning("signing key rotated: new kid %s", promoted["kid"])
        self._load()
        return self._keys[promoted["kid"]]

    # -- storage -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / _LOCK, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_manifest(self) -> list[dict]:
        path = self.directory / MANIFEST
        if not path.exists():
            return []
        return json.loads(path.read_text())["keys"]

    def _write_manifest(self, entries: list[dict]) -> None:
        path = self.directory / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps({"keys": entries}, indent=2))
        os.replace(tmp, path)

    def _new_key_file(self) -> str:
        private = Ed25519PrivateKey.generate()
        kid = jwk_thumbprint(private.public_key())[: self.kid_length]
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        fd = os.open(self.directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return kid

    def _load(self, create: bool = False) -> None:
        path = self.directory / MANIFEST
        if create and not path.exists():
            with self._locked():
                if not path.exists():  # another worker may have won the lock first
                    kid = self._new_key_file()
                    now = self.clock()
                    self._write_manifest([{"kid": kid, "state": "current", "created_at": now, **self._window(now)}])
                    log.warning("generated a new signing key %s under %s (first-look default; mount the "
                                "signing keys as a secret in production)", kid, self.directory)
        with self._mutex:
            stat = path.stat()
            keys = {}
            for entry in json.loads(path.read_text())["keys"]:
                try:
                    pem = (self.directory / f"{entry['kid']}.pem").read_bytes()
                except FileNotFoundError:
                    log.error("signing key %s is named in %s but its file is missing", entry["kid"], MANIFEST)
                    continue
                private = serialization.load_pem_private_key(pem, password=None)
                if not isinstance(private, Ed25519PrivateKey):
                    raise RuntimeError(f"signing key {entry['kid']} is not an Ed25519 key")
                # Manifests written before key windows: a key starts when it was made; a current key without an
                # end gets a full lifetime from now on (the next `flask keys rotate` plans its successor).
                not_before = entry.get("not_before", None if entry["state"] == "next" else entry["created_at"])
                not_after = entry.get("not_after")
                if not_after is None:
                    not_after = max(not_before or 0, self.clock()) + self.lifetime + self.overlap
                keys[entry["kid"]] = SigningKey(entry["kid"], entry["state"], entry["created_at"], not_after,
                                                private.public_key(), private, not_before, entry.get("retired_at"))
            self._keys, self._mtime_ns, self._checked_at = keys, stat.st_mtime_ns, time.monotonic()

    def _maybe_reload(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._checked_at < _RELOAD_CHECK_SECONDS:
            return
        try:
            mtime = (self.directory / MANIFEST).stat().st_mtime_ns
        except FileNotFoundError:
            return
        self._checked_at = time.monotonic()
        if mtime != self._mtime_ns:
            self._load()


def keys_dir_for(app) -> Path:
    configured = app.config.get("SIGNING_KEYS_DIR")
    return Path(configured) if configured else Path(app.config["KEYS_DIR"]) / "signing"


def keyring(app=None) -> KeyRing:
    """The app's key ring, opened on first use (so a first look creates its key only when it needs one)."""
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()
    ring = app.extensions.get("signing_keyring")
    if ring is None:
        from app.security.key_windows import ring_settings

        ring = app.extensions.setdefault("signing_keyring", KeyRing(keys_dir_for(app), **ring_settings(app.config)))
    return ring


def epoch_to_datetime(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)
