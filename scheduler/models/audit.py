from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class AuditEntry(db.Model):
    """One change made by staff, by page, API or command line.

    It names records by id and holds no residents' personal data: ``before`` and ``after``
    carry settings (hours, seats, statuses), never names, numbers or topics.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None for the command line run by an operator on the server.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id", ondelete="SET NULL"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id", ondelete="SET NULL"), index=True)
    # What was done, as "noun.verb": "hours.replace", "booking.cancel", "resident.erase", ...
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[int | None]
    before: Mapped[dict | list | None] = mapped_column(JSON)
    after: Mapped[dict | list | None] = mapped_column(JSON)

    staff: Mapped["StaffAccount | None"] = relationship()  # noqa: F821
    office: Mapped["Office | None"] = relationship()  # noqa: F821
