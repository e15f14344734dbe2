"""Reminders before an appointment, one per configured lead time."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import Booking, BookingStatus, Message, OptOut, Slot
from . import notify
from .locks import transaction_lock


def queue_due(now):
    """Queue the reminders now due. A booking made after its reminder time gets none for
    that lead (its confirmation has just arrived). Returns how many were queued."""
    queued = 0
    for lead_hours in current_app.config["REMINDER_LEAD_HOURS"]:
        lead = timedelta(hours=lead_hours)
        # One process at a time queues a lead's reminders, so the batch below never meets
        # another's half-way (the unique dedupe_key stays the last guard).
        transaction_lock("reminders", lead_hours)
        key = literal("reminder:") + cast(Booking.id, String) + literal(f":{lead_hours}")
        due = [
            booking for booking in db.session.scalars(
                select(Booking)
                .join(Booking.slot)
                .options(contains_eager(Booking.slot))
                .where(Booking.status == BookingStatus.BOOKED, Booking.phone.is_not(None),
                       Slot.starts_at > now, Slot.starts_at <= now + lead,
                       ~exists().where(Message.dedupe_key == key))
                .order_by(Slot.starts_at, Booking.id)
            )
            if booking.created_at <= booking.slot.starts_at - lead
        ]
        phones = {booking.phone for booking in due}
        opted_out = set(db.session.scalars(
            select(OptOut.phone).where(OptOut.phone.in_(phones))
        )) if phones else set()
        for booking in due:
            notify.booking_reminder(booking, lead_hours, now, opted_out=booking.phone in opted_out)
        db.session.flush()  # one INSERT for the lot
        queued += len(due)
    return queued
