"""What an office's records say about its demand, for the what-if simulator: who asked when,
with which preferences, how often people cancel, miss appointments and take offers; and who
held a seat or waited at a given moment.
"""
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    EVERY_WEEKDAY,
    UNCONFIRMED_WAITS,
    Booking,
    BookingStatus,
    CancelledBy,
    Offer,
    OfferStatus,
    Office,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
)

GAVE_UP = (WaitlistStatus.LEFT, WaitlistStatus.LAPSED, WaitlistStatus.REMOVED)


@dataclass(frozen=True)
class Wish:
    """When a request was made (local weekday and minute) and what it asks for: weekdays (a
    mask, bit 0 Monday) and a local time window in minutes (None: any)."""

    weekday: int
    minute: int
    weekdays: int = EVERY_WEEKDAY
    earliest: int | None = None
    latest: int | None = None


@dataclass
class Demand:
    weeks: float  # how many weeks were observed
    wishes: list[Wish] = field(default_factory=list)  # every request of those weeks
    cancel_rate: float = 0.0  # appointments cancelled before they began, of all made
    cancel_fractions: list[float] = field(default_factory=list)  # how far from booking to start
    no_show_rate: float = 0.0
    acceptance: float = 0.5  # offers accepted, of those answered or expired
    response_hours: list[float] = field(default_factory=list)
    give_up_rate: float = 0.0  # waits that ended without a booking (left, lapsed, removed)
    patience_days: list[float] = field(default_factory=list)  # how long those waited first

    @property
    def per_week(self) -> float:
        return len(self.wishes) / self.weeks if self.weeks else 0.0

    def as_dict(self) -> dict:
        return {
            "weeks_observed": round(self.weeks, 1), "requests_per_week": round(self.per_week, 1),
            "with_preferences": round(sum(wish.weekdays != EVERY_WEEKDAY or wish.earliest is not None
                                          or wish.latest is not None for wish in self.wishes)
                                      / len(self.wishes), 3) if self.wishes else None,
            "cancel_rate": round(self.cancel_rate, 3), "no_show_rate": round(self.no_show_rate, 3),
            "acceptance_rate": round(self.acceptance, 3), "give_up_rate": round(self.give_up_rate, 3),
            "response_hours": round(statistics.median(self.response_hours), 1) if self.response_hours else None,
        }


@dataclass
class Situation:
    """Seats held and people waiting at one moment, as recorded."""

    booked: list[tuple[datetime, datetime]] = field(default_factory=list)  # (slot start, requested_at)
    waiting: list[tuple[datetime, Wish]] = field(default_factory=list)  # (requested_at, wish)


