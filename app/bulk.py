"""Bulk writes: COPY on PostgreSQL, a Core executemany elsewhere (SQLite keeps the simple path)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def copy_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence],
              json_columns: Sequence[str] = ()) -> int:
    """Append ``rows`` (tuples in ``columns`` order) to ``table`` in the connection's transaction; returns how
    many. Values of ``json_columns`` are Python objects, serialised as the JSON column type would."""
    if is_postgresql(connection):
        if json_columns:
            positions = [columns.index(name) for name in json_columns]
            rows = (_dump_json(row, positions) for row in rows)
        count = 0
        driver = connection.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch = [dict(zip(columns, row, strict=True)) for row in rows]
    if batch:
        connection.execute(insert(table), batch)
    return len(batch)


def _dump_json(row: Sequence, positions: list[int]) -> list:
    row = list(row)
    for position in positions:
        row[position] = json.dumps(row[position], ensure_ascii=False)
    return row
