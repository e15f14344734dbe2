"""Staff accounts, the offices they work for, and their API tokens."""
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime

staff_office = Table(
    "staff_office",
    db.metadata,
    Column("staff_id", ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("office.id", ondelete="CASCADE"), primary_key=True),
)


class StaffAccount(UserMixin, db.Model):
    """Someone who runs an office's consultation hours, or an administrator of them all."""

    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower case
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Sessions from before a password change or a deactivation end (see web.staff.auth).
    session_version: Mapped[int] = mapped_column(default=0)

    offices: Mapped[list["Office"]] = relationship(  # noqa: F821
        secondary=staff_office, order_by="Office.name",
    )
    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="staff")

    @property
    def is_active(self):
        """Flask-Login refuses a session of a deactivated account."""
        return self.active

    def get_id(self):
        """The session remembers the version, so a reset password ends older sessions."""
        return f"{self.id}:{self.session_version}"

    def may_see(self, office):
        return self.is_admin or any(mine.id == office.id for mine in self.offices)


class ApiToken(db.Model):
    """A bearer token for the staff API. Only its SHA-256 is stored: the token itself is
    shown once. (Tokens are 256 random bits, so a slow password hash adds nothing.)"""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffAccount] = relationship(back_populates="tokens")

    @staticmethod
    def digest(token):
        return hashlib.sha256(token.encode()).hexdigest()
