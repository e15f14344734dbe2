"""The evaluation's figures, per office and ISO week, for any period of local dates.

A period's figures depend on the recorded data and the period alone, never on the clock:
an appointment (and a seat freed in it) counts in the week its slot starts, a request in the
week it was first made, an offer in the week it was made, an SMS in the week it was sent.
The database counts, grouped by office and week; what needs every value (waits for their
median and 90th percentile, freed seats to pair with refills, SMS texts to count segments)
is fetched as one row per item, a few numbers each. See docs/figures.md for definitions.
"""
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Booking, BookingStatus, CancelledBy, Message, MessageStatus, Offer, OfferStatus, Office, Slot,
    WaitlistEntry,
)
from . import notify
from .tally import Tally, summary, total


@dataclass(frozen=True)
class Week:
    """An ISO week, cut to the period where the period starts or ends inside it."""

    label: str  # "2026-W48"
    first: date
    last: date


def weeks(first: date, last: date) -> list[Week]:
    found = []
    day = first
    while day <= last:
        year, number, weekday = day.isocalendar()
        end = min(last, day + timedelta(days=7 - weekday))
        found.append(Week(f"{year}-W{number:02d}", day, end))
        day = end + timedelta(days=1)
    return found


class Figures:
    """The tallies of a period, by office and week; ask for any sum of them."""

    def __init__(self, offices: list[Office], first: date, last: date, tallies: dict):
        self.offices, self.first, self.last = offices, first, last
        self.weeks = weeks(first, last)
        self._tallies = tallies  # (office id, week index) -> Tally

    def tally(self, office: Office | None = None, week: int | None = None) -> Tally:
        """One office (None: all of them), one week (None: the whole period)."""
        return total(
            tally for (office_id, index), tally in self._tallies.items()
            if (office is None or office_id == office.id) and (week is None or index == week)
        )


def collect(offices: list[Office], first: date, last: date) -> Figures:
    """Count the figures of ``offices`` from local date ``first`` to ``last``, inclusive."""
    tallies = defaultdict(Tally)
    by_zone = sorted(offices, key=lambda office: office.timezone)
    for _zone, group in groupby(by_zone, key=lambda office: office.timezone):
        group = list(group)
        bounds = [_utc(week.first, group[0]) for week in weeks(first, last)]
        bounds.append(_utc(last + timedelta(days=1), group[0]))
        scope = _Scope([office.id for office in group], bounds)
        for count in (_requests, _appointments, _waits, _refills, _offers, _sms):
            count(scope, tallies)
    return Figures(offices, first, last, dict(tallies))


def _utc(day, office):
    return datetime.combine(day, time(), tzinfo=office.tz).astimezone(UTC)


class _Scope:
    """The offices (of one time zone) and the UTC bounds of the period's weeks."""

    def __init__(self, office_ids, bounds):
        self.office_ids, self.bounds = office_ids, bounds
        self.start, self.end = bounds[0], bounds[-1]

    def week(self, column):
        """The index of the week ``column`` falls in, as SQL (the period is filtered apart)."""
        inner = self.bounds[1:-1]
        if not inner:
            return literal(0)
        return case(*[(column < bound, index) for index, bound in enumerate(inner)], else_=len(inner))

    def within(self, column):
        return (column >= self.start) & (column < self.end)


