import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .booking import new_token
from .types import UTCDateTime, enum_column


class OfferKind(enum.StrEnum):
    WAITLIST = "waitlist"  # a seat for someone on the waitlist
    MOVE_UP = "move_up"  # an earlier seat for someone who has a booking


class OfferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the resident left the waitlist, or the slot came too close


class Offer(db.Model):
    """A freed seat held for one resident until answered or expired.

    A pending offer holds its seat in ``Slot.seats_taken`` (taken by the same conditional
    update as a booking), so a seat on offer is neither offered again nor booked. The hold
    starts when the SMS goes out (``sent_at``); ``expires_at`` is set then.
    """

    __table_args__ = (
        # One open offer per resident at a time.
        Index("uq_offer_entry_pending", "waitlist_entry_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        Index("uq_offer_booking_pending", "booking_id", unique=True,
              sqlite_where=text("status = 'pending' AND kind = 'move_up'"),
              postgresql_where=text("status = 'pending' AND kind = 'move_up'")),
        # A slot is offered to a resident once: whoever declined it is not asked again.
        UniqueConstraint("slot_id", "waitlist_entry_id", name="uq_offer_slot_entry"),
        UniqueConstraint("slot_id", "booking_id", name="uq_offer_slot_booking"),
        Index("ix_offer_status_expires", "status", "expires_at"),
        Index("ix_offer_phone_status", "phone", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    kind: Mapped[OfferKind] = mapped_column(enum_column(OfferKind))
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.PENDING)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    waitlist_entry_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entry.id"))
    # For a move-up, the booking to move; for a waitlist offer, the booking its acceptance made.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    phone: Mapped[str | None] = mapped_column(String(20))  # None once anonymised
    locale: Mapped[str] = mapped_column(String(16))
    hold_minutes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped["Slot"] = relationship()  # noqa: F821
    office: Mapped["Office"] = relationship()  # noqa: F821
    entry: Mapped["WaitlistEntry | None"] = relationship()  # noqa: F821
    booking: Mapped["Booking | None"] = relationship(back_populates="offers")  # noqa: F821
