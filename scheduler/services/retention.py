"""Deleting residents' personal data once it has served its purpose, or on request.

Bookings, waitlist entries and offers stay, without names, numbers or topics, for the
figures (wait times, refill rate, no-shows); messages and SMS replies are deleted. Opt-outs
are kept: they are the resident's wish not to be texted.

``anonymise`` is the one place that says what "deleted" means: the age-based ``purge``
below and the erasure of one phone number on request (``data_requests.erase``) both call it.
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, select, update

from ..extensions import db
from ..models import Booking, InboundMessage, Message, Offer, Slot, WaitlistEntry


def anonymise(*, bookings: ColumnElement, entries: ColumnElement, offers: ColumnElement,
              messages: ColumnElement, replies: ColumnElement,
              synchronize_session: str | bool = False) -> dict[str, int]:
    """Blank the personal fields of the bookings, waitlist entries and offers matching each
    condition, and delete the matching messages and SMS replies. Returns rows per kind.

    Rows already blank are left alone, so running it twice touches nothing the second time.
    ``synchronize_session="fetch"`` keeps the rows already loaded in this session true to
    the database (a request that just wrote messages it means to send); the purge of the
    whole database needs no such care.
    """
    statements = {
        # A walk-in booked by staff may have no phone but still a name and a topic.
        "bookings": update(Booking)
        .where(bookings, Booking.phone.is_not(None) | Booking.email.is_not(None)
               | (Booking.name != "") | (Booking.topic != ""))
        .values(name="", phone=None, email=None, topic=""),
        "waitlist": update(WaitlistEntry)
        .where(entries, WaitlistEntry.phone.is_not(None) | (WaitlistEntry.name != "")
               | (WaitlistEntry.topic != ""))
        .values(name="", phone=None, topic=""),
        "offers": update(Offer).where(offers, Offer.phone.is_not(None)).values(phone=None),
        "messages": delete(Message).where(messages),
        "replies": delete(InboundMessage).where(replies),
    }
    return {
        kind: db.session.execute(statement.execution_options(synchronize_session=synchronize_session)).rowcount
        for kind, statement in statements.items()
    }


def purge(now: datetime) -> int:
    """Anonymise or delete what is older than the retention period. Returns rows touched."""
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    past_slots = select(Slot.id).where(Slot.ends_at < cutoff)
    return sum(anonymise(
        bookings=Booking.slot_id.in_(past_slots),
        entries=WaitlistEntry.ended_at < cutoff,
        offers=Offer.slot_id.in_(past_slots),
        messages=Message.created_at < cutoff,
        replies=InboundMessage.received_at < cutoff,
    ).values())