def _seconds(later, earlier):
    """``later - earlier`` in seconds, as SQL on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _requests(scope, tallies):
    """Waitlist joins, and bookings that did not end a wait (a booking from an accepted offer,
    or made directly while waiting, is the same request as the join; a move-up keeps its row)."""
    joins = (
        select(WaitlistEntry.office_id, scope.week(WaitlistEntry.requested_at).label("week"), func.count())
        .where(WaitlistEntry.office_id.in_(scope.office_ids), scope.within(WaitlistEntry.requested_at))
        .group_by(WaitlistEntry.office_id, "week")
    )
    ended_waits = select(WaitlistEntry.booking_id).where(WaitlistEntry.booking_id.is_not(None))
    direct = (
        select(Booking.office_id, scope.week(Booking.requested_at).label("week"), func.count())
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Booking.requested_at),
               Booking.id.not_in(ended_waits))
        .group_by(Booking.office_id, "week")
    )
    for query in (joins, direct):
        for office_id, week, count in db.session.execute(query):
            tallies[office_id, week].requests += count


def _appointments(scope, tallies):
    reminded = (
        select(Message.id)
        .where(Message.booking_id == Booking.id, Message.kind == "reminder",
               Message.status == MessageStatus.SENT)
        .exists()
    )
    query = (
        select(Booking.office_id, scope.week(Slot.starts_at).label("week"), Booking.status,
               Booking.locale, Booking.source, reminded.label("reminded"), func.count())
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Slot.starts_at),
               Booking.status != BookingStatus.CANCELLED)
        .group_by(Booking.office_id, "week", Booking.status, Booking.locale, Booking.source, "reminded")
    )
    for office_id, week, status, locale, source, was_reminded, count in db.session.execute(query):
        tally = tallies[office_id, week]
        tally.bookings += count
        tally.by_language[locale] += count
        tally.by_source[str(source)] += count
        if status in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
            no_show = count if status == BookingStatus.NO_SHOW else 0
            if status == BookingStatus.ATTENDED:
                tally.attended += count
            else:
                tally.no_shows += count
            if was_reminded:
                tally.marked_reminded += count
                tally.no_shows_reminded += no_show
            else:
                tally.marked_unreminded += count
                tally.no_shows_unreminded += no_show


def _waits(scope, tallies):
    query = (
        select(Booking.office_id, scope.week(Slot.starts_at), _seconds(Slot.starts_at, Booking.requested_at))
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Slot.starts_at),
               Booking.status != BookingStatus.CANCELLED)
    )
    for office_id, week, seconds in db.session.execute(query):
        tallies[office_id, week].waits.append(float(seconds))


def _refills(scope, tallies):
    """Pair each seat freed before its slot began with the next seat taken in that slot
    after it (first freed, first refilled): one refill never counts twice."""
    cancelled = aliased(Booking)
    freed_slots = select(cancelled.slot_id).where(cancelled.status == BookingStatus.CANCELLED)
    seated = func.coalesce(Booking.seated_at, Booking.created_at)  # rows from before seated_at
    bookings = (
        select(Booking.slot_id, Booking.office_id, scope.week(Slot.starts_at),
               (Booking.status == BookingStatus.CANCELLED) & (
                   Booking.cancelled_by.is_(None) | (Booking.cancelled_by != CancelledBy.SCHEDULE)),
               _seconds(Slot.starts_at, Booking.cancelled_at), _seconds(Slot.starts_at, seated))
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Slot.starts_at),
               Booking.slot_id.in_(freed_slots))
    )
    events = defaultdict(list)  # slot -> (seconds before the start, 0 freed / 1 taken)
    where = {}
    for slot_id, office_id, week, freed, freed_lead, taken_lead in db.session.execute(bookings):
        where[slot_id] = (office_id, week)
        if freed and freed_lead is not None and freed_lead > 0:
            events[slot_id].append((float(freed_lead), 0))
        if taken_lead is not None and taken_lead > 0:
            events[slot_id].append((float(taken_lead), 1))
    # Seats taken through an offer by a booking that has since moved on to another slot.
    moved = aliased(Booking)
    accepted = (
        select(Offer.slot_id, _seconds(Slot.starts_at, Offer.answered_at))
        .join(Slot, Slot.id == Offer.slot_id).join(moved, moved.id == Offer.booking_id)
        .where(Offer.office_id.in_(scope.office_ids), scope.within(Slot.starts_at),
               Offer.status == OfferStatus.ACCEPTED, moved.slot_id != Offer.slot_id,
               Offer.slot_id.in_(freed_slots))
    )
    for slot_id, taken_lead in db.session.execute(accepted):
        if slot_id in where and taken_lead is not None and taken_lead > 0:
            events[slot_id].append((float(taken_lead), 1))
    for slot_id, slot_events in events.items():
        tally = tallies[where[slot_id]]
        waiting = deque()
        # Earliest first: the most seconds before the start; a seat freed and taken at the
        # same moment was freed first.
        for lead, kind in sorted(slot_events, key=lambda event: (-event[0], event[1])):
            if kind == 0:
                tally.freed += 1
                waiting.append(lead)
            elif waiting:
                tally.refilled += 1
                tally.refill_delays.append(waiting.popleft() - lead)


def _offers(scope, tallies):
    counts = (
        select(Offer.office_id, scope.week(Offer.created_at).label("week"), Offer.status, func.count())
        .where(Offer.office_id.in_(scope.office_ids), scope.within(Offer.created_at))
        .group_by(Offer.office_id, "week", Offer.status)
    )
    for office_id, week, status, count in db.session.execute(counts):
        tallies[office_id, week].offers[str(status)] += count
    responses = (
        select(Offer.office_id, scope.week(Offer.created_at), _seconds(Offer.answered_at, Offer.sent_at))
        .where(Offer.office_id.in_(scope.office_ids), scope.within(Offer.created_at),
               Offer.status.in_([OfferStatus.ACCEPTED, OfferStatus.DECLINED]),
               Offer.sent_at.is_not(None))
    )
    for office_id, week, seconds in db.session.execute(responses):
        tallies[office_id, week].responses.append(max(0.0, float(seconds)))


def _sms(scope, tallies):
    """SMS sent in the period. An SMS about a booking or an offer belongs to its office; one
    about neither (joining the waitlist) to the office where that number last joined the
    waitlist before the SMS was written."""
    sent = (
        select(func.coalesce(Booking.office_id, Offer.office_id), scope.week(Message.sent_at),
               Message.body, Message.to, Message.created_at)
        .select_from(Message)
        .outerjoin(Booking, Booking.id == Message.booking_id)
        .outerjoin(Offer, Offer.id == Message.offer_id)
        .where(Message.channel == "sms", Message.status == MessageStatus.SENT, scope.within(Message.sent_at))
    )
    wanted = set(scope.office_ids)
    unlinked = []
    for office_id, week, body, phone, created_at in db.session.execute(sent):
        if office_id is None:
            unlinked.append((week, body, phone, created_at))
        elif office_id in wanted:
            _count_sms(tallies[office_id, week], body)
    if not unlinked:
        return
    joins = defaultdict(list)
    for phone, office_id, requested_at in db.session.execute(
        select(WaitlistEntry.phone, WaitlistEntry.office_id, WaitlistEntry.requested_at)
        .where(WaitlistEntry.phone.in_(list({phone for _week, _body, phone, _at in unlinked})))
        .order_by(WaitlistEntry.requested_at)
    ):
        joins[phone].append((requested_at, office_id))
    for week, body, phone, created_at in unlinked:
        before = [office_id for requested_at, office_id in joins.get(phone, ()) if requested_at <= created_at]
        if before and before[-1] in wanted:
            _count_sms(tallies[before[-1], week], body)


def _count_sms(tally, body):
    tally.sms_messages += 1
    tally.sms_segments += notify.segments(body)


# The longest period asked for at once: the whole funding period of three years.
MAX_PERIOD_DAYS = 1100


def report(offices: list[Office], first: date, last: date, *, per_office: bool = False,
           price: float | None = None) -> dict:
    """The figures of the period as the staff API answers them: the offices together, each
    ISO week, and with ``per_office`` each office with its own weeks."""
    found = collect(offices, first, last)

    def described(office=None):
        return {
            **summary(found.tally(office), price),
            "weeks": [
                {"week": week.label, "from": week.first.isoformat(), "to": week.last.isoformat(),
                 **summary(found.tally(office, index), price)}
                for index, week in enumerate(found.weeks)
            ],
        }

    result = {"from": first.isoformat(), "to": last.isoformat(), **described()}
    if per_office:
        result["offices"] = [{"office": office.slug, "name": office.name, **described(office)}
                             for office in offices]
    return result
