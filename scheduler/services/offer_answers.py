"""Residents' answers to offers: looking an offer up, accepting it (a booking, or a move to
the earlier time), declining it. Making, expiring and withdrawing offers is ``offers``.
"""
from sqlalchemy import select

from ..extensions import db
from ..models import Booking, BookingSource, BookingStatus, Offer, OfferKind, OfferStatus, WaitlistStatus
from . import notify, seats, states
from .errors import NotFound, OfferGone
from .offers import fill_slot, offer_elsewhere, pass_on, settle


def by_token(token):
    offer = db.session.scalar(select(Offer).where(Offer.token == token))
    if offer is None:
        raise NotFound()
    return offer


def pending_for_phone(phone):
    """The open offer that an SMS reply from ``phone`` answers: the latest one sent."""
    return db.session.scalar(
        select(Offer)
        .where(Offer.phone == phone, Offer.status == OfferStatus.PENDING, Offer.sent_at.is_not(None))
        .order_by(Offer.sent_at.desc(), Offer.id.desc())
        .limit(1)
    )


def is_open(offer, now):
    return offer.status == OfferStatus.PENDING and not (
        offer.expires_at is not None and offer.expires_at <= now
    ) and offer.slot.starts_at > now


def accept(offer, now):
    """Book the held seat, or move the booking to it. Accepting twice returns the booking."""
    if offer.status == OfferStatus.ACCEPTED:
        return offer.booking
    if not is_open(offer, now) or not settle(offer, OfferStatus.ACCEPTED, now):
        raise OfferGone()
    if offer.kind == OfferKind.WAITLIST:
        booking = _book_from_waitlist(offer, now)
        _end_holds(offer.office_id, offer.phone, now)
    else:
        booking = _move(offer, now)
    notify.booking_confirmed(booking, now)
    offer_elsewhere(offer, now)
    return booking


def _end_holds(office_id, phone, now):
    """Phone verification: a number that took an offer has its appointment at that office;
    a time it holds there unconfirmed goes back, or it would end with two."""
    held = select(Booking).where(Booking.office_id == office_id, Booking.phone == phone,
                                 Booking.status == BookingStatus.HELD)
    for hold in db.session.scalars(held).all():
        if states.advance(hold, BookingStatus.HELD, status=BookingStatus.EXPIRED, cancelled_at=now):
            seats.release(hold.slot_id)
            fill_slot(hold.slot_id, now)


def _book_from_waitlist(offer, now):
    entry = offer.entry
    booking = Booking(
        slot_id=offer.slot_id, office_id=offer.office_id, name=entry.name, phone=entry.phone,
        locale=entry.locale, topic=entry.topic, requested_at=entry.requested_at, created_at=now,
        seated_at=now, source=BookingSource.WAITLIST,
    )
    db.session.add(booking)
    entry.status, entry.ended_at, entry.booking = WaitlistStatus.BOOKED, now, booking
    offer.booking = booking
    db.session.flush()
    return booking


def _move(offer, now):
    """Move the booking into the held seat, then offer its old seat on: the chain goes on."""
    booking = offer.booking
    if booking.status != BookingStatus.BOOKED:
        raise OfferGone()
    old_slot_id = booking.slot_id
    booking.slot_id = offer.slot_id
    booking.sequence += 1
    booking.seated_at, booking.source = now, BookingSource.MOVE_UP
    db.session.flush()
    db.session.expire(booking, ["slot"])
    seats.release(old_slot_id)
    fill_slot(old_slot_id, now)
    return booking


def decline(offer, now):
    """Decline (twice is not an error): the seat goes to the next person at once."""
    if offer.status == OfferStatus.DECLINED:
        return False
    if offer.status != OfferStatus.PENDING or not settle(offer, OfferStatus.DECLINED, now):
        raise OfferGone()
    pass_on(offer, now)
    return True


def sent_move_up(booking):
    """The open offer of an earlier time for this booking, once its SMS has gone out.

    A booking that asks for no earlier time has none (``withdraw_for_booking`` ends it when
    the wish is dropped or the booking cancelled), and a booking made a moment ago has none:
    ``Booking.offers`` starts empty and the session adds what is offered since."""
    if not booking.notify_earlier or booking.status != BookingStatus.BOOKED:
        return None
    return next((offer for offer in booking.offers
                 if offer.kind == OfferKind.MOVE_UP and offer.status == OfferStatus.PENDING
                 and offer.sent_at is not None), None)
