"""What the database counts for the figures, by office and ISO week: requests, appointments,
waits, freed and refilled seats, offers. (SMS: ``sms_usage``.)

The database groups and counts. Where every value is needed (waits, for their median and
90th percentile; a slot's freed and taken seats, to pair them; answer times of offers),
PostgreSQL hands them over as one array per group, not one row per value: a year is then a
few thousand rows, not a hundred thousand. SQLite, for one office network on one server,
returns the rows.
"""
from collections import defaultdict, deque

import psycopg
from psycopg.pq import Format
from sqlalchemy import (
    DateTime,
    Float,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType

from ..extensions import db
from ..models import (
    UNCONFIRMED_WAITS,
    Booking,
    BookingStatus,
    CancelledBy,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    Slot,
    WaitlistEntry,
)

WEEK_STARTS = postgresql.ARRAY(DateTime(timezone=True))
# psycopg's reader of a float8[] in binary form (``Scope.values``).
_FLOATS = psycopg.postgres.adapters.get_loader(psycopg.postgres.types["float8"].array_oid, Format.BINARY)(
    psycopg.postgres.types["float8"].array_oid)


class Scope:
    """The offices (of one time zone) and the UTC bounds of the period's weeks."""

    def __init__(self, office_ids, bounds):
        self.office_ids, self.bounds = office_ids, bounds
        self.start, self.end = bounds[0], bounds[-1]
        self.postgresql = db.session.get_bind().dialect.name == "postgresql"

    def week(self, column):
        """The index of the week ``column`` falls in, as SQL (the period is filtered apart):
        how many of the weeks' UTC starts it has passed. PostgreSQL finds it by bisection
        (``width_bucket``, the starts as one array parameter), elsewhere a CASE tries the
        bounds in turn."""
        inner = self.bounds[1:-1]
        if not inner:
            return literal(0)
        if self.postgresql:
            return func.width_bucket(column, bindparam("week_starts", inner, type_=WEEK_STARTS))
        return case(*[(column < bound, index) for index, bound in enumerate(inner)], else_=len(inner))

    def within(self, column):
        return (column >= self.start) & (column < self.end)

    def seconds(self, later, earlier):
        """``later - earlier`` in seconds, as SQL (a float, never a decimal)."""
        if self.postgresql:
            return cast(func.extract("epoch", later - earlier), Float)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    def values(self, query, keys, value, *aggregates, order_by=(), only=None):
        """(keys..., aggregates..., [values]) for each group of ``query`` (which selects the
        keys) by ``keys``: the values of the rows ``only`` admits (all without it), in the
        order of ``order_by`` if given."""
        if self.postgresql:
            values = func.array_agg(aggregate_order_by(value, *order_by) if order_by else value)
            if only is not None:
                values = values.filter(only)
            # The array in PostgreSQL's binary form: a year's waits come over as bytes and are
            # read by psycopg's binary reader, a third of the time of writing and parsing them
            # as text, and the same doubles.
            values = type_coerce(func.array_send(values), NullType())
            for *row, found in db.session.execute(query.add_columns(*aggregates, values).group_by(*keys)):
                yield (*row, _FLOATS.load(found) if found is not None else [])  # NULL: no row admitted
            return
        lists = defaultdict(list)
        rows = query.add_columns(value).order_by(*order_by)
        for *key, found in db.session.execute(rows if only is None else rows.where(only)):
            lists[tuple(key)].append(float(found))
        if not aggregates:
            for key, found in lists.items():
                yield (*key, found)
            return
        width = len(keys)
        for row in db.session.execute(query.add_columns(*aggregates).group_by(*keys)):
            yield (*row, lists.get(tuple(row[:width]), []))


def requests(scope, tallies):
    """Waitlist joins, and bookings that did not end a wait (a booking from an accepted offer,
    or made directly while waiting, is the same request as the join; a move-up keeps its row)."""
    ended_waits = select(WaitlistEntry.booking_id).where(WaitlistEntry.booking_id.is_not(None))
    joins = (
        select(WaitlistEntry.office_id.label("office_id"), scope.week(WaitlistEntry.requested_at).label("week"),
               func.count().label("n"))
        .where(WaitlistEntry.office_id.in_(scope.office_ids), scope.within(WaitlistEntry.requested_at),
               WaitlistEntry.status.not_in(UNCONFIRMED_WAITS))
        .group_by(WaitlistEntry.office_id, "week")
    )
    direct = (
        select(Booking.office_id, scope.week(Booking.requested_at).label("week"), func.count())
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Booking.requested_at),
               Booking.id.not_in(ended_waits))
        .group_by(Booking.office_id, "week")
    )
    for office_id, week, count in db.session.execute(union_all(joins, direct)):
        tallies[office_id, week].requests += count


