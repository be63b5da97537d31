"""Personal data at rest: AES-GCM encryption plus a keyed blind index for exact-match lookup.

The ID number is never stored in clear; lookups go through HMAC-SHA256 of the normalised number, so the
database alone cannot be brute-forced over the (small) space of valid ID numbers without the index key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

_NONCE_BYTES = 12


class PiiVault:
    """Stored value: ``version byte || nonce || AES-GCM(ciphertext + tag)``, the version naming the key.

    ``keys`` maps versions (1–255) to 32-byte keys; ``current`` encrypts, every key decrypts, so PII_KEY can be
    rotated: start with the new key current and the old one listed, run ``flask keys rotate-pii``, drop the old
    one. Values written before versions existed (nonce first, no version byte) are still read (with each key in
    turn, GCM's tag telling which one is right) and rewritten by the same command.
    """

    def __init__(self, keys: dict[int, bytes] | bytes, index_key: bytes, current: int | None = None) -> None:
        if isinstance(keys, bytes):
            keys = {1: keys}
        for version, key in keys.items():
            if not 0 < version < 256:
                raise ValueError("PII key versions are 1 to 255")
            if len(key) != 32:
                raise ValueError("PII_KEY must be 32 bytes (base64-encoded)")
        self.current = current if current is not None else max(keys)
        if self.current not in keys:
            raise ValueError(f"no PII key of version {self.current}")
        self._aeads = {version: AESGCM(key) for version, key in keys.items()}
        self._index_key = index_key

    def encrypt(self, plaintext: str, purpose: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        # The purpose is bound as associated data so an ID ciphertext cannot pass for a phone's.
        return bytes([self.current]) + nonce + self._aeads[self.current].encrypt(nonce, plaintext.encode(), purpose)

    def open(self, blob: bytes, purpose: bytes) -> tuple[str, int | None]:
        """(plaintext, version of the key that opened it; None for a value written before versions)."""
        aead = self._aeads.get(blob[0])
        if aead is not None:
            try:
                return aead.decrypt(blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:], purpose).decode(), blob[0]
            except InvalidTag:
                pass  # a legacy value whose random nonce happens to start with a version byte
        for aead in self._aeads.values():
            try:
                return aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], purpose).decode(), None
            except InvalidTag:
                continue
        raise InvalidTag("no configured PII key opens this value")

    def decrypt(self, blob: bytes, purpose: bytes) -> str:
        return self.open(blob, purpose)[0]

    def reencrypt(self, blob: bytes, purpose: bytes) -> bytes | None:
        """The value under the current key, or None when it already is."""
        plaintext, version = self.open(blob, purpose)
        return None if version == self.current else self.encrypt(plaintext, purpose)

    def blind_index(self, value: str, purpose: bytes) -> str:
        return hmac.new(self._index_key, purpose + b"\x00" + value.encode(), hashlib.sha256).hexdigest()


def parse_keys(current_key: bytes, current_version: int, previous: str | None) -> dict[int, bytes]:
    """PII_KEY / PII_KEY_VERSION plus PII_KEYS_PREVIOUS (``version:base64,version:base64``)."""
    keys = {current_version: current_key}
    for item in filter(None, (part.strip() for part in (previous or "").split(","))):
        version, _, encoded = item.partition(":")
        if not version.strip().isdigit() or not encoded:
            raise ValueError("PII_KEYS_PREVIOUS must look like '1:BASE64KEY,2:BASE64KEY'")
        if int(version) == current_version:
            raise ValueError("PII_KEYS_PREVIOUS repeats the current PII_KEY_VERSION")
        keys[int(version)] = base64.b64decode(encoded)
    return keys


def vault() -> PiiVault:
    return current_app.extensions["pii_vault"]


def mask_id_number(id_number: str) -> str:
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the family character stays so a merchant can greet the customer."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
