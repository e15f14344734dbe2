"""The waitlist: residents waiting for a seat at an office, first come first served."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import FRONT, Offer, OfferStatus, Office, WaitlistEntry, WaitlistStatus
from . import audit, holds, notify, offers, reasons, states
from . import details as residents
from . import preferences as wishes
from .errors import AlreadyWaiting, Conflict, InvalidInput, NotFound, TooManyBookings
from .locks import number_lock, transaction_lock


def join(office, *, name, phone, locale, now, weekdays=None, earliest=None, latest=None,
         before=None, topic=None):
    """Put a resident on the office's waitlist, then offer them a free seat if one fits.

    ``weekdays`` are 0 (Monday) to 6; ``earliest`` and ``latest`` local times that the
    appointment must lie between; ``before`` the last acceptable day. All optional.
    """
    from .booking import upcoming_bookings  # booking imports this module

    fields = {}
    try:
        details = residents.clean(name, phone, locale, topic=topic)
    except InvalidInput as invalid:
        fields.update(invalid.fields)
    try:
        preferences = wishes.clean(weekdays, earliest, latest, before, now.astimezone(office.tz).date())
        wishes.check_reachable(office, preferences, now)
    except InvalidInput as invalid:
        fields.update(invalid.fields)
    if fields:  # every mistake at once, not one batch per try
        raise InvalidInput(fields=fields)
    transaction_lock(*number_lock(details["phone"]))
    upcoming = upcoming_bookings(office.id, details["phone"], now)
    details.pop("email")
    if holds.enabled():  # held until confirmed; the same answer for every number
        return holds.hold_wait(office, details, preferences, upcoming, now)
    if upcoming:
        raise TooManyBookings()
    entry = WaitlistEntry(office_id=office.id, requested_at=now, **details, **preferences)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as error:  # the partial unique index: one wait per phone and office
        raise AlreadyWaiting() from error
    queued(entry, now)
    return entry


def queued(entry, now):
    """A wait has joined the queue: offer it a free seat if one fits, else say its place.
    Offered a seat at once, the offer's SMS says so; "you are number 1" would contradict it."""
    offers.fill_office(entry.office_id, now)
    if pending_offer(entry) is None:
        notify.waitlist_joined(entry, position(entry), now)


def waiting_at(office_id, phone):
    """The number's wait in the queue of an office, or None."""
    return db.session.scalar(select(WaitlistEntry).where(*waiting_criteria(office_id, phone)))


def waiting_criteria(office_id, phone):
    return (WaitlistEntry.office_id == office_id, WaitlistEntry.phone == phone,
            WaitlistEntry.status == WaitlistStatus.WAITING)


def position(entry):
    """1 for the first in the queue. Only meaningful while the entry waits."""
    order = WaitlistEntry.queue_order()
    ahead = db.session.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(
            WaitlistEntry.office_id == entry.office_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            tuple_(*order) < tuple_(*(literal(getattr(entry, column.key), column.type) for column in order)),
        )
    )
    return ahead + 1


def by_token(token):
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.token == token))
    if entry is None:
        raise NotFound(_l("This waitlist entry does not exist. Please check the link."))
    return entry


def pending_offer(entry):
    return db.session.scalar(
        select(Offer).where(Offer.waitlist_entry_id == entry.id, Offer.status == OfferStatus.PENDING)
    )


def leave(entry, now):
    """Leave the waitlist (twice is not an error); a seat on offer goes to the next person."""
    return _end(entry, WaitlistStatus.LEFT, now)


def end_wait(office_id, phone, now, booking):
    """Whoever books a time directly stops waiting at that office; the wait they have had
    counts towards the booking."""
    for entry in db.session.scalars(select(WaitlistEntry).where(*waiting_criteria(office_id, phone))).all():
        if _end(entry, WaitlistStatus.BOOKED, now):
            entry.booking = booking
            booking.requested_at = min(booking.requested_at, entry.requested_at)


def lapse(now):
    """End the waits whose last acceptable day has passed. Returns how many."""
    ended = 0
    for office in db.session.scalars(select(Office)).all():
        ids = db.session.scalars(
            update(WaitlistEntry)
            .where(WaitlistEntry.office_id == office.id,
                   WaitlistEntry.status == WaitlistStatus.WAITING,
                   WaitlistEntry.last_day < now.astimezone(office.tz).date())
            .values(status=WaitlistStatus.LAPSED, ended_at=now)
            .returning(WaitlistEntry.id)
        ).all()
        ended += len(ids)
        if ids:  # a seat on offer to someone whose wait ended goes to the next person
            for offer in db.session.scalars(
                select(Offer).where(Offer.waitlist_entry_id.in_(ids),
                                    Offer.status == OfferStatus.PENDING)
            ).all():
                offers.withdraw(offer, now)
    return ended


def _end(entry, status, now):
    ended = states.advance(entry, WaitlistStatus.WAITING, status=status, ended_at=now)
    if ended and (offer := pending_offer(entry)) is not None:
        offers.withdraw(offer, now)
    return ended


# --- The office desk: taking someone off the waitlist ---------------------------------------

def remove(entry: WaitlistEntry, reason: str, *, actor, now: datetime) -> bool:
    """Take a resident off the waitlist, with a reason, and tell them by SMS in their language.

    A seat on offer to them goes to the next person at once. Removing again is not an error
    (False, nothing sent); a wait that ended otherwise (booked, left, lapsed) cannot be removed.
    """
    reason = reasons.clean(reason)
    if entry.status == WaitlistStatus.REMOVED:
        return False
    if not states.advance(entry, WaitlistStatus.WAITING, status=WaitlistStatus.REMOVED,
                          ended_at=now, end_reason=reason):
        if entry.status == WaitlistStatus.REMOVED:  # removed by someone else just now
            return False
        raise Conflict(_l("This person is no longer on the waitlist."), code="not_waiting")
    offer = pending_offer(entry)
    if offer is not None:
        offers.withdraw(offer, now)
    notify.waitlist_removed(entry, now)
    audit.record(actor, "waitlist.remove", now, record=entry,
                 before={"status": str(WaitlistStatus.WAITING)},
                 after={"status": str(entry.status), "withdrawn_offer_id": offer.id if offer else None})
    return True


# --- Weekly hours and closures (services.schedule) ---

def put_back(booking, now):
    """A resident whose appointment the office took away waits again at that office, at the
    front of the queue (before everyone the office did not move), with the time they first
    asked (``requested_at`` of the booking, so their wait is measured from there) and no
    preferences, so the nearest free time fits. Someone already waiting there keeps one wait
    (the unique index), moved to the front, with the earlier of the two request times.
    Without a phone nobody can be offered anything: None."""
    if not booking.phone:
        return None
    waiting = (select(WaitlistEntry)
               .where(WaitlistEntry.office_id == booking.office_id, WaitlistEntry.phone == booking.phone,
                      WaitlistEntry.status == WaitlistStatus.WAITING)
               .with_for_update())
    entry = db.session.scalar(waiting)
    if entry is None:
        entry = WaitlistEntry(office_id=booking.office_id, name=booking.name, phone=booking.phone,
                              locale=booking.locale, topic=booking.topic, requested_at=booking.requested_at,
                              queue_rank=FRONT)
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
            return entry
        except IntegrityError:  # they joined just now, from another request
            entry = db.session.scalar(waiting)
    entry.requested_at = min(entry.requested_at, booking.requested_at)
    entry.queue_rank = FRONT
    return entry
