"""Data requests (GDPR articles 15 and 17): everything stored about a phone number, and
erasing it.

Administrators only: a number's data spans offices. The number is the key residents know
us by; bookings, waits, offers, SMS replies and the messages to it (SMS to the number,
e-mails about its bookings) are found by it.

Erasing is retention brought forward (``retention.anonymise``: the same rows, the same
fields), after the future is settled: the number's waits end, its open offers are
withdrawn and its future appointments cancelled, each freed seat offered on at once. The
cancellation texts this writes are deleted with every other message to the number before
anything is sent, so the number hears nothing more. An opt-out (STOP) is kept: it is the
resident's own wish not to be texted, and forgetting it would let SMS reach the number
again should it ever be given anew. The audit log says that an erasure happened and how
much it touched, never the number.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    CancelledBy,
    InboundMessage,
    Message,
    Offer,
    OfferStatus,
    OptOut,
    Slot,
    StaffAccount,
    WaitlistEntry,
    WaitlistStatus,
)
from . import audit, offers, phones, retention, states, waitlist
from . import booking as bookings
from .staff import require_admin

# Kept as the reason on the rows the erasure ended; says nothing about the person.
ERASED = "erased on request"


@dataclass
class Found:
    """What is stored about one phone number."""

    phone: str
    bookings: list[Booking] = field(default_factory=list)
    entries: list[WaitlistEntry] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    replies: list[InboundMessage] = field(default_factory=list)
    opt_out: OptOut | None = None

    def counts(self) -> dict:
        return {"bookings": len(self.bookings), "waitlist": len(self.entries), "offers": len(self.offers),
                "messages": len(self.messages), "replies": len(self.replies),
                "opt_out": self.opt_out is not None}


def look_up(actor: StaffAccount, raw_phone: str, now: datetime, record: bool = True) -> Found:
    """Everything about the number. The audit log notes that someone looked, not at whom
    (``record=False``: the confirmation before an erasure, which is logged itself)."""
    require_admin(actor)
    found = _find(phones.normalise_any(raw_phone))
    if record:
        audit.record(actor, "resident.export", now, after=found.counts())
    return found


def _find(phone: str) -> Found:
    found = Found(phone=phone)
    found.bookings = list(db.session.scalars(
        select(Booking).join(Booking.slot).where(Booking.phone == phone).order_by(Slot.starts_at, Booking.id)))
    found.entries = list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.phone == phone).order_by(WaitlistEntry.requested_at)))
    found.offers = list(db.session.scalars(select(Offer).where(Offer.phone == phone).order_by(Offer.id)))
    found.messages = list(db.session.scalars(
        select(Message).where(_messages_of(phone, [b.id for b in found.bookings], [o.id for o in found.offers]))
        .order_by(Message.id)))
    found.replies = list(db.session.scalars(
        select(InboundMessage).where(InboundMessage.phone == phone).order_by(InboundMessage.id)))
    found.opt_out = db.session.get(OptOut, phone)
    return found


def _messages_of(phone, booking_ids, offer_ids):
    """SMS to the number, and e-mails (or SMS) about its bookings and offers."""
    return (Message.to == phone) | Message.booking_id.in_(booking_ids) | Message.offer_id.in_(offer_ids)


def erase(actor: StaffAccount, raw_phone: str, now: datetime) -> dict:
    """Settle the number's future, then anonymise it as retention does. Returns counts."""
    require_admin(actor)
    phone = phones.normalise_any(raw_phone)
    found = _find(phone)
    # Nothing more is offered to the number: no earlier times, no seats from the waitlist.
    db.session.execute(update(Booking).where(Booking.phone == phone).values(notify_earlier=False)
                       .execution_options(synchronize_session="fetch"))
    for entry in found.entries:
        if states.advance(entry, WaitlistStatus.WAITING, status=WaitlistStatus.REMOVED, ended_at=now,
                          end_reason=ERASED) and (offer := waitlist.pending_offer(entry)) is not None:
            offers.withdraw(offer, now)
    for offer in found.offers:
        if offer.status == OfferStatus.PENDING:
            offers.withdraw(offer, now)
    cancelled = 0
    for booking in found.bookings:
        if booking.status == BookingStatus.BOOKED and booking.slot.starts_at > now:
            cancelled += bookings.cancel(booking, now=now, by=CancelledBy.STAFF, reason=ERASED,
                                         staff_id=actor.id)
    booking_ids = [booking.id for booking in found.bookings]
    offer_ids = [offer.id for offer in found.offers]
    counts = retention.anonymise(
        bookings=Booking.id.in_(booking_ids),
        entries=WaitlistEntry.id.in_([entry.id for entry in found.entries]),
        offers=Offer.id.in_(offer_ids) | (Offer.phone == phone),
        messages=_messages_of(phone, booking_ids, offer_ids),
        replies=InboundMessage.phone == phone,
        synchronize_session="fetch",  # the cancellation texts written above: never sent
    )
    counts.update(cancelled=cancelled, opt_out_kept=found.opt_out is not None)
    audit.record(actor, "resident.erase", now, after=counts)
    return counts


