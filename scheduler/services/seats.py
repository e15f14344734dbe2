"""A slot's seats move only through these conditional updates.

Bookings and pending offers both hold seats. ``take`` succeeds only while a seat is free
and the slot has not been taken away (hours changed, office closed), so two requests for the
last seat never both win, nor does a booking racing a closure, on any database; the check
constraint on ``Slot`` is the final guard.
"""
from functools import cache

from sqlalchemy import bindparam, insert, select, union_all, update
from sqlalchemy.orm import make_transient_to_detached

from ..extensions import db
from ..models import Booking, Message, Slot
from ..models.message import record_for_figures
from . import outbox


def _free_seat(slot_id):
    """The one rule for taking a seat: the slot is there and has one free."""
    return (update(Slot)
            .where(Slot.id == slot_id, Slot.seats_taken < Slot.seats, Slot.removed_at.is_(None))
            .values(seats_taken=Slot.seats_taken + 1))


def take(slot_id):
    taken = db.session.execute(_free_seat(slot_id).execution_options(synchronize_session=False))
    _expire(slot_id)
    return taken.rowcount == 1


def new_booking(slot, **values):
    """A booking of ``slot`` not yet written, every column given (``values``, the model's
    defaults for the rest): its token is known before the INSERT, for the texts that link
    to it."""
    return Booking(slot=slot, slot_id=slot.id, office=slot.office, office_id=slot.office_id, offers=[],
                   **(_defaults(Booking, _BOOKING_COLUMNS) | values))


def seat_booking(booking, messages=()):
    """Take a seat in the slot of ``booking`` (from ``new_booking``) and write it, with
    ``messages`` about it (made, not written: ``notify.booking_confirmed(write=False)``);
    False, and nothing written, when no seat is free.

    PostgreSQL does it in one statement: the seat's ``UPDATE`` in a CTE, the booking's
    ``INSERT`` selecting from the row it took, the messages' ``INSERT`` from the booking it
    wrote, so no seat means no rows. SQLite, which has no DML in a CTE, runs the same
    statements one after the other. The partial unique index (one booking per phone and
    slot) raises ``IntegrityError`` on both.
    """
    slot = booking.slot
    if db.session.get_bind().dialect.name != "postgresql":
        if not take(slot.id):
            return False
        db.session.add(booking)
        db.session.flush()
        for message in messages:
            db.session.add(message)
            outbox.track(message)
        return True
    params = {"slot_id": slot.id, **_row(booking, _BOOKING_COLUMNS)}
    for index, message in enumerate(messages):
        record_for_figures(message, db.session.connection())  # as the ORM's INSERT would
        params.update(_row(message, _MESSAGE_COLUMNS, f"m{index}_"))
    booking_id = db.session.execute(_seat_and_insert(len(messages)), params).scalar()
    _expire(slot.id)
    if booking_id is None:
        return False
    # The rows are what was sent: the booking becomes the session's without reading it
    # back; the messages, which the request does not read again, stay out of it.
    booking.id = booking_id
    make_transient_to_detached(booking)
    db.session.add(booking)
    for message in messages:
        outbox.track(message)
    return True


def _columns(model, *leave_out):
    return [column.key for column in model.__table__.c
            if not column.primary_key and column.key not in leave_out]


# What an INSERT gives: the messages' booking comes from the booking's INSERT.
_BOOKING_COLUMNS = _columns(Booking, "slot_id", "office_id")
_MESSAGE_COLUMNS = _columns(Message, "booking_id")


def _defaults(model, columns):
    return {key: default.arg(None) if default.is_callable else default.arg
            for key, default in _column_defaults(model, tuple(columns))}


@cache
def _column_defaults(model, columns):
    table = model.__table__
    return [(key, default) for key in columns if (default := table.c[key].default) is not None]


def _row(instance, columns, prefix=""):
    """The values of a transient instance for an INSERT: what was given, else the model's
    default, else NULL."""
    given = instance.__dict__
    missing = [key for key in columns if key not in given]
    values = {key: None for key in missing} | _defaults(type(instance), missing)
    return {prefix + key: given.get(key, values.get(key)) for key in columns}


_statements = {}


def _seat_and_insert(messages):
    """``WITH seat AS (UPDATE slot … RETURNING id, office_id), booked AS (INSERT INTO booking
    (…) SELECT seat.id, seat.office_id, :name, … FROM seat RETURNING id) INSERT INTO message
    (…) SELECT :m0_to, …, booked.id FROM booked UNION ALL … RETURNING booking_id``, built
    once for each number of messages: its parameters are named after the columns."""
    if messages not in _statements:
        seat = _free_seat(bindparam("slot_id")).returning(Slot.id, Slot.office_id).cte("seat")
        bookings, sent = Booking.__table__, Message.__table__
        insert_booking = insert(bookings).from_select(["slot_id", "office_id", *_BOOKING_COLUMNS], select(
            seat.c.id, seat.c.office_id,
            *(bindparam(key, type_=bookings.c[key].type) for key in _BOOKING_COLUMNS)))
        if not messages:
            statement = insert_booking.returning(bookings.c.id)
        else:
            booked = insert_booking.returning(bookings.c.id).cte("booked")
            rows = [select(*(bindparam(f"m{index}_{key}", type_=sent.c[key].type)
                             for key in _MESSAGE_COLUMNS), booked.c.id)
                    for index in range(messages)]
            statement = (insert(sent)
                         .from_select([*_MESSAGE_COLUMNS, "booking_id"],
                                      rows[0] if messages == 1 else union_all(*rows))
                         .returning(sent.c.booking_id))
        _statements[messages] = statement
    return _statements[messages]


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
