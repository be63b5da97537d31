"""Re-encrypting personal data under the current PII key (``flask keys rotate-pii``), in chunks.

Each chunk is its own transaction, and every write is conditional on the value still being the one read, so a
citizen changing their phone meanwhile is never overwritten with the old one (the next run picks it up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select, update

from app.extensions import db
from app.security.pii import vault


@dataclass
class RotationStats:
    rows: int = 0
    rewritten: int = 0
    changed_meanwhile: int = 0


# (model, column name, AES-GCM purpose): every value PiiVault encrypts, declared by the package that owns it.
_ENCRYPTED: list[tuple[type, str, bytes]] = []


def encrypted_column(model: type, name: str, purpose: bytes) -> None:
    """Declare a column PiiVault encrypts, so a rotation rewrites it. Called where the column's package defines its
    purpose (app/citizens, app/partners): app/security sits below every domain and does not import them."""
    if (model, name, purpose) not in _ENCRYPTED:
        _ENCRYPTED.append((model, name, purpose))


def _columns():
    return list(_ENCRYPTED)


def _chunks(model, chunk_size: int) -> Iterator[list[int]]:
    after = 0
    while True:
        ids = list(db.session.scalars(select(model.id).where(model.id > after).order_by(model.id).limit(chunk_size)))
        if not ids:
            return
        yield ids
        after = ids[-1]


def rotate_pii(chunk_size: int = 1000, on_chunk: Callable[[RotationStats], None] | None = None) -> RotationStats:
    stats = RotationStats()
    pii = vault()
    for model, name, purpose in _columns():
        column = getattr(model, name)
        for ids in _chunks(model, chunk_size):
            rows = db.session.execute(select(model.id, column).where(model.id.in_(ids), column.is_not(None))).all()
            for row_id, blob in rows:
                stats.rows += 1
                fresh = pii.reencrypt(bytes(blob), purpose)
                if fresh is None:
                    continue
                done = db.session.execute(update(model).where(model.id == row_id, column == blob)
                                          .values({name: fresh}).execution_options(synchronize_session=False))
                if done.rowcount == 1:
                    stats.rewritten += 1
                else:
                    stats.changed_meanwhile += 1
            db.session.commit()
            if on_chunk:
                on_chunk(stats)
    return stats
