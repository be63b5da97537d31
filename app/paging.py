"""Pages of a SQLAlchemy 2 select, the one helper of every paged list: the total comes from a COUNT over the same
statement (flask-smorest's own helpers rely on the legacy ``Query.count()``, and ``db.paginate`` on Flask's
request args). Every paged answer has one shape: ``{items, page, per_page, total, pages}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from app.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return (self.total + self.per_page - 1) // self.per_page

    def with_items(self, items: list) -> Page:
        return Page(list(items), self.page, self.per_page, self.total)

    def as_dict(self, items: list | None = None) -> dict:
        return {"items": self.items if items is None else items, "page": self.page, "per_page": self.per_page,
                "total": self.total, "pages": self.pages}


def paginate(stmt: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    """``stmt`` must already be ordered (a stable order keeps pages from overlapping)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    paged = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = db.session.scalars(paged).all() if scalars else db.session.execute(paged).all()
    return Page(list(rows), page, per_page, total)
