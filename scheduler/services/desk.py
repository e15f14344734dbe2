"""The office desk: booking for someone who walks in or calls, cancelling on a resident's
behalf, and marking who came.

Staff book without the residents' rate limits and per-office limit (they see the person),
but never into a full seat: seats move through ``seats.take`` as residents' bookings do.

Rules of time, decided here and asked by the agenda:

- A walk-in may be booked into a slot until it ends: someone who arrives during the hour is
  seen in it. Residents can book a slot only until it begins.
- Attendance can be marked once the appointment has begun, and corrected (attended <->
  no-show) until the end of its local day; after that it is settled. A mark is never taken
  back to "booked": by then the person either came or did not.
"""
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Booking,
    BookingSource,
    BookingStatus,
    CancelledBy,
    Offer,
    OfferKind,
    OfferStatus,
    Office,
    OptOut,
    Slot,
    StaffAccount,
    WaitlistEntry,
    WaitlistStatus,
)
from . import audit, notify, offers, phones, policy, reasons, seats, staff, states, waitlist
from . import booking as bookings
from .details import NAME_MAX, TOPIC_MAX
from .errors import AlreadyBooked, Conflict, InvalidInput, NotFound, SlotFull, SlotInPast, SlotRemoved

STAFF_SOURCES = (BookingSource.WALK_IN, BookingSource.PHONE)
MARKS = (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)
# Ids beyond this are no record of ours (and would overflow PostgreSQL's integer).
MAX_ID = 2**31 - 1


def bookable_slots(office: Office, now: datetime, days: int = 14) -> list[Slot]:
    """Slots with a free seat that have not ended, from now to the end of the ``days``-th
    local day: what a walk-in or a caller can be booked into."""
    last = now.astimezone(office.tz).date() + timedelta(days=days)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=office.tz)
    return list(db.session.scalars(
        select(Slot)
        .where(Slot.office_id == office.id, Slot.ends_at > now, Slot.starts_at < end,
               Slot.seats_taken < Slot.seats, Slot.removed_at.is_(None))
        .order_by(Slot.starts_at, Slot.id)
    ))


def book_walk_in(office: Office, slot_id: int, *, name: str, phone: str | None, locale: str,
                 topic: str | None = None, source: BookingSource | str = BookingSource.WALK_IN,
                 actor: StaffAccount, now: datetime) -> Booking:
    """Book a seat for someone at the desk or on the phone. The SMS confirmation goes out
    only when a number is given; without one, the person takes the time on paper."""
    details = _clean(name, phone, locale, topic, source)
    slot = db.session.get(Slot, slot_id) if _is_id(slot_id) else None
    if slot is None or slot.office_id != office.id:
        raise NotFound(_l("This time does not exist."))
    if slot.ends_at <= now:
        raise SlotInPast()
    if slot.removed_at is not None:
        raise SlotRemoved()
    if not seats.take(slot.id):
        raise SlotFull()
    booking = Booking(slot=slot, office_id=office.id, requested_at=now, created_at=now, seated_at=now,
                      staff_id=actor.id, **details)
    db.session.add(booking)
    try:
        db.session.flush()
    except IntegrityError as error:  # the same number holds a seat of this slot already
        raise AlreadyBooked() from error
    if booking.phone:
        waitlist.end_wait(office.id, booking.phone, now, booking=booking)
        notify.booking_confirmed(booking, now)
    audit.record(actor, "booking.create", now, record=booking,
                 after={"status": str(booking.status), "source": str(booking.source), "slot_id": slot.id})
    return booking


def _clean(name, phone, locale, topic, source) -> dict:
    """What staff typed, all problems at once by field; the phone is optional here."""
    fields, clean = {}, {}
    clean["name"] = " ".join(name.split()) if isinstance(name, str) else ""
    if not clean["name"]:
        fields["name"] = _l("Please enter the name.")
    elif len(clean["name"]) > NAME_MAX:
        fields["name"] = _l("Please use at most %(n)d characters.", n=NAME_MAX)
    clean["phone"] = None
    if isinstance(phone, str) and phone.strip():
        try:
            clean["phone"] = phones.normalise(phone)
        except InvalidInput as invalid:
            fields.update(invalid.fields)
    if locale not in current_app.config["LANGUAGES"]:
        fields["locale"] = _l("This language is not offered.")
    clean["locale"] = locale
    clean["topic"] = topic.strip() if isinstance(topic, str) else ""
    if len(clean["topic"]) > TOPIC_MAX:
        fields["topic"] = _l("Please use at most %(n)d characters.", n=TOPIC_MAX)
    if source not in STAFF_SOURCES:
        fields["source"] = _l("Must be walk_in or phone.")
    else:
        clean["source"] = BookingSource(source)
    if fields:
        raise InvalidInput(fields=fields)
    return clean


def cancel_for_resident(booking: Booking, reason: str, *, actor: StaffAccount, now: datetime) -> bool:
    """Cancel on the resident's behalf (they called, say): as if they had cancelled, the
    SMS in their language and the seat offered on at once; who and why are kept.
    Cancelling again is not an error (False)."""
    reason = reasons.clean(reason)
    before = str(booking.status)
    if not bookings.cancel(booking, now=now, by=CancelledBy.STAFF, reason=reason, staff_id=actor.id):
        return False
    audit.record(actor, "booking.cancel", now, record=booking, before={"status": before},
                 after={"status": str(booking.status), "cancelled_by": str(booking.cancelled_by)})
    return True


