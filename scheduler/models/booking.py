import enum
import secrets
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, enum_column


def new_token():
    """An unguessable capability for a link: 96 random bits in 16 URL-safe characters, short
    enough for an SMS. Links made before carry 24 characters (144 bits) and keep working."""
    return secrets.token_urlsafe(12)


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    # Phone verification (BOOKING_VERIFICATION=sms): the seat is held until the resident
    # confirms by link or reply; unconfirmed, the hold expires and the seat is offered on.
    HELD = "held"
    EXPIRED = "expired"


class BookingSource(enum.StrEnum):
    """How the booking came to hold its seat."""

    ONLINE = "online"  # the resident, on the page or through the API
    WALK_IN = "walk_in"  # staff, for someone standing in the office
    PHONE = "phone"  # staff, for someone who called
    WAITLIST = "waitlist"  # an accepted offer to someone on the waitlist
    MOVE_UP = "move_up"  # moved to an earlier seat the resident was offered


class CancelledBy(enum.StrEnum):
    RESIDENT = "resident"  # page, API or SMS reply
    STAFF = "staff"  # on the resident's behalf, with a reason
    SCHEDULE = "schedule"  # the office's hours changed or it closed that day


class Booking(db.Model):
    """A resident's seat in a slot."""

    __table_args__ = (
        # One phone number holds a slot's seat once. Partial, so a cancelled booking does
        # not stop the same person from booking that slot again.
        Index(
            "uq_booking_slot_phone_active",
            "slot_id",
            "phone",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_booking_phone_status", "phone", "status"),
        # The queue of residents who asked for an earlier time, in order (offers.next_move_up).
        Index(
            "ix_booking_move_up_queue", "office_id", "requested_at", "id",
            sqlite_where=text("status = 'booked' AND notify_earlier IS 1"),
            postgresql_where=text("status = 'booked' AND notify_earlier IS TRUE"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # Public and stable: the UID of the calendar event, which outlives moves to other slots.
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus),
        default=BookingStatus.BOOKED,
    )
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; None once anonymised
    email: Mapped[str | None] = mapped_column(String(254))
    topic: Mapped[str] = mapped_column(String(500), default="")
    locale: Mapped[str] = mapped_column(String(16))
    notify_earlier: Mapped[bool] = mapped_column(default=False)
    # When the resident first asked for an appointment; the wait is measured from here,
    # also across the waitlist and moves to an earlier slot.
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[CancelledBy | None] = mapped_column(enum_column(CancelledBy))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[BookingSource] = mapped_column(enum_column(BookingSource), default=BookingSource.ONLINE)
    # When the booking took the seat it holds now (made, or moved to an earlier slot): a
    # seat freed before this time and taken at it was refilled.
    seated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who did what to the booking; the audit log has the whole story.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id", ondelete="SET NULL"))
    # Raised on every change a calendar must pick up (RFC 5545 SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    # A held booking's seat is kept until then (services/verification.py).
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    slot: Mapped["Slot"] = relationship()  # noqa: F821
    office: Mapped["Office"] = relationship()  # noqa: F821
    # Offers of an earlier time for this booking, and the waitlist offer it was made from.
    # The session keeps the list up to date as offers are made; a new booking starts empty.
    offers: Mapped[list["Offer"]] = relationship(back_populates="booking")  # noqa: F821
