"""Column types shared by the models."""
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so UTC is stored naive and
    made aware again on the way out. Naive datetimes are refused: they hide bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow():
    return datetime.now(UTC)


def enum_column(enum_class):
    """A string enum stored as its values in a VARCHAR (no native ENUM to migrate)."""
    return Enum(enum_class, native_enum=False, length=16,
                values_callable=lambda members: [member.value for member in members])
