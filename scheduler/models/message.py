import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Message(db.Model):
    """The outbox: every SMS is written in the transaction of the change that causes it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    to: Mapped[str] = mapped_column(String(254), index=True)
    # What the message is about: confirmation, cancellation, offer, reminder, ...
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus),
        default=MessageStatus.QUEUED,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
