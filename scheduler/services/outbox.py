"""The outbox: claiming queued messages and recording what became of them."""
from sqlalchemy import select, update

from ..extensions import db
from ..models import Message, MessageStatus


def queued_ids(limit=100, booking_id=None):
    query = select(Message.id).where(Message.status == MessageStatus.QUEUED).order_by(Message.id)
    if booking_id is not None:
        query = query.where(Message.booking_id == booking_id)
    return list(db.session.scalars(query.limit(limit)))


def claim(message_id):
    """Take a queued message for sending; False if another process took it first."""
    claimed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.SENDING, attempts=Message.attempts + 1)
    )
    return claimed.rowcount == 1


def record_sent(message_id, provider_id, now):
    message = db.session.get(Message, message_id)
    message.status = MessageStatus.SENT
    message.provider_id = provider_id
    message.sent_at = now
    message.error = None


def record_failure(message_id, error):
    message = db.session.get(Message, message_id)
    message.status = MessageStatus.FAILED
    message.error = str(error)[:2000]


def listing(to=None):
    query = select(Message).order_by(Message.id)
    if to is not None:
        query = query.where(Message.to == to)
    return list(db.session.scalars(query))
