"""Offers: every freed seat goes to who waits for it, in order, one resident at a time.

Order: the waitlist first, then booked residents who asked for an earlier time, each group
first come first served (by when they first asked). A pending offer holds its seat (see
``seats``); declining, letting it expire or leaving passes the seat to the next person in
the same transaction, and an accepted move-up frees the later seat, which is offered on in
turn, until nobody who waits can use it.

One open offer per phone, across offices: a number waiting at two offices is offered the
next seat of one of them, and the other's when that offer ends (answered, expired or
withdrawn), so nobody holds two seats nobody else may take.

Races: the seat is taken by a conditional update; a resident's single pending offer and
"never the same slot twice" are unique indexes; on PostgreSQL the candidate row is claimed
with ``FOR UPDATE SKIP LOCKED`` so two processes pick different people, and an advisory
lock on the phone (taken without waiting) keeps two offices from offering it at once.

The residents' answers (accept, decline) are in ``offer_answers``; a seat staff offer by hand
to someone waiting, in ``desk``.
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    Message,
    Offer,
    OfferKind,
    OfferStatus,
    Office,
    OptOut,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
)
from . import locks, notify, outbox, policy, seats, states


def fill_slot(slot_id, now):
    """Offer every free seat of a slot to the next people who can use it."""
    made = []
    while (offer := offer_seat(slot_id, now)) is not None:
        made.append(offer)
    return made


def fill_office(office_id, now):
    return sum(len(fill_slot(slot_id, now)) for slot_id in slots_to_fill(now, [office_id]))


def slots_to_fill(now, office_ids=None):
    """Slots with a free seat, far enough ahead to offer, at offices where someone waits."""
    # "Does anyone wait at this office?" as the first row of each queue, so that it is one
    # index probe per office (ix_waitlist_queue, ix_booking_move_up_queue), not a scan.
    first_waiting = (
        select(WaitlistEntry.id)
        .where(WaitlistEntry.office_id == Office.id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(*WaitlistEntry.queue_order()).limit(1).scalar_subquery()
    )
    first_moving = (
        select(Booking.id)
        .where(Booking.office_id == Office.id, Booking.status == BookingStatus.BOOKED,
               Booking.notify_earlier.is_(True))
        .order_by(Booking.requested_at, Booking.id).limit(1).scalar_subquery()
    )
    offices = select(Office.id).where(first_waiting.is_not(None) | first_moving.is_not(None))
    query = (
        select(Slot.id)
        .where(
            Slot.seats_taken < Slot.seats,
            Slot.removed_at.is_(None),
            Slot.starts_at > now + policy.closest_offer_lead(),
            Slot.starts_at <= now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"] + 1),
            Slot.office_id.in_(offices),
        )
        .order_by(Slot.starts_at, Slot.id)
    )
    if office_ids is not None:
        query = query.where(Slot.office_id.in_(office_ids))
    return list(db.session.scalars(query))


def offer_seat(slot_id, now):
    """Offer one free seat of the slot to the first person who can use it, or None."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.available <= 0:
        return None
    send_at = policy.sending_time(now, slot.office)
    hold = policy.hold_time(slot.starts_at, send_at)
    if hold is None:  # too close to wait for an answer: left for walk-ins
        return None
    entry = next_waiting(slot, now)
    booking = None if entry is not None else next_move_up(slot)
    if entry is None and booking is None:
        return None
    resident = entry or booking
    if not phone_free(resident.phone):
        return None  # another office is offering this number something right now
    try:
        with db.session.begin_nested():
            if not seats.take(slot.id):
                return None
            # Made only now: joining the booking's offers, it must not outlive a lost race.
            offer = Offer(
                kind=OfferKind.WAITLIST if entry else OfferKind.MOVE_UP, slot=slot,
                office_id=slot.office_id, entry=entry, booking=booking, phone=resident.phone,
                locale=resident.locale, hold_minutes=int(hold.total_seconds() // 60), created_at=now,
            )
            db.session.add(offer)
            db.session.flush()
    except IntegrityError:  # another process offered this person something just now
        return None
    notify.offer_made(offer, hold, send_at)
    return offer


# Aliases built once: aliased() makes a new table alias with a proxy for every column each
# time it is called, which costs more than the query that uses it.
_pending = aliased(Offer, name="pending_offer")
_asked = aliased(Offer, name="asked_offer")
_held = aliased(Slot, name="held_slot")


def phone_free(phone):
    """Claim ``phone`` for an offer in this transaction: False if another transaction holds
    it (PostgreSQL, an advisory lock tried without waiting: no deadlock between two offices)
    or an offer to it is open now (committed since the candidate was chosen)."""
    if db.session.get_bind().dialect.name == "postgresql":
        if not db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                 {"key": locks.lock_key("offer-phone", phone)}):
            return False
    return not db.session.scalar(
        select(exists().where(Offer.phone == phone, Offer.status == OfferStatus.PENDING)))


def _free_to_ask(pending_owner, asked_owner, resident, slot, *pending_filter):
    """Who may be offered ``slot``: no open offer to the number now (at any office), never
    offered this slot before, and reachable (no STOP). ``resident`` is WaitlistEntry or
    Booking; the owners are the columns of the two Offer aliases that point at it."""
    return (
        ~exists().where(and_(_pending.phone == resident.phone, _pending.status == OfferStatus.PENDING)),
        ~exists().where(and_(asked_owner == resident.id, _asked.slot_id == slot.id)),
        ~exists().where(OptOut.phone == resident.phone),
    )


