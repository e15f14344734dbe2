"""Deleting residents' personal data once it has served its purpose.

Bookings, waitlist entries and offers stay, without names, numbers or topics, for the
figures (wait times, refill rate, no-shows); messages and SMS replies are deleted. Opt-outs
are kept: they are the resident's wish not to be texted.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import Booking, InboundMessage, Message, Offer, Slot, WaitlistEntry


def purge(now):
    """Anonymise or delete what is older than the retention period. Returns rows touched."""
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    past_slots = select(Slot.id).where(Slot.ends_at < cutoff)
    touched = 0
    for statement in (
        update(Booking)
        # A walk-in booked without a number still has a name to delete.
        .where(Booking.slot_id.in_(past_slots), Booking.phone.is_not(None) | (Booking.name != ""))
        .values(name="", phone=None, email=None, topic=""),
        update(WaitlistEntry)
        .where(WaitlistEntry.ended_at < cutoff, WaitlistEntry.phone.is_not(None))
        .values(name="", phone=None, topic=""),
        update(Offer)
        .where(Offer.slot_id.in_(past_slots), Offer.phone.is_not(None))
        .values(phone=None),
        delete(Message).where(Message.created_at < cutoff),
        delete(InboundMessage).where(InboundMessage.received_at < cutoff),
    ):
        touched += db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
    return touched