def appointments(scope, tallies):
    """Appointments not cancelled: how many, attended and no-shows with and without a
    reminder sent, their waits; then by language and by how they were made."""
    reminded = (
        select(Message.booking_id)
        .where(Message.kind == "reminder", Message.status == MessageStatus.SENT, Message.booking_id.is_not(None))
        .distinct()
    ).subquery()  # joined once (a hash of ix_message_reminder_sent), not looked up per appointment
    flags = (  # one row per appointment
        select(Booking.office_id, scope.week(Slot.starts_at).label("week"), Booking.locale,
               type_coerce(Booking.source, String).label("source"),
               (Booking.status == BookingStatus.ATTENDED).label("came"),
               (Booking.status == BookingStatus.NO_SHOW).label("absent"),
               reminded.c.booking_id.is_not(None).label("reminded"),
               scope.seconds(Slot.starts_at, Booking.requested_at).label("wait"))
        .join(Slot, Slot.id == Booking.slot_id)
        .outerjoin(reminded, reminded.c.booking_id == Booking.id)
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Slot.starts_at),
               Booking.status.not_in((BookingStatus.CANCELLED, BookingStatus.HELD, BookingStatus.EXPIRED)))
    ).cte("flags")  # PostgreSQL reads the appointments once for both questions below
    row = flags.c

    def counted(*conditions):
        return func.sum(case((and_(*conditions), 1), else_=0))

    keys = (row.office_id, row.week)
    for office_id, week, count, came, absent, came_reminded, absent_reminded, waits in scope.values(
            select(*keys), keys, row.wait, func.count(), counted(row.came), counted(row.absent),
            counted(row.came, row.reminded), counted(row.absent, row.reminded)):
        tally = tallies[office_id, week]
        tally.bookings += count
        tally.attended += came
        tally.no_shows += absent
        tally.marked_reminded += came_reminded + absent_reminded
        tally.no_shows_reminded += absent_reminded
        tally.marked_unreminded += came + absent - came_reminded - absent_reminded
        tally.no_shows_unreminded += absent - absent_reminded
        tally.waits.extend(waits)
    if scope.postgresql:  # one pass, two groupings; the reminders' join is left out, unused
        kinds = select(row.office_id, row.week, func.grouping(row.locale) == 0, func.coalesce(row.locale, row.source),
                       func.count()) \
            .group_by(func.grouping_sets(tuple_(row.office_id, row.week, row.locale),
                                         tuple_(row.office_id, row.week, row.source)))
    else:
        kinds = union_all(
            select(row.office_id, row.week, literal(True), row.locale, func.count())
            .group_by(row.office_id, row.week, row.locale),
            select(row.office_id, row.week, literal(False), row.source, func.count())
            .group_by(row.office_id, row.week, row.source),
        )
    for office_id, week, language, value, count in db.session.execute(kinds):
        tally = tallies[office_id, week]
        (tally.by_language if language else tally.by_source)[value] += count


