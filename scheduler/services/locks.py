"""Serialising work on one key where no single row can be locked for it."""
import hashlib

from sqlalchemy import text

from ..extensions import db


def lock_key(*parts):
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def transaction_lock(*parts):
    """Hold a lock on ``parts`` until the current transaction ends.

    PostgreSQL takes an advisory transaction lock. SQLite needs none: every transaction
    there begins with ``BEGIN IMMEDIATE`` (see ``scheduler.database``), so writers already
    run one after another.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(*parts)})
