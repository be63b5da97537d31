"""Personal data at rest: AES-GCM encryption plus a keyed blind index for exact-match lookup.

The ID number is never stored in clear; lookups go through HMAC-SHA256 of the normalised number, so the
database alone cannot be brute-forced over the (small) space of valid ID numbers without the index key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

_NONCE_BYTES = 12


class PiiVault:
    def __init__(self, encryption_key: bytes, index_key: bytes) -> None:
        if len(encryption_key) != 32:
            raise ValueError("PII_KEY must be 32 bytes (base64-encoded)")
        self._aead = AESGCM(encryption_key)
        self._index_key = index_key

    def encrypt(self, plaintext: str, purpose: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        # The purpose is bound as associated data so an ID ciphertext cannot pass for a phone's.
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), purpose)

    def decrypt(self, blob: bytes, purpose: bytes) -> str:
        return self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], purpose).decode()

    def blind_index(self, value: str, purpose: bytes) -> str:
        return hmac.new(self._index_key, purpose + b"\x00" + value.encode(), hashlib.sha256).hexdigest()


def vault() -> PiiVault:
    return current_app.extensions["pii_vault"]


def mask_id_number(id_number: str) -> str:
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the family character stays so a merchant can greet the customer."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
