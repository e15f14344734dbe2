"""The outbox: claiming due messages, and recording what became of them.

A message moves queued -> sending (claimed, committed before the provider is called) ->
sent, or back to queued with a backoff after a transient failure, or to failed or skipped.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Message, MessageStatus, Offer, OptOut
from . import offers


class PermanentFailure(Exception):
    """The provider refused the message for good (an invalid number, say): no retry.

    ``unsubscribed``: the number has opted out with the carrier or Twilio (STOP sent to them
    directly); we record it as our own opt-out, so it gets no offers it cannot hear of."""

    def __init__(self, text, unsubscribed=False):
        super().__init__(text)
        self.unsubscribed = unsubscribed


def track(message):
    """Remember a message written in this request, to send it right after the commit."""
    db.session.info.setdefault("outbox", []).append(message)


def tracked_ids():
    """The ids of the messages this request wrote and committed; forgets them."""
    written = db.session.info.pop("outbox", [])
    # A message of a rolled-back transaction is no longer persistent: it was never written.
    return [message.id for message in written if inspect(message).persistent]


def claim_due(now, limit=100, message_ids=None):
    """Claim due messages for sending (queued -> sending); returns their ids.

    The caller commits before sending, so no other dispatcher can take them. On PostgreSQL
    ``FOR UPDATE SKIP LOCKED`` lets two dispatchers claim different messages side by side;
    on SQLite every transaction holds the write lock from its start, so claims queue up.
    """
    query = (
        select(Message)
        .where(Message.status == MessageStatus.QUEUED, Message.due_at <= now)
        .order_by(Message.due_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .options(selectinload(Message.offer).selectinload(Offer.slot))
    )
    if message_ids is not None:
        query = query.where(Message.id.in_(message_ids))
    messages = db.session.scalars(query).all()
    phones = {message.to for message in messages if message.channel == "sms"}
    opted_out = set(db.session.scalars(
        select(OptOut.phone).where(OptOut.phone.in_(phones))
    )) if phones else set()
    claimed = []
    for message in messages:
        reason = reason_to_skip(message, now, opted_out)
        if reason:
            message.status, message.error = MessageStatus.SKIPPED, reason
            continue
        claimed.append(message.id)
    if claimed:
        db.session.execute(
            update(Message).where(Message.id.in_(claimed))
            .values(status=MessageStatus.SENDING, attempts=Message.attempts + 1, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return claimed


def reason_to_skip(message, now, opted_out=None):
    if message.channel == "sms" and (
        message.to in opted_out if opted_out is not None
        else db.session.get(OptOut, message.to) is not None
    ):
        if message.offer is not None and message.offer.sent_at is None:
            offers.withdraw(message.offer, now)  # nobody will hear of it: the seat goes on
        return "opted out (STOP)"
    if message.offer is not None:
        # A retry restarts the hold: the resident gets the time the SMS promises.
        if not offers.start_hold(message.offer, now, restart=message.attempts > 0):
            return "offer no longer open"
        message.valid_until = message.offer.expires_at
    if message.valid_until is not None and message.valid_until <= now:
        return "too late: no longer of use"
    return None


def record_sent(message_id, provider_id, now):
    db.session.execute(
        update(Message).where(Message.id == message_id)
        .values(status=MessageStatus.SENT, provider_id=provider_id, sent_at=now, error=None)
        .execution_options(synchronize_session="fetch")
    )


def record_failure(message_id, error, now, permanent=False):
    """Retry later with a growing pause, or give up after the configured attempts."""
    message = db.session.get(Message, message_id)
    message.error = str(error)[:2000]
    if getattr(error, "unsubscribed", False) and db.session.get(OptOut, message.to) is None:
        db.session.add(OptOut(phone=message.to, created_at=now))
    pauses = current_app.config["OUTBOX_RETRY_MINUTES"]
    if permanent or message.attempts > len(pauses):
        message.status = MessageStatus.FAILED
        return
    message.status = MessageStatus.QUEUED
    message.due_at = now + timedelta(minutes=pauses[message.attempts - 1])


def stale(now, limit=100):
    """Messages claimed long ago and never recorded: their dispatcher died mid-send."""
    cutoff = now - timedelta(minutes=current_app.config["OUTBOX_STALE_MINUTES"])
    return list(db.session.scalars(
        select(Message)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_at < cutoff)
        .order_by(Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def record_delivery(provider_id, status, error_code, message_id=None):
    """What Twilio's status callback reports. Repeated or late callbacks change nothing.

    ``message_id`` comes from our callback URL: it finds a message whose send was never
    recorded because its dispatcher died right after Twilio took it, or whose send looked
    failed (a timeout) and waits for a retry that would text the resident twice.
    """
    if status not in DELIVERY_ORDER:  # a status Twilio added (e.g. partially_delivered)
        return None
    message = db.session.scalar(select(Message).where(Message.provider_id == provider_id))
    if message is None and message_id is not None:
        message = db.session.get(Message, message_id)
        if message is not None and message.provider_id is None and message.status in (
                MessageStatus.SENDING, MessageStatus.QUEUED):
            message.provider_id = provider_id
            message.status = MessageStatus.SENT
            message.sent_at = message.claimed_at
    if message is None or message.provider_id != provider_id:
        return None
    if DELIVERY_ORDER.get(status, 0) >= DELIVERY_ORDER.get(message.delivery_status, 0):
        message.delivery_status = status
        if error_code:
            message.error = f"Twilio error {error_code}"
    return message


# Twilio's statuses in the order they happen; a callback that arrives late never moves a
# message back (a "sent" after a "delivered" is ignored).
DELIVERY_ORDER = {
    "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
    "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
}


def listing(to=None):
    query = select(Message).order_by(Message.id)
    if to is not None:
        query = query.where(Message.to == to)
    return list(db.session.scalars(query))
