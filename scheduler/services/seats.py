"""A slot's seats move only through these conditional updates.

Bookings and pending offers both hold seats. ``take`` succeeds only while a seat is free
and the slot has not been taken away (hours changed, office closed), so two requests for the
last seat never both win, nor does a booking racing a closure, on any database; the check
constraint on ``Slot`` is the final guard.
"""
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Booking, Slot


def _free_seat(slot_id):
    """The one rule for taking a seat: the slot is there and has one free."""
    return (update(Slot)
            .where(Slot.id == slot_id, Slot.seats_taken < Slot.seats, Slot.removed_at.is_(None))
            .values(seats_taken=Slot.seats_taken + 1))


def take(slot_id):
    taken = db.session.execute(_free_seat(slot_id).execution_options(synchronize_session=False))
    _expire(slot_id)
    return taken.rowcount == 1


def seat_booking(slot, **values):
    """Take a seat in ``slot`` and insert the booking holding it, with ``values`` (the
    model's defaults for the rest); the booking, or None when no seat is free.

    PostgreSQL does both in one statement: the seat's ``UPDATE`` in a CTE, the ``INSERT``
    selecting from the row it took, so no seat means no row. SQLite, which has no DML in a
    CTE, runs the same two statements one after the other. The partial unique index (one
    booking per phone and slot) raises ``IntegrityError`` on both.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        if not take(slot.id):
            return None
        booking = Booking(slot=slot, office_id=slot.office_id, offers=[], **values)
        db.session.add(booking)
        db.session.flush()
        return booking
    row = {column: None for column in _INSERTED} | _defaults() | values
    booking_id = db.session.execute(_seat_and_insert(), {"slot_id": slot.id, **row}).scalar()
    _expire(slot.id)
    if booking_id is None:
        return None
    # The row is what was sent: make it the session's without reading it back.
    booking = Booking(id=booking_id, slot_id=slot.id, office_id=slot.office_id, **row)
    make_transient_to_detached(booking)
    db.session.add(booking)
    set_committed_value(booking, "slot", slot)
    set_committed_value(booking, "office", slot.office)
    set_committed_value(booking, "offers", [])  # a new booking has none yet
    return booking


# The booking's columns an INSERT gives, and the model's Python-side defaults for them.
_INSERTED = [column.key for column in Booking.__table__.c
             if not column.primary_key and column.key not in ("slot_id", "office_id")]
_DEFAULTS = [(column.key, column.default) for column in Booking.__table__.c
             if column.key in _INSERTED and column.default is not None]


def _defaults():
    return {key: default.arg(None) if default.is_callable else default.arg
            for key, default in _DEFAULTS}


_statement = None


def _seat_and_insert():
    """``WITH seat AS (UPDATE slot … RETURNING id, office_id) INSERT INTO booking (…) SELECT
    seat.id, seat.office_id, :name, … FROM seat RETURNING booking.id``, built once: its
    parameters are named after the columns, so the same statement serves every call."""
    global _statement
    if _statement is None:
        seat = (_free_seat(bindparam("slot_id"))
                .returning(Slot.id, Slot.office_id).cte("seat"))
        table = Booking.__table__
        _statement = (
            insert(table)
            .from_select(["slot_id", "office_id", *_INSERTED], select(
                seat.c.id, seat.c.office_id,
                *(bindparam(key, type_=table.c[key].type) for key in _INSERTED)))
            .returning(table.c.id)
        )
    return _statement


def release(slot_id):
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.seats_taken > 0)
        .values(seats_taken=Slot.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
    _expire(slot_id)


def _expire(slot_id):
    slot = db.session.identity_map.get(db.session.identity_key(Slot, slot_id))
    if slot is not None:
        db.session.expire(slot, ["seats_taken"])
