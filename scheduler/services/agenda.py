"""An office's agenda: who comes when, what may be done with each booking now, and who waits.

Read-only. What may be done with a booking is decided by the services that do it
(``booking.can_change``, ``desk.attendance_choices``); the agenda only asks them, so the
pages show exactly the buttons the services accept.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    Offer,
    OfferStatus,
    Office,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
)
from . import booking as bookings
from . import desk
from .errors import InvalidInput

VIEWS = ("day", "week")
MAX_RANGE_DAYS = 92
YEARS = (2000, 2199)


@dataclass(frozen=True)
class AgendaBooking:
    booking: Booking
    may_cancel: bool
    attendance: tuple[BookingStatus, ...]  # the marks that may be set now

    @property
    def may_mark(self) -> bool:
        """Attendance may be marked for the first time (not only corrected)."""
        return self.booking.status == BookingStatus.BOOKED and bool(self.attendance)


@dataclass(frozen=True)
class AgendaSlot:
    slot: Slot
    bookings: list[AgendaBooking]
    held: int  # seats held for an offer that has not been answered

    @property
    def free(self) -> int:
        return 0 if self.slot.removed_at is not None else self.slot.available


@dataclass(frozen=True)
class AgendaDay:
    day: date
    slots: list[AgendaSlot]

    @property
    def booked(self) -> int:
        return sum(1 for row in self.slots for item in row.bookings
                   if item.booking.status != BookingStatus.CANCELLED)


@dataclass(frozen=True)
class Waiting:
    entry: WaitlistEntry
    position: int
    days_waited: int
    offer: Offer | None  # the seat on offer to them now, if any

    @property
    def weekdays(self) -> list[int]:
        """0 = Monday; all seven when any day suits."""
        return [day for day in range(7) if self.entry.accepts_weekday(day)]

    @property
    def earliest(self) -> time | None:
        return _time(self.entry.earliest_minute)

    @property
    def latest(self) -> time | None:
        return _time(self.entry.latest_minute)


def _time(minute: int | None) -> time | None:
    return None if minute is None else time(minute // 60, minute % 60)


def period(day: date, view: str) -> tuple[date, date]:
    """The first and last day shown: the day itself, or its ISO week (Monday to Sunday)."""
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day, day


def check_range(first: date, last: date) -> None:
    for name, day in (("from", first), ("to", last)):
        if not YEARS[0] <= day.year <= YEARS[1]:  # nothing is booked there, and UTC may overflow
            raise InvalidInput(fields={name: _l("Must be a date like 2026-03-26.")})
    if last < first:
        raise InvalidInput(fields={"to": _l("Must not be before 'from'.")})
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput(fields={"to": _l("At most %(n)d days at once.", n=MAX_RANGE_DAYS)})


def _bounds(office: Office, first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time(), tzinfo=office.tz),
            datetime.combine(last + timedelta(days=1), time(), tzinfo=office.tz))


def bookings_between(office: Office, first: date, last: date) -> list[Booking]:
    """Every booking (cancelled ones too) whose appointment starts on these local days, in
    time order; at one time, the active ones first, then in the order they were made."""
    check_range(first, last)
    start, end = _bounds(office, first, last)
    return list(db.session.scalars(
        select(Booking)
        .join(Booking.slot)
        .options(contains_eager(Booking.slot))
        .where(Booking.office_id == office.id, Slot.starts_at >= start, Slot.starts_at < end,
               # not yet or never confirmed (phone verification): no appointment for staff
               Booking.status.not_in((BookingStatus.HELD, BookingStatus.EXPIRED)))
        .order_by(Slot.starts_at, Slot.id, Booking.status == BookingStatus.CANCELLED, Booking.id)
    ))


def days(office: Office, first: date, last: date, now: datetime) -> list[AgendaDay]:
    """Every day from ``first`` to ``last`` with its slots (free seats included) and their
    bookings. A slot taken away by a change of hours is shown only while it has bookings."""
    found = bookings_between(office, first, last)
    start, end = _bounds(office, first, last)
    booked_slots = {booking.slot_id for booking in found}
    slots = db.session.scalars(
        select(Slot)
        .where(Slot.office_id == office.id, Slot.starts_at >= start, Slot.starts_at < end,
               Slot.removed_at.is_(None) | Slot.id.in_(booked_slots or [0]))
        .order_by(Slot.starts_at, Slot.id)
    ).all()
    held = dict(db.session.execute(
        select(Offer.slot_id, func.count())
        .where(Offer.slot_id.in_([slot.id for slot in slots] or [0]), Offer.status == OfferStatus.PENDING)
        .group_by(Offer.slot_id)
    ).all())
    by_slot: dict[int, list[AgendaBooking]] = {}
    for booking in found:
        by_slot.setdefault(booking.slot_id, []).append(AgendaBooking(
            booking, may_cancel=bookings.can_change(booking, now),
            attendance=desk.attendance_choices(booking, now),
        ))
    result = {first + timedelta(days=n): [] for n in range((last - first).days + 1)}
    for slot in slots:
        day = slot.starts_at.astimezone(office.tz).date()
        result[day].append(AgendaSlot(slot, by_slot.get(slot.id, []), held.get(slot.id, 0)))
    return [AgendaDay(day, rows) for day, rows in result.items()]


def waiting(office: Office, now: datetime) -> list[Waiting]:
    """The office's waitlist in order (first come, first served), with any seat on offer."""
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.office_id == office.id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(*WaitlistEntry.queue_order())
    ).all()
    pending = {
        offer.waitlist_entry_id: offer for offer in db.session.scalars(
            select(Offer).where(Offer.waitlist_entry_id.in_([entry.id for entry in entries] or [0]),
                                Offer.status == OfferStatus.PENDING)
        )
    }
    today = now.astimezone(office.tz).date()
    return [
        Waiting(entry, position, (today - entry.requested_at.astimezone(office.tz).date()).days,
                pending.get(entry.id))
        for position, entry in enumerate(entries, start=1)
    ]
