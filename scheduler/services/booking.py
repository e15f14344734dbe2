"""Booking and cancelling seats. The database settles every race (see ``Slot``)."""
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, literal, null, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Booking, BookingStatus, CancelledBy, Office, Slot, WaitlistEntry
from . import details as residents
from . import notify, offers, seats, slots, states, verification, waitlist
from .errors import (
    AlreadyBooked,
    NotFound,
    SlotFull,
    SlotInPast,
    SlotRemoved,
    TooLateToCancel,
    TooManyBookings,
)
from .locks import Locking, number_lock


def book(slot_id, *, name, phone, locale, now, email=None, topic=None, notify_earlier=False):
    """Book a seat in a slot for a resident and queue the confirmation SMS.

    The seat is taken by one conditional ``UPDATE``: it succeeds only while a seat is free,
    so two requests for the last seat can never both win, on any database.

    On PostgreSQL a booking is five round trips: BEGIN, the slot (which takes the number's
    lock), what the number holds at the office, the seat with the booking and its
    confirmation, COMMIT (tests/test_statements.py counts them).
    """
    details = residents.clean(name, phone, locale, email, topic)
    slot = slot_locked(slot_id, details["phone"])
    if slot is None:
        raise NotFound(_l("This time does not exist."))
    check_bookable(slot, now)
    # Read in a statement after the lock's, so it sees what the lock's last holder committed.
    held = held_at(slot.office_id, details["phone"], now)
    limit = current_app.config["MAX_UPCOMING_BOOKINGS_PER_OFFICE"]
    if verification.enabled():  # held until confirmed; the same answer for every number
        return verification.hold(slot, details, held.upcoming, now, notify_earlier=notify_earlier,
                                 limit=limit)
    if any(upcoming.slot_id == slot.id for upcoming in held.upcoming):
        raise AlreadyBooked()
    if limit and len(held.upcoming) >= limit:
        raise TooManyBookings()
    booking = seats.new_booking(slot, notify_earlier=bool(notify_earlier), requested_at=now,
                                created_at=now, seated_at=now, **details)
    # The confirmation is written in the same statement as the booking (PostgreSQL).
    messages = notify.booking_confirmed(booking, now, write=False)
    try:
        seated = seats.seat_booking(booking, messages)
    except IntegrityError as error:  # the partial unique index, should the lock be bypassed
        raise AlreadyBooked() from error
    if not seated:
        raise SlotFull()
    if held.waiting:  # whoever books a time is no longer waiting for one at this office
        waitlist.end_wait(slot.office_id, details["phone"], now, booking=booking)
    return booking


def slot_locked(slot_id, phone):
    """The slot with its office and the office's hours (the SMS names the office, the answer
    lists its languages), or None. The same statement takes the number's lock
    (``locks.number_lock``): bookings and waits of one number run one after another, so
    the limits checked after it hold under concurrent requests too."""
    statement, params = _SLOT.statement(*number_lock(phone))
    row = db.session.execute(statement, {"slot_id": slot_id, **params}).unique().first()
    return None if row is None else row[0]


class Held(NamedTuple):
    """What a number holds at an office: its upcoming bookings and whether it waits there."""

    upcoming: list  # rows of (id, slot_id)
    waiting: bool


def held_at(office_id, phone, now):
    """The phone's upcoming bookings at the office (id and slot) and whether it waits there,
    in one statement."""
    rows = db.session.execute(_HELD, {"office_id": office_id, "phone": phone, "now": now}).all()
    return Held([row for row in rows if row.kind == "booking"],
                any(row.kind == "wait" for row in rows))


def check_bookable(slot, now):
    """Refuse a slot that has begun, was taken away, or has no free seat (the seat itself is
    taken later)."""
    if slot.starts_at <= now:
        raise SlotInPast()
    if slot.removed_at is not None:
        raise SlotRemoved()
    if slot.available <= 0:
        raise SlotFull()


def upcoming_bookings(office_id, phone, now):
    return list(db.session.scalars(
        select(Booking).join(Booking.slot).where(*_upcoming(office_id, phone, now))
    ))


def _upcoming(office_id, phone, now):
    return (Booking.office_id == office_id, Booking.phone == phone,
            Booking.status == BookingStatus.BOOKED, Slot.starts_at > now)


