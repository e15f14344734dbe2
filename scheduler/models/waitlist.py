import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .booking import new_token
from .types import UTCDateTime, enum_column

EVERY_WEEKDAY = 0b1111111
# The queue's first order: residents the office put back after taking their appointment
# away come before everyone else (``FRONT``); then first come, first served.
FRONT, IN_TURN = 0, 1


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"  # accepted an offer, or booked a time directly
    LEFT = "left"
    LAPSED = "lapsed"  # the last acceptable day passed
    REMOVED = "removed"  # taken off the list by staff, with a reason (``end_reason``)
    # Phone verification (BOOKING_VERIFICATION=sms): a wait not yet confirmed by its SMS,
    # and one that was not confirmed in time. Neither is in the queue.
    HELD = "held"
    EXPIRED = "expired"


# Waits never confirmed by their SMS: not requests, not in any queue or figure.
UNCONFIRMED_WAITS = (WaitlistStatus.HELD, WaitlistStatus.EXPIRED)


class WaitlistEntry(db.Model):
    """A resident waiting for a seat at an office, first come first served.

    The preferences narrow which seats are offered: ``weekdays`` is a bit mask (bit 0 is
    Monday), ``earliest_minute`` and ``latest_minute`` the local time window in minutes after
    midnight (the appointment lies inside it), ``last_day`` the last acceptable local date.
    """

    __table_args__ = (
        # One phone waits once per office.
        Index(
            "uq_waitlist_office_phone_waiting", "office_id", "phone", unique=True,
            sqlite_where=text("status = 'waiting'"), postgresql_where=text("status = 'waiting'"),
        ),
        # The queue, in order: matching walks it from the front.
        Index("ix_waitlist_queue", "office_id", "status", "queue_rank", "requested_at", "id"),
        # Waits with a last day, for waitlist.lapse.
        Index(
            "ix_waitlist_last_day", "last_day",
            sqlite_where=text("status = 'waiting' AND last_day IS NOT NULL"),
            postgresql_where=text("status = 'waiting' AND last_day IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    status: Mapped[WaitlistStatus] = mapped_column(
        enum_column(WaitlistStatus), default=WaitlistStatus.WAITING,
    )
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; None once anonymised
    locale: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(500), default="")
    weekdays: Mapped[int] = mapped_column(default=EVERY_WEEKDAY)
    earliest_minute: Mapped[int | None]
    latest_minute: Mapped[int | None]
    last_day: Mapped[date | None]
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # FRONT for a resident the office put back (their appointment was taken away), else
    # IN_TURN; the queue is ordered by (queue_rank, requested_at, id).
    queue_rank: Mapped[int] = mapped_column(default=IN_TURN)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(200))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    # Phone verification: until when a held wait may be confirmed.
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    office: Mapped["Office"] = relationship()  # noqa: F821
    booking: Mapped["Booking | None"] = relationship()  # noqa: F821

    @classmethod
    def queue_order(cls):
        """The order of the queue: put back by the office first, then by the first request."""
        return cls.queue_rank, cls.requested_at, cls.id

    def accepts_weekday(self, weekday):
        return bool(self.weekdays & (1 << weekday))