def attendance_closes(booking: Booking) -> datetime:
    """The end of the appointment's local day: until then a mark can be corrected."""
    tz = booking.office.tz
    day = booking.slot.starts_at.astimezone(tz).date()
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def attendance_choices(booking: Booking, now: datetime) -> tuple[BookingStatus, ...]:
    """The marks that may be set now: both once the appointment has begun, the other one
    to correct a mark, none before the start, after its day or for a cancelled booking."""
    if booking.status == BookingStatus.CANCELLED or not booking.slot.starts_at <= now < attendance_closes(booking):
        return ()
    return tuple(mark for mark in MARKS if mark != booking.status)


def mark_attendance(booking: Booking, status: BookingStatus | str, *, actor: StaffAccount,
                    now: datetime) -> bool:
    """Mark a booking attended or no-show, or correct the mark the same day. Setting the
    mark it has is not an error (False)."""
    if status not in MARKS:
        raise InvalidInput(fields={"status": _l("Must be attended or no_show.")})
    status = BookingStatus(status)
    if booking.status == BookingStatus.CANCELLED:
        raise Conflict(_l("This appointment was cancelled."), code="cancelled")
    if now < booking.slot.starts_at:
        raise Conflict(_l("Attendance can be marked once the appointment has begun."), code="too_early")
    if now >= attendance_closes(booking):
        raise Conflict(_l("Attendance can only be marked or corrected on the day of the appointment."),
                       code="too_late")
    before = booking.status
    if before == status:
        return False
    if not states.advance(booking, before, status=status, attendance_marked_at=now, staff_id=actor.id):
        raise Conflict(_l("Someone else changed this appointment just now. Please check it again."),
                       code="changed")
    audit.record(actor, "booking.attendance", now, record=booking,
                 before={"status": str(before)}, after={"status": str(status)})
    return True


def booking_for(actor: StaffAccount, booking_id: int) -> Booking:
    """The booking, if ``actor`` works for its office: 404 unknown, 403 another office's."""
    booking = db.session.get(Booking, booking_id) if _is_id(booking_id) else None
    if booking is None:
        raise NotFound()
    staff.office_for(actor, booking.office.slug)
    return booking


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def entry_for(actor: StaffAccount, entry_id: int) -> WaitlistEntry:
    """The waitlist entry, if ``actor`` works for its office: 404 unknown, 403 another office's."""
    entry = db.session.get(WaitlistEntry, entry_id) if _is_id(entry_id) else None
    if entry is None:
        raise NotFound()
    staff.office_for(actor, entry.office.slug)
    return entry


def offer_seat(entry: WaitlistEntry, slot_id: int, *, actor: StaffAccount, now: datetime) -> Offer:
    """Offer a seat of the slot ``slot_id`` to ``entry`` now (see ``_offer_to``)."""
    slot = db.session.get(Slot, slot_id) if _is_id(slot_id) else None
    if slot is None or slot.office_id != entry.office_id:
        raise NotFound(_l("This time does not exist."))
    return _offer_to(entry, slot, actor=actor, now=now)


def _offer_to(entry: WaitlistEntry, slot: Slot, *, actor, now: datetime) -> Offer:
    """Offer a free seat of ``slot`` to ``entry`` now, even outside their preferences: staff
    chose them (someone who called, say). The usual SMS and hold, as ``offers.offer_seat`` makes."""
    if entry.status != WaitlistStatus.WAITING:
        raise Conflict(_l("This person is no longer on the waitlist."), code="not_waiting")
    if slot.office_id != entry.office_id:
        raise NotFound()
    if slot.removed_at is not None:
        raise SlotRemoved()
    if slot.available <= 0:
        raise SlotFull()
    send_at = policy.sending_time(now, slot.office)
    hold = policy.hold_time(slot.starts_at, send_at)
    if hold is None:
        raise Conflict(_l("This time is too close to wait for an answer. Book it for the person instead."),
                       code="too_close")
    if db.session.get(OptOut, entry.phone) is not None:
        raise Conflict(_l("This number has asked for no more SMS (STOP)."), code="opted_out")
    if not offers.phone_free(entry.phone):
        raise Conflict(_l("This person has an open offer already."), code="offer_pending")
    asked = select(Offer.slot_id, Offer.status).where(Offer.waitlist_entry_id == entry.id)
    for asked_slot, status in db.session.execute(asked):
        if status == OfferStatus.PENDING:
            raise Conflict(_l("This person has an open offer already."), code="offer_pending")
        if asked_slot == slot.id:
            raise Conflict(_l("This person was offered this time before."), code="offered_before")
    offer = Offer(kind=OfferKind.WAITLIST, slot=slot, office_id=slot.office_id, entry=entry,
                  phone=entry.phone, locale=entry.locale, hold_minutes=int(hold.total_seconds() // 60),
                  created_at=now)
    try:
        with db.session.begin_nested():
            if not seats.take(slot.id):
                raise SlotFull()
            db.session.add(offer)
            db.session.flush()
    except IntegrityError as error:  # another offer to this person, made just now
        raise Conflict(_l("This person has an open offer already."), code="offer_pending") from error
    notify.offer_made(offer, hold, send_at)
    audit.record(actor, "offer.by_hand", now, record=offer,
                 after={"status": str(offer.status), "slot_id": slot.id, "waitlist_entry_id": entry.id,
                        "hold_minutes": offer.hold_minutes})
    return offer



def offerable_slots(office: Office, now: datetime) -> list[Slot]:
    """Free slots far enough ahead to wait for an answer: what staff can offer by hand."""
    send_at = policy.sending_time(now, office)
    return [slot for slot in bookable_slots(office, now, days=current_app.config["SLOT_HORIZON_DAYS"])
            if policy.hold_time(slot.starts_at, send_at) is not None]