# Built once: building a statement, and its cache key, costs more CPU than running it.
_SLOT = Locking(select(Slot).where(Slot.id == bindparam("slot_id"))
                .options(joinedload(Slot.office).joinedload(Office.hours)))
_HELD = union_all(
    select(literal("booking").label("kind"), Booking.id, Booking.slot_id)
    .join(Booking.slot).where(*_upcoming(bindparam("office_id"), bindparam("phone"), bindparam("now"))),
    select(literal("wait"), WaitlistEntry.id, null())
    .where(*waitlist.waiting_criteria(bindparam("office_id"), bindparam("phone"))),
)


def by_token(token):
    booking = db.session.scalar(select(Booking).where(Booking.token == token))
    if booking is None:
        raise NotFound(_l("This appointment does not exist. Please check the link."))
    return booking


def cancel(booking, *, now, by=CancelledBy.RESIDENT, reason=None, staff_id=None):
    """Cancel a booking, free its seat and offer the seat on at once; cancelling twice is
    not an error. ``by`` and ``reason`` record who cancelled and why, for the figures.

    Returns True when this call cancelled it. The status moves by a conditional update, so
    two cancellations at once free the seat once.
    """
    if booking.status == BookingStatus.CANCELLED:
        return False
    if not can_change(booking, now):
        raise TooLateToCancel()
    values = {"staff_id": staff_id} if staff_id is not None else {}
    if not states.advance(booking, BookingStatus.BOOKED, status=BookingStatus.CANCELLED,
                          cancelled_at=now, cancelled_by=by, cancel_reason=reason,
                          sequence=Booking.sequence + 1, **values):
        return False
    offers.withdraw_for_booking(booking, now)
    seats.release(booking.slot_id)
    notify.booking_cancelled(booking, now)
    offers.fill_slot(booking.slot_id, now)
    return True


def can_change(booking: Booking, now: datetime) -> bool:
    """Can the resident still cancel, move or ask about this booking? Until it begins."""
    return booking.status == BookingStatus.BOOKED and booking.slot.starts_at > now


def other_times(booking: Booking, now: datetime, limit: int = 24) -> list[Slot]:
    """Free times at the booking's office it could move to, soonest first."""
    if not can_change(booking, now):
        return []
    horizon = now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"] + 1)
    return [slot for slot in slots.free_slots(booking.office, now, horizon)
            if slot.id != booking.slot_id][:limit]


def change(booking: Booking, slot_id: int, now: datetime) -> Booking:
    """Move a booking to another free time of its office.

    The manage link and the calendar UID stay; ``SEQUENCE`` rises, so the e-mail invitation
    updates the event. The old seat is freed and offered on at once; an SMS confirms the
    new time. Changing to the time it already has changes nothing.
    """
    if not can_change(booking, now):
        raise TooLateToCancel()
    if slot_id == booking.slot_id:
        return booking
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.office_id != booking.office_id:
        raise NotFound(_l("This time does not exist."))
    check_bookable(slot, now)
    if booking.phone and any(other.slot_id == slot.id for other in
                             upcoming_bookings(booking.office_id, booking.phone, now)):
        raise AlreadyBooked()
    if not seats.take(slot.id):
        raise SlotFull()
    old_slot_id = booking.slot_id
    if not states.advance(booking, BookingStatus.BOOKED, slot_id=slot.id,
                          sequence=Booking.sequence + 1, seated_at=now):
        seats.release(slot.id)
        raise TooLateToCancel()
    db.session.expire(booking, ["slot"])
    # An open offer of an earlier time was measured against the old time.
    offers.withdraw_for_booking(booking, now)
    seats.release(old_slot_id)
    notify.booking_changed(booking, now)
    offers.fill_slot(old_slot_id, now)
    return booking


def want_earlier(booking, wanted, now):
    """Ask for (or stop asking for) an earlier time; one that is free is offered at once."""
    if not can_change(booking, now):
        raise TooLateToCancel()
    booking.notify_earlier = bool(wanted)
    if wanted:
        db.session.flush()
        offers.fill_office(booking.office_id, now)
    else:
        offers.withdraw_for_booking(booking, now)
