from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class Slot(db.Model):
    """One bookable time of an office with a number of seats.

    ``seats_taken`` counts the seats held by bookings and by pending offers. It moves only
    through the conditional updates of ``services.seats``, so the database, not the
    application, settles who gets the last seat; the check constraint is the final guard
    against overselling.
    """

    __table_args__ = (
        UniqueConstraint("office_id", "starts_at"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= seats", name="capacity"),
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seats: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0)
    # Set when the office's hours or a closure took this time away: it is no longer offered
    # or listed, and stays only for the bookings that were in it. Cleared if it comes back.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped["Office"] = relationship()  # noqa: F821

    @property
    def available(self):
        return self.seats - self.seats_taken
