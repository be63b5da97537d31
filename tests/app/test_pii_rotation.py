"""Rotating PII_KEY: values carry their key's version, old ones stay readable, `flask keys rotate-pii` rewrites."""

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from app.citizens import service as citizens
from app.citizens.models import Citizen
from app.extensions import db
from app.security.pii import vault
from tests.factories import gen_citizen, new_id_number


def _legacy_encrypt(key: bytes, plaintext: str, purpose: bytes) -> bytes:
    """The format written before key versions: nonce || AES-GCM, no version byte."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), purpose)


def _plain(citizen) -> tuple[str, str | None]:
    phone = vault().decrypt(citizen.phone_cipher, citizens.PHONE_PURPOSE) if citizen.phone_cipher else None
    return vault().decrypt(citizen.id_cipher, citizens.ID_PURPOSE), phone


def test_rotation_round_trip(app, twin_app):
    old_key = base64.b64decode((app.config["KEYS_DIR"] / "pii_key").read_text())
    new_key = os.urandom(32)
    numbers = [new_id_number() for _ in range(5)]
    with app.app_context():
        for index, number in enumerate(numbers):
            gen_citizen(f"测试{index}", number, phone=f"1380013800{index}", consent=False)
        # One citizen still stored in the format from before key versions.
        legacy = db.session.scalar(select(Citizen).where(Citizen.id_index == citizens.id_index(numbers[0])))
        legacy.id_cipher = _legacy_encrypt(old_key, numbers[0], citizens.ID_PURPOSE)
        db.session.commit()
        assert {bytes(c.id_cipher)[0] for c in db.session.scalars(select(Citizen))} >= {1}

    rotated = twin_app(PII_KEY=base64.b64encode(new_key).decode(), PII_KEY_VERSION=2,
                       PII_KEYS_PREVIOUS=f"1:{base64.b64encode(old_key).decode()}",
                       REDIS_URL=app.config.get("REDIS_URL"))
    with rotated.app_context():
        # Before the rewrite: everything readable, lookups by ID number work, new writes use version 2.
        assert [_plain(citizens.find_by_id_number(n))[0] for n in numbers] == numbers
        newcomer = gen_citizen("新来", new_id_number(), phone="13900139000", consent=False)
        assert bytes(newcomer.id_cipher)[0] == 2

    result = rotated.test_cli_runner().invoke(args=["keys", "rotate-pii", "--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    assert "key version 2" in result.output and "10 rewritten" in result.output  # 5 ID numbers + 5 phones

    only_new = twin_app(PII_KEY=base64.b64encode(new_key).decode(), PII_KEY_VERSION=2,
                        REDIS_URL=app.config.get("REDIS_URL"))
    with only_new.app_context():
        stored = list(db.session.scalars(select(Citizen)))
        assert {bytes(c.id_cipher)[0] for c in stored} == {2}
        assert sorted(_plain(citizens.find_by_id_number(n))[1] for n in numbers) == \
            [f"1380013800{i}" for i in range(5)]
    again = rotated.test_cli_runner().invoke(args=["keys", "rotate-pii"])
    assert "0 rewritten" in again.output
    with app.app_context(), pytest.raises(InvalidTag):  # the old key alone opens nothing any more
        _plain(citizens.find_by_id_number(numbers[1]))


def test_a_bad_previous_key_list_is_refused_at_start(app, twin_app):
    with pytest.raises(ValueError, match="PII_KEYS_PREVIOUS"):
        twin_app(PII_KEY=base64.b64encode(os.urandom(32)).decode(), PII_KEY_VERSION=2, PII_KEYS_PREVIOUS="oops")


def test_every_encrypted_column_is_declared_for_rotation(app):
    # app/security cannot import the domains that own the columns; each declares them. One left out would keep
    # its values under the old key after a rotation, unreadable once that key is dropped.
    from app.security.rotation import _columns

    ciphers = {(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
               if column.name.endswith("_cipher")}
    declared = {(model.__tablename__, name) for model, name, _ in _columns()}
    assert ciphers and declared == ciphers
