"""Opaque bearer secrets (API keys, session tokens): random, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    # These secrets carry 256 random bits, so a fast hash is enough; passwords use a slow KDF instead.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_ref() -> str:
    return secrets.token_hex(16)