def as_json(found: Found, now: datetime) -> dict:
    """The export: what a resident gets when they ask what we store. No manage tokens:
    they are keys to the bookings, not data about the person."""
    return {
        "phone": found.phone,
        "exported_at": now.isoformat(),
        "bookings": [_booking_json(booking) for booking in found.bookings],
        "waitlist": [_entry_json(entry) for entry in found.entries],
        "offers": [_offer_json(offer) for offer in found.offers],
        "messages": [_message_json(message) for message in found.messages],
        "replies": [{"id": reply.id, "received_at": _iso(reply.received_at), "body": reply.body,
                     "answer": reply.reply} for reply in found.replies],
        "opt_out": {"since": _iso(found.opt_out.created_at)} if found.opt_out else None,
    }


def _iso(moment, office=None):
    if moment is None:
        return None
    return (moment.astimezone(office.tz) if office is not None else moment).isoformat()


def _booking_json(booking):
    office = booking.office
    return {
        "id": booking.id, "office": office.slug, "start": _iso(booking.slot.starts_at, office),
        "end": _iso(booking.slot.ends_at, office), "status": str(booking.status), "name": booking.name,
        "phone": booking.phone, "email": booking.email, "topic": booking.topic, "locale": booking.locale,
        "source": str(booking.source), "notify_earlier": booking.notify_earlier,
        "requested_at": _iso(booking.requested_at), "created_at": _iso(booking.created_at),
        "cancelled_at": _iso(booking.cancelled_at),
        "cancelled_by": str(booking.cancelled_by) if booking.cancelled_by else None,
        "cancel_reason": booking.cancel_reason,
    }


def _entry_json(entry):
    return {
        "id": entry.id, "office": entry.office.slug, "status": str(entry.status), "name": entry.name,
        "phone": entry.phone, "topic": entry.topic, "locale": entry.locale,
        "weekdays": [day for day in range(7) if entry.accepts_weekday(day)],
        "earliest_minute": entry.earliest_minute, "latest_minute": entry.latest_minute,
        "last_day": entry.last_day.isoformat() if entry.last_day else None,
        "requested_at": _iso(entry.requested_at), "ended_at": _iso(entry.ended_at),
        "end_reason": entry.end_reason, "booking_id": entry.booking_id,
    }


def _offer_json(offer):
    return {
        "id": offer.id, "office": offer.office.slug, "kind": str(offer.kind), "status": str(offer.status),
        "start": _iso(offer.slot.starts_at, offer.office), "phone": offer.phone, "locale": offer.locale,
        "created_at": _iso(offer.created_at), "sent_at": _iso(offer.sent_at),
        "expires_at": _iso(offer.expires_at), "answered_at": _iso(offer.answered_at),
        "waitlist_entry_id": offer.waitlist_entry_id, "booking_id": offer.booking_id,
    }


def _message_json(message):
    return {
        "id": message.id, "channel": message.channel, "to": message.to, "kind": message.kind,
        "status": str(message.status), "subject": message.subject, "body": message.body,
        "attachment": message.attachment, "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at), "booking_id": message.booking_id, "offer_id": message.offer_id,
    }
