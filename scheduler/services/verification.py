"""Phone verification (``BOOKING_VERIFICATION=sms``, off by default; docs/verification.md).

With it on, a booking is *held*: it takes its seat at once (``seats.take``, the same
conditional update as any booking, so nobody oversells) and becomes a booking only when the
resident taps the link in the SMS or replies 1. An unconfirmed hold expires after
``VERIFICATION_HOLD_MINUTES`` (``expire``, run by the scheduler) and its seat is offered on.

Every number gets the same answer; what differs goes only into the SMS to that number:
a new number is asked to confirm; a number that already holds an appointment at the office
is told which one (at most once per hold period, so a form cannot be used to flood it); a
number with a hold still open gets nothing new.

Confirming and expiring both move the booking out of ``held`` by a conditional update
(``states.advance``), so exactly one of them wins, on any database.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Booking, BookingStatus, Message
from . import notify, offers, seats, states, waitlist
from .errors import SlotFull


@dataclass(frozen=True)
class Pending:
    """The answer to every booking request while verification is on: the same for all."""

    minutes: int


def enabled():
    return current_app.config["BOOKING_VERIFICATION"] == "sms"


def hold_minutes():
    return current_app.config["VERIFICATION_HOLD_MINUTES"]


def hold(slot, details, upcoming, now, *, notify_earlier=False, limit=0):
    """Hold a seat for ``details`` (booking.book calls this under the phone's lock).

    ``upcoming`` are the phone's bookings at the office. Returns ``Pending`` whatever
    happened; only the SMS to the number says what."""
    phone = details["phone"]
    answer = Pending(hold_minutes())
    if any(booking.slot_id == slot.id for booking in upcoming) or (limit and len(upcoming) >= limit):
        known = next((b for b in upcoming if b.slot_id == slot.id), upcoming[0])
        if not _told_recently(known, now):
            notify.verification_known(known, now)
        return answer
    if open_hold(slot.office_id, phone, now) is not None:
        return answer  # the first SMS still stands: no second text to the number
    if not seats.take(slot.id):
        raise SlotFull()
    booking = Booking(
        slot=slot, office_id=slot.office_id, notify_earlier=bool(notify_earlier),
        requested_at=now, created_at=now, seated_at=now, offers=[],
        status=BookingStatus.HELD, hold_until=now + timedelta(minutes=answer.minutes), **details,
    )
    db.session.add(booking)
    db.session.flush()
    notify.verification_requested(booking, answer.minutes, now)
    return answer


def _told_recently(booking, now):
    since = now - timedelta(minutes=hold_minutes())
    return db.session.scalar(select(Message.id).where(
        Message.booking_id == booking.id, Message.kind == "verification_known",
        Message.created_at > since,
    ).limit(1)) is not None


def open_hold(office_id, phone, now):
    return db.session.scalar(select(Booking).where(
        Booking.office_id == office_id, Booking.phone == phone,
        Booking.status == BookingStatus.HELD, Booking.hold_until > now,
    ).limit(1))


def hold_for_phone(phone, now):
    """The newest open hold of a number (what a reply of 1 may confirm), or None."""
    return db.session.scalar(select(Booking).where(
        Booking.phone == phone, Booking.status == BookingStatus.HELD, Booking.hold_until > now,
    ).order_by(Booking.created_at.desc(), Booking.id.desc()).limit(1))


def is_open(booking, now):
    return booking.status == BookingStatus.HELD and booking.hold_until > now


def confirm(booking, now):
    """Make a held booking a booking; True if this call did. Confirming twice, or after
    the hold expired, changes nothing (a late one expires it here and now)."""
    if booking.status != BookingStatus.HELD:
        return False
    if booking.hold_until <= now:
        _expire_one(booking, now)
        return False
    if not states.advance(booking, BookingStatus.HELD, status=BookingStatus.BOOKED,
                          hold_until=None, seated_at=now):
        return False
    waitlist.end_wait(booking.office_id, booking.phone, now, booking=booking)
    notify.booking_confirmed(booking, now)
    return True


def expire(now):
    """End the holds nobody confirmed in time and offer their seats on; returns how many."""
    due = list(db.session.scalars(select(Booking).where(
        Booking.status == BookingStatus.HELD, Booking.hold_until <= now,
    ).order_by(Booking.id)))
    return sum(_expire_one(booking, now) for booking in due)


def _expire_one(booking, now):
    if not states.advance(booking, BookingStatus.HELD, status=BookingStatus.EXPIRED, cancelled_at=now):
        return False
    seats.release(booking.slot_id)
    offers.fill_slot(booking.slot_id, now)
    return True
