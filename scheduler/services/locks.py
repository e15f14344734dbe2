"""Serialising work on one key where no single row can be locked for it."""
import hashlib

from sqlalchemy import BigInteger, bindparam, func, text

from ..extensions import db


def lock_key(*parts):
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def number_lock(phone):
    """The lock on one number's bookings and waits (``booking.book``, ``waitlist.join``,
    confirming a held wait), as ``parts``. Per number, not per number and office:
    ``booking.book`` takes it in the statement that finds the slot's office."""
    return ("booking", phone)


def transaction_lock(*parts):
    """Hold a lock on ``parts`` until the current transaction ends.

    PostgreSQL takes an advisory transaction lock. SQLite needs none: every transaction
    there begins with ``BEGIN IMMEDIATE`` (see ``scheduler.database``), so writers already
    run one after another.
    """
    if _advisory():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(*parts)})


class Locking:
    """A select that also takes a transaction lock as it runs (PostgreSQL; elsewhere the
    select alone), which saves a round trip. Built once, at import; ``statement(*parts)``
    gives the statement and the parameter that names the lock ``transaction_lock(*parts)``
    takes.

    Mind what the lock protects: in READ COMMITTED a statement reads the snapshot from its
    start, before the lock was granted. So the select must not read what the lock guards;
    the statements after it do, and see what the lock's previous holder committed.
    """

    def __init__(self, query):
        self.query = query
        self.locked = query.add_columns(
            func.pg_advisory_xact_lock(bindparam("lock_key", type_=BigInteger)))

    def statement(self, *parts):
        if _advisory():
            return self.locked, {"lock_key": lock_key(*parts)}
        return self.query, {}


def _advisory():
    return db.session.get_bind().dialect.name == "postgresql"
