import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..segments import segments
from .types import UTCDateTime, enum_column


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # never sent, on purpose: opted out, too late, offer gone (see error)


_REMINDER_SENT = "kind = 'reminder' AND status = 'sent'"


class Message(db.Model):
    """The outbox: every SMS and e-mail is written in the transaction of the change that
    causes it, and sent by the dispatcher (``jobs.dispatch_outbox``)."""

    __table_args__ = (
        Index("ix_message_status_due", "status", "due_at"),
        # The figures' split of attendance by whether a reminder was sent: read from the index.
        Index("ix_message_reminder_sent", "booking_id", sqlite_where=text(_REMINDER_SENT),
              postgresql_where=text(_REMINDER_SENT)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms or email
    to: Mapped[str] = mapped_column(String(254), index=True)
    # What the message is about: confirmation, cancellation, offer, reminder, ...
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(200))  # e-mail only
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(Text)  # e-mail only: an iCalendar file
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"), index=True)
    # Makes a message that must exist once (a reminder, say) unique across processes.
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus),
        default=MessageStatus.QUEUED,
    )
    # Not sent before this time: quiet hours, or the backoff after a failed attempt. No
    # default: it comes from the ``now`` of the service that writes the message, the clock
    # the dispatcher compares it with.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Pointless after this time (the appointment, the offer's hold): skipped, and the
    # carrier is told to drop it by then (Twilio's validity period).
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(255), index=True)
    # What the provider last reported: queued, sent, delivered, undelivered, failed.
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For the figures, recorded when the row is written (``_recorded`` below): how many
    # segments an SMS is billed as (``segments.segments``), and the office it belongs to
    # (its booking's, else its offer's, else the waitlist entry's it is about).
    segments: Mapped[int | None] = mapped_column()
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))

    booking: Mapped["Booking | None"] = relationship()  # noqa: F821
    offer: Mapped["Offer | None"] = relationship()  # noqa: F821
    office: Mapped["Office | None"] = relationship()  # noqa: F821


@event.listens_for(Message, "before_insert")
def _recorded(_mapper, connection, message):
    record_for_figures(message, connection)


def record_for_figures(message, connection):
    """Measure an SMS and note its office as it is written, whoever writes it: the figures
    then sum a column instead of reading every text and joining bookings, offers and the
    waitlist to find the office. The ORM calls it before each INSERT; a writer that inserts
    without the ORM (``seats.seat_booking``) calls it itself."""
    if message.segments is None and message.channel in (None, "sms"):
        message.segments = segments(message.body)
    if message.office_id is None:
        message.office_id = _office_of(connection, message)


def _office_of(connection, message):
    """The office given, else the booking's, else the offer's: from the rows at hand if the
    message was written with them (as ``messages.queue_sms`` does), else looked up by id."""
    loaded = message.__dict__
    if loaded.get("office") is not None:
        return loaded["office"].id
    for about in (loaded.get("booking"), loaded.get("offer")):
        if about is not None:
            return about.office_id
    if message.booking_id is None and message.offer_id is None:
        return None
    from .booking import Booking
    from .offer import Offer
    return connection.scalar(select(func.coalesce(
        select(Booking.office_id).where(Booking.id == message.booking_id).scalar_subquery(),
        select(Offer.office_id).where(Offer.id == message.offer_id).scalar_subquery(),
    )))


class KnownNumber(db.Model):
    """A phone number the service has texted, kept as a keyed hash (HMAC-SHA256 with
    ``SECRET_KEY``) so that it outlives the retention purge of the number itself: the
    hourly budget of SMS to new numbers (``services.sms_budget``) must know it later."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # When the first SMS to it was claimed: what counts against that hour's budget.
    first_texted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