def recorded(office: Office, start: datetime, end: datetime) -> Demand:
    """The demand of ``office`` recorded between ``start`` and ``end`` (UTC)."""
    first = min((moment for moment in (
        db.session.scalar(select(func.min(WaitlistEntry.requested_at)).where(WaitlistEntry.office_id == office.id)),
        db.session.scalar(select(func.min(Booking.requested_at)).where(Booking.office_id == office.id)),
    ) if moment is not None), default=end)
    start = min(max(start, first), end)  # an office with a shorter past: only the weeks it has
    demand = Demand(weeks=(end - start).total_seconds() / (7 * 86400))
    tz = office.tz
    joined = gave_up = 0
    for requested_at, weekdays, earliest, latest, status, ended_at in db.session.execute(
        select(WaitlistEntry.requested_at, WaitlistEntry.weekdays, WaitlistEntry.earliest_minute,
               WaitlistEntry.latest_minute, WaitlistEntry.status, WaitlistEntry.ended_at)
        .where(WaitlistEntry.office_id == office.id, WaitlistEntry.requested_at >= start,
               WaitlistEntry.requested_at < end,
               WaitlistEntry.status.not_in(UNCONFIRMED_WAITS))
    ):
        demand.wishes.append(_wish(requested_at, tz, weekdays, earliest, latest))
        joined += 1
        if status in GAVE_UP and ended_at is not None and ended_at <= end:
            gave_up += 1
            demand.patience_days.append((ended_at - requested_at).total_seconds() / 86400)
    demand.give_up_rate = gave_up / joined if joined else 0.0
    ended_waits = select(WaitlistEntry.booking_id).where(WaitlistEntry.booking_id.is_not(None))
    for (requested_at,) in db.session.execute(
        select(Booking.requested_at)
        .where(Booking.office_id == office.id, Booking.requested_at >= start, Booking.requested_at < end,
               Booking.id.not_in(ended_waits))
    ):
        demand.wishes.append(_wish(requested_at, tz, EVERY_WEEKDAY, None, None))
    demand.wishes.sort(key=lambda wish: (wish.weekday, wish.minute, wish.weekdays))
    made = cancelled = 0
    for status, by, cancelled_at, seated_at, starts_at in db.session.execute(
        select(Booking.status, Booking.cancelled_by, Booking.cancelled_at,
               func.coalesce(Booking.seated_at, Booking.created_at), Slot.starts_at)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id == office.id, Slot.starts_at >= start, Slot.starts_at < end)
    ):
        if by == CancelledBy.SCHEDULE:
            continue
        made += 1
        if status == BookingStatus.CANCELLED and cancelled_at < starts_at:
            cancelled += 1
            span = (starts_at - seated_at).total_seconds()
            if span > 0:
                demand.cancel_fractions.append(min(1.0, max(0.0, (cancelled_at - seated_at).total_seconds() / span)))
    demand.cancel_rate = cancelled / made if made else 0.0
    marked = dict(db.session.execute(
        select(Booking.status, func.count()).join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id == office.id, Slot.starts_at >= start, Slot.starts_at < end,
               Booking.status.in_([BookingStatus.ATTENDED, BookingStatus.NO_SHOW]))
        .group_by(Booking.status)
    ).all())
    if sum(marked.values()):
        demand.no_show_rate = marked.get(BookingStatus.NO_SHOW, 0) / sum(marked.values())
    answered = {OfferStatus.ACCEPTED: 0, OfferStatus.DECLINED: 0, OfferStatus.EXPIRED: 0}
    for status, sent_at, answered_at in db.session.execute(
        select(Offer.status, Offer.sent_at, Offer.answered_at)
        .where(Offer.office_id == office.id, Offer.created_at >= start, Offer.created_at < end,
               Offer.status.in_(list(answered)))
    ):
        answered[status] += 1
        if status != OfferStatus.EXPIRED and sent_at is not None and answered_at is not None:
            demand.response_hours.append(max(0.0, (answered_at - sent_at).total_seconds() / 3600))
    if sum(answered.values()):
        demand.acceptance = answered[OfferStatus.ACCEPTED] / sum(answered.values())
    return demand


def _wish(requested_at, tz, weekdays, earliest, latest):
    local = requested_at.astimezone(tz)
    return Wish(local.weekday(), local.hour * 60 + local.minute, weekdays, earliest, latest)


def situation(office: Office, at: datetime) -> Situation:
    """Who held a seat in a later slot, and who waited, at ``at`` (as far as the records tell:
    a booking moved to another slot since is seen in the slot it holds now)."""
    found = Situation()
    seated = func.coalesce(Booking.seated_at, Booking.created_at)
    found.booked = [tuple(row) for row in db.session.execute(
        select(Slot.starts_at, Booking.requested_at).join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id == office.id, Slot.starts_at > at, seated <= at,
               Booking.cancelled_at.is_(None) | (Booking.cancelled_at > at))
        .order_by(Slot.starts_at)
    )]
    for requested_at, weekdays, earliest, latest in db.session.execute(
        select(WaitlistEntry.requested_at, WaitlistEntry.weekdays, WaitlistEntry.earliest_minute,
               WaitlistEntry.latest_minute)
        .where(WaitlistEntry.office_id == office.id, WaitlistEntry.requested_at <= at,
               WaitlistEntry.ended_at.is_(None) | (WaitlistEntry.ended_at > at),
               WaitlistEntry.status.not_in(UNCONFIRMED_WAITS))
        .order_by(WaitlistEntry.requested_at, WaitlistEntry.id)
    ):
        found.waiting.append((requested_at, _wish(requested_at, office.tz, weekdays, earliest, latest)))
    return found
