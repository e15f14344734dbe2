"""Phone verification (``BOOKING_VERIFICATION=sms``, off by default; docs/verification.md).

With it on, a booking is *held*: it takes its seat at once (``seats.take``, the same
conditional update as any booking, so nobody oversells) and becomes a booking only when the
resident taps the link in the SMS or replies 1. An unconfirmed hold expires after
``VERIFICATION_HOLD_MINUTES`` (``expire``, run by the scheduler) and its seat is offered on.

Every number gets the same answer; what differs goes only into the SMS to that number:
a new number is asked to confirm; a number that already holds an appointment at the office
is told which one (at most once per hold period, so a form cannot be used to flood it); a
number with a hold still open gets nothing new.

A wait is held the same way (``holds.hold_wait``): it joins the queue, with the time it
was asked for, only once confirmed, and expires like a held booking.

Confirming and expiring both move the booking or wait out of ``held`` by a conditional
update (``states.advance``), so exactly one of them wins, on any database.
"""
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from . import notify, offers, seats, states, waitlist
from .errors import SlotFull
from .holds import Pending, enabled, hold_minutes, told_recently
from .locks import number_lock, transaction_lock

__all__ = ["Pending", "enabled", "hold_minutes", "hold", "confirm", "confirm_wait", "expire"]


def hold(slot, details, upcoming, now, *, notify_earlier=False, limit=0):
    """Hold a seat for ``details`` (booking.book calls this under the phone's lock).

    ``upcoming`` are the phone's bookings at the office, as rows of (id, slot_id). Returns
    ``Pending`` whatever happened; only the SMS to the number says what."""
    phone = details["phone"]
    answer = Pending(hold_minutes())
    if any(booking.slot_id == slot.id for booking in upcoming) or (limit and len(upcoming) >= limit):
        known = db.session.get(Booking, next((b for b in upcoming if b.slot_id == slot.id), upcoming[0]).id)
        if not told_recently("verification_known", now, booking=known):
            notify.verification_known(known, now)
        return answer
    if open_hold(slot.office_id, phone, now) is not None:
        return answer  # the first SMS still stands: no second text to the number
    booking = seats.new_booking(
        slot, notify_earlier=bool(notify_earlier), requested_at=now, created_at=now, seated_at=now,
        status=BookingStatus.HELD, hold_until=now + timedelta(minutes=answer.minutes), **details,
    )
    if not seats.seat_booking(booking):
        raise SlotFull()
    notify.verification_requested(booking, answer.minutes, now)
    return answer


def open_hold(office_id, phone, now):
    return db.session.scalar(select(Booking).where(
        Booking.office_id == office_id, Booking.phone == phone,
        Booking.status == BookingStatus.HELD, Booking.hold_until > now,
    ).limit(1))


def hold_for_phone(phone, now):
    """The newest open hold of a number, a booking's or a wait's (what a reply of 1 may
    confirm), or None. A held wait's ``requested_at`` is when it was held."""
    booking = db.session.scalar(select(Booking).where(
        Booking.phone == phone, Booking.status == BookingStatus.HELD, Booking.hold_until > now,
    ).order_by(Booking.created_at.desc(), Booking.id.desc()).limit(1))
    entry = db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.phone == phone, WaitlistEntry.status == WaitlistStatus.HELD,
        WaitlistEntry.hold_until > now,
    ).order_by(WaitlistEntry.requested_at.desc(), WaitlistEntry.id.desc()).limit(1))
    if booking is None or (entry is not None and entry.requested_at > booking.created_at):
        return entry
    return booking


def held_at(hold):
    """When a hold was made: what a reply compares with the time an offer was sent."""
    return hold.requested_at if isinstance(hold, WaitlistEntry) else hold.created_at


def confirm_any(hold, now):
    """Confirm a held booking or wait (a reply of 1 does not know which)."""
    return confirm_wait(hold, now) if isinstance(hold, WaitlistEntry) else confirm(hold, now)


def is_open(hold, now):
    held = BookingStatus.HELD if isinstance(hold, Booking) else WaitlistStatus.HELD
    return hold.status == held and hold.hold_until > now


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


def confirm_wait(entry, now):
    """Put a held wait in the queue, in the place of the time it was asked for; True if
    this call did. Twice, or after the hold expired, changes nothing."""
    if entry.status != WaitlistStatus.HELD:
        return False
    if entry.hold_until <= now:
        _expire_wait(entry, now)
        return False
    transaction_lock(*number_lock(entry.phone))  # as waitlist.join takes it
    if waitlist.waiting_at(entry.office_id, entry.phone) is not None:
        # The number joined this office's queue meanwhile (a staff member put it there):
        # one wait is enough.
        states.advance(entry, WaitlistStatus.HELD, status=WaitlistStatus.LEFT, hold_until=None,
                       ended_at=now)
        return False
    if not states.advance(entry, WaitlistStatus.HELD, status=WaitlistStatus.WAITING, hold_until=None):
        return False
    waitlist.queued(entry, now)
    return True


def expire(now):
    """End the holds nobody confirmed in time and offer their seats on; returns how many."""
    due = list(db.session.scalars(select(Booking).where(
        Booking.status == BookingStatus.HELD, Booking.hold_until <= now,
    ).order_by(Booking.id)))
    waits = list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.status == WaitlistStatus.HELD, WaitlistEntry.hold_until <= now,
    ).order_by(WaitlistEntry.id)))
    return sum(_expire_one(booking, now) for booking in due) + sum(_expire_wait(e, now) for e in waits)


def _expire_wait(entry, now):
    return states.advance(entry, WaitlistStatus.HELD, status=WaitlistStatus.EXPIRED, ended_at=now)


def _expire_one(booking, now):
    if not states.advance(booking, BookingStatus.HELD, status=BookingStatus.EXPIRED, cancelled_at=now):
        return False
    seats.release(booking.slot_id)
    offers.fill_slot(booking.slot_id, now)
    return True
