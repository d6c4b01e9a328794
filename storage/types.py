"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# The largest id an `INTEGER` primary key holds on PostgreSQL (SQLite's go further). An id
# people typed ("W99999999999999999999") beyond it names no row, and must not reach the
# database: the driver would fail the whole turn on it.
MAX_ROW_ID = 2**31 - 1


def is_row_id(value: int) -> bool:
    """True when `value` can be the id of a row."""
    return 0 < value <= MAX_ROW_ID


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp on every backend.

    PostgreSQL keeps the zone; SQLite drops it, so values are normalised to UTC on the way in
    and re-labelled as UTC on the way out. Naive datetimes are refused: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
