"""Reminders before an appointment, one per configured lead time."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Booking, BookingStatus, Message, Slot
from . import notify


def queue_due(now):
    """Queue the reminders now due. A booking made after its reminder time gets none for
    that lead (its confirmation has just arrived). Returns how many were queued."""
    queued = 0
    for lead_hours in current_app.config["REMINDER_LEAD_HOURS"]:
        lead = timedelta(hours=lead_hours)
        due = [
            booking for booking in db.session.scalars(
                select(Booking)
                .join(Booking.slot)
                .where(Booking.status == BookingStatus.BOOKED,
                       Slot.starts_at > now, Slot.starts_at <= now + lead)
                .order_by(Slot.starts_at, Booking.id)
            )
            if booking.created_at <= booking.slot.starts_at - lead
        ]
        keys = {f"reminder:{booking.id}:{lead_hours}": booking for booking in due}
        sent = set(db.session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(keys))))
        for key, booking in keys.items():
            if key in sent:
                continue
            try:
                with db.session.begin_nested():
                    notify.booking_reminder(booking, lead_hours, now)
                    db.session.flush()
            except IntegrityError:  # another process queued it first
                continue
            queued += 1
    return queued