def refills(scope, tallies):
    """Pair each seat freed before its slot began with the next seat taken in that slot after
    it (first freed, first refilled): one refill never counts twice. A slot's events come as
    seconds before its start, earliest first: positive for a seat freed, negative for a seat
    taken."""
    freeing = (Booking.status == BookingStatus.CANCELLED) & (
        Booking.cancelled_by.is_(None) | (Booking.cancelled_by != CancelledBy.SCHEDULE)) & (
        Booking.cancelled_at < Slot.starts_at)
    seated = func.coalesce(Booking.seated_at, Booking.created_at)  # rows from before seated_at
    # One pass over the period's bookings, read three times below.
    marked = (
        select(Booking.slot_id, Booking.office_id, scope.week(Slot.starts_at).label("week"),
               freeing.label("frees"), Booking.cancelled_at, seated.label("seated"), Slot.starts_at)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.office_id.in_(scope.office_ids), scope.within(Slot.starts_at))
    ).cte("marked")
    row = marked.c
    first_freed = select(row.slot_id, func.min(row.cancelled_at).label("at")).where(row.frees) \
        .group_by(row.slot_id).cte("first_freed")
    frees = select(row.slot_id, row.office_id, row.week, scope.seconds(row.starts_at, row.cancelled_at).label("lead")) \
        .where(row.frees)
    takes = (  # a seat taken before the slot's first freed seat refilled nothing: left out
        select(row.slot_id, row.office_id, row.week, -scope.seconds(row.starts_at, row.seated))
        .join(first_freed, first_freed.c.slot_id == row.slot_id)
        .where(row.seated >= first_freed.c.at, row.seated < row.starts_at)
    )
    moved = aliased(Booking)
    through_offers = (  # taken through an offer by a booking that has moved on since
        select(Offer.slot_id, Offer.office_id, scope.week(Slot.starts_at),
               -scope.seconds(Slot.starts_at, Offer.answered_at))
        .join(Slot, Slot.id == Offer.slot_id).join(moved, moved.id == Offer.booking_id)
        .join(first_freed, first_freed.c.slot_id == Offer.slot_id)
        .where(Offer.office_id.in_(scope.office_ids), scope.within(Slot.starts_at),
               Offer.status == OfferStatus.ACCEPTED, moved.slot_id != Offer.slot_id,
               Offer.answered_at >= first_freed.c.at, Offer.answered_at < Slot.starts_at)
    )
    events = union_all(frees, takes, through_offers).subquery()
    lead = events.c.lead
    keys = (events.c.slot_id, events.c.office_id, events.c.week)
    # Earliest first (most seconds before the start); freed before taken at one moment.
    earliest = (func.abs(lead).desc(), lead < 0)
    for _slot, office_id, week, leads in scope.values(select(*keys), keys, lead, order_by=earliest):
        waiting, delays = deque(), []
        for lead in leads:
            if lead > 0:
                waiting.append(lead)
            elif waiting:
                delays.append(waiting.popleft() + lead)
        tally = tallies[office_id, week]
        tally.freed += len(waiting) + len(delays)  # every seat freed is waiting or paired
        tally.refilled += len(delays)
        tally.refill_delays.extend(delays)


def offers(scope, tallies):
    """Offers made in the period by what became of them, and the answer times of those
    answered (from their SMS to the answer)."""
    week = scope.week(Offer.created_at).label("week")
    status = type_coerce(Offer.status, String).label("status")
    made = select(Offer.office_id, week, status).where(Offer.office_id.in_(scope.office_ids),
                                                       scope.within(Offer.created_at))
    answered = Offer.status.in_([OfferStatus.ACCEPTED, OfferStatus.DECLINED]) & Offer.sent_at.is_not(None)
    # Never below zero: an answer can be recorded before the offer's SMS is marked sent.
    at_least = func.greatest if scope.postgresql else func.max
    response = at_least(scope.seconds(Offer.answered_at, Offer.sent_at), literal(0.0, Float))
    for office_id, week, status, count, seconds in scope.values(
            made, (Offer.office_id, "week", Offer.status), response, func.count(), only=answered):
        tally = tallies[office_id, week]
        tally.offers[status] += count
        tally.responses.extend(seconds)