def next_waiting(slot, now):
    """The first waitlist entry whose preferences the slot fits and who has no open offer."""
    office = slot.office
    start = slot.starts_at.astimezone(office.tz)
    end = slot.ends_at.astimezone(office.tz)
    end_minute = end.hour * 60 + end.minute if end.date() == start.date() else 24 * 60
    query = (
        select(WaitlistEntry)
        .where(
            WaitlistEntry.office_id == slot.office_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.weekdays.op("&")(1 << start.weekday()) != 0,
            (WaitlistEntry.earliest_minute.is_(None))
            | (WaitlistEntry.earliest_minute <= start.hour * 60 + start.minute),
            (WaitlistEntry.latest_minute.is_(None)) | (WaitlistEntry.latest_minute >= end_minute),
            (WaitlistEntry.last_day.is_(None)) | (WaitlistEntry.last_day >= start.date()),
            *_free_to_ask(_pending.waitlist_entry_id, _asked.waitlist_entry_id, WaitlistEntry, slot),
        )
        .order_by(*WaitlistEntry.queue_order())
        .limit(1)
        .with_for_update(skip_locked=True, of=WaitlistEntry)
    )
    return db.session.scalar(query)


def next_move_up(slot):
    """The first booked resident who asked for an earlier time and has a later one."""
    query = (
        select(Booking)
        .join(_held, _held.id == Booking.slot_id)
        .where(
            Booking.office_id == slot.office_id,
            Booking.status == BookingStatus.BOOKED,
            Booking.notify_earlier.is_(True),
            _held.starts_at > slot.starts_at,
            *_free_to_ask(_pending.booking_id, _asked.booking_id, Booking, slot,
                          _pending.kind == OfferKind.MOVE_UP),
        )
        .order_by(Booking.requested_at, Booking.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Booking)
    )
    return db.session.scalar(query)


def offer_elsewhere(offer, now):
    """The number's offer ended: its waits at other offices may be offered a seat now."""
    waiting_at = select(WaitlistEntry.office_id).where(
        WaitlistEntry.phone == offer.phone, WaitlistEntry.status == WaitlistStatus.WAITING,
        WaitlistEntry.office_id != offer.office_id)
    for office_id in db.session.scalars(waiting_at).all():
        fill_office(office_id, now)


def withdraw(offer, now):
    if settle(offer, OfferStatus.WITHDRAWN, now):
        pass_on(offer, now)


def withdraw_for_booking(booking, now):
    """A cancelled booking cannot be moved: withdraw its open move-up offer."""
    for offer in db.session.scalars(
        select(Offer).where(Offer.booking_id == booking.id, Offer.kind == OfferKind.MOVE_UP,
                            Offer.status == OfferStatus.PENDING)
    ).all():
        withdraw(offer, now)


def expire(now):
    """Expire the offers whose hold has run out, and withdraw unsent ones whose slot came
    too close to offer; each seat goes to the next person. Returns how many ended."""
    too_close = now + policy.closest_offer_lead()
    stale = select(Offer).join(Offer.slot).where(
        Offer.status == OfferStatus.PENDING,
        ((Offer.expires_at <= now) | (Offer.sent_at.is_(None) & (Slot.starts_at <= too_close))),
    ).order_by(Offer.id).with_for_update(skip_locked=True, of=Offer)
    ended = 0
    for offer in db.session.scalars(stale).all():
        status = OfferStatus.EXPIRED if offer.sent_at else OfferStatus.WITHDRAWN
        if settle(offer, status, now):
            pass_on(offer, now)
            ended += 1
    return ended


def start_hold(offer, now, restart=False):
    """The offer's SMS is going out now: the hold starts (``restart``: again, after a failed
    attempt). False if the offer is over, or if its slot is now too close to wait for an
    answer (then the seat goes on)."""
    if offer.status != OfferStatus.PENDING:
        return False
    if offer.sent_at is not None and not restart:
        return True
    # The SMS says how long the seat is held, so the hold is the one it was written with.
    hold = timedelta(minutes=offer.hold_minutes)
    if policy.hold_time(offer.slot.starts_at, now) is None or now + hold >= offer.slot.starts_at:
        withdraw(offer, now)
        return False
    offer.sent_at, offer.expires_at = now, now + hold
    return True


@outbox.before_send("offer", selectinload(Message.offer).selectinload(Offer.slot))
def before_offer_sent(message: Message, now: datetime, opted_out: bool) -> str | None:
    """The offer's SMS is going out now: its hold starts, and the SMS is of use while the
    hold lasts. To a number that opted out it never goes out: the seat goes on."""
    offer = message.offer
    if opted_out:
        if offer is not None and offer.sent_at is None:
            withdraw(offer, now)  # nobody will hear of it
        return outbox.OPTED_OUT
    if offer is None:
        return None
    # A retry restarts the hold: the resident gets the time the SMS promises.
    if not start_hold(offer, now, restart=message.attempts > 0):
        return "offer no longer open"
    message.valid_until = offer.expires_at
    return None


def settle(offer, status, now):
    """Move a pending offer to ``status``; False if another request answered it first."""
    return states.advance(offer, OfferStatus.PENDING, status=status, answered_at=now)


def pass_on(offer, now):
    seats.release(offer.slot_id)
    fill_slot(offer.slot_id, now)
    offer_elsewhere(offer, now)


# --- Weekly hours and closures (services.schedule) ---

def take_back(offer, now):
    """Withdraw a pending offer whose time is taken away or loses seats, and free its seat
    without offering it on: the seat itself is going. The resident keeps their place."""
    if settle(offer, OfferStatus.WITHDRAWN, now):
        seats.release(offer.slot_id)
        return True
    return False
