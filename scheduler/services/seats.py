"""A slot's seats move only through these conditional updates.

Bookings and pending offers both hold seats. ``take`` succeeds only while a seat is free
and the slot has not been taken away (hours changed, office closed), so two requests for the
last seat never both win, nor does a booking racing a closure, on any database; the check
constraint on ``Slot`` is the final guard.
"""
from sqlalchemy import update

from ..extensions import db
from ..models import Slot


def take(slot_id):
    taken = db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.seats_taken < Slot.seats, Slot.removed_at.is_(None))
        .values(seats_taken=Slot.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    _expire(slot_id)
    return taken.rowcount == 1


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
