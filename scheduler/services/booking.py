"""Booking and cancelling seats. The database settles every race (see ``Slot``)."""
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Booking, BookingStatus, Slot
from . import notify, phones
from .errors import (
    AlreadyBooked, InvalidInput, NotFound, SlotFull, SlotInPast, TooLateToCancel,
    TooManyBookings,
)
from .locks import transaction_lock

NAME_MAX = 100
TOPIC_MAX = 500
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_details(name, phone, locale, email=None, topic=None):
    """Check and normalise what a resident typed; all problems at once, by field."""
    fields, clean = {}, {}
    clean["name"] = " ".join((name or "").split())
    if not clean["name"]:
        fields["name"] = _l("Please enter your name.")
    elif len(clean["name"]) > NAME_MAX:
        fields["name"] = _l("Please use at most %(n)d characters.", n=NAME_MAX)
    try:
        clean["phone"] = phones.normalise(phone)
    except InvalidInput as error:
        fields.update(error.fields)
    if locale not in current_app.config["LANGUAGES"]:
        fields["locale"] = _l("This language is not offered.")
    clean["locale"] = locale
    clean["email"] = (email or "").strip() or None
    if clean["email"] and (len(clean["email"]) > 254 or not EMAIL_PATTERN.match(clean["email"])):
        fields["email"] = _l("This is not a valid e-mail address.")
    clean["topic"] = (topic or "").strip()
    if len(clean["topic"]) > TOPIC_MAX:
        fields["topic"] = _l("Please use at most %(n)d characters.", n=TOPIC_MAX)
    if fields:
        raise InvalidInput(fields=fields)
    return clean


def book(slot_id, *, name, phone, locale, now, email=None, topic=None, notify_earlier=False):
    """Book a seat in a slot for a resident and queue the confirmation SMS.

    The seat is taken by one conditional ``UPDATE``: it succeeds only while a seat is free,
    so two requests for the last seat can never both win, on any database.
    """
    details = clean_details(name, phone, locale, email, topic)
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise NotFound(_l("This time does not exist."))
    check_bookable(slot, now)
    # Bookings of one phone at one office run one after another, so the limit below holds
    # under concurrent requests too.
    transaction_lock("booking", slot.office_id, details["phone"])
    upcoming = upcoming_bookings(slot.office_id, details["phone"], now)
    if any(booking.slot_id == slot.id for booking in upcoming):
        raise AlreadyBooked()
    limit = current_app.config["MAX_UPCOMING_BOOKINGS_PER_OFFICE"]
    if limit and len(upcoming) >= limit:
        raise TooManyBookings()
    if not take_seat(slot.id):
        raise SlotFull()
    booking = Booking(
        slot=slot, office_id=slot.office_id, notify_earlier=bool(notify_earlier),
        requested_at=now, created_at=now, **details,
    )
    db.session.add(booking)
    try:
        db.session.flush()
    except IntegrityError as error:  # the partial unique index, should the lock be bypassed
        raise AlreadyBooked() from error
    notify.booking_confirmed(booking)
    return booking


def check_bookable(slot, now):
    """Refuse a slot that has begun or has no free seat (the seat itself is taken later)."""
    if slot.starts_at <= now:
        raise SlotInPast()
    if slot.available <= 0:
        raise SlotFull()


def take_seat(slot_id):
    taken = db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.seats_taken < Slot.seats)
        .values(seats_taken=Slot.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        db.session.expire(db.session.get(Slot, slot_id), ["seats_taken"])
    return taken.rowcount == 1


def release_seat(slot_id):
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.seats_taken > 0)
        .values(seats_taken=Slot.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(db.session.get(Slot, slot_id), ["seats_taken"])


def upcoming_bookings(office_id, phone, now):
    return list(db.session.scalars(
        select(Booking)
        .join(Booking.slot)
        .where(
            Booking.office_id == office_id, Booking.phone == phone,
            Booking.status == BookingStatus.BOOKED, Slot.starts_at > now,
        )
    ))


def by_token(token):
    booking = db.session.scalar(select(Booking).where(Booking.token == token))
    if booking is None:
        raise NotFound(_l("This appointment does not exist. Please check the link."))
    return booking


def cancel(booking, *, now):
    """Cancel a booking and free its seat; cancelling twice is not an error.

    Returns True when this call cancelled it. The status moves by a conditional update, so
    two cancellations at once free the seat once.
    """
    if booking.status == BookingStatus.CANCELLED:
        return False
    if booking.status != BookingStatus.BOOKED or booking.slot.starts_at <= now:
        raise TooLateToCancel()
    cancelled = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now, sequence=Booking.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(booking)
    if cancelled.rowcount != 1:
        return False
    release_seat(booking.slot_id)
    notify.booking_cancelled(booking)
    return True
