from datetime import date, time
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Office(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    # Shown to residents with their appointment: what to bring. Set by staff; may be empty.
    note: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # Comma-separated language codes the office's staff speak.
    languages: Mapped[str] = mapped_column(String(200), default="de")
    closed_on_public_holidays: Mapped[bool] = mapped_column(default=True)
    # Holidays of this subdivision close the office (NW: North Rhine-Westphalia).
    holiday_subdivision: Mapped[str] = mapped_column(String(8), default="NW")
    active: Mapped[bool] = mapped_column(default=True)
    # The secret in the office's calendar feed URL; renewing it ends the old URL.
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    hours: Mapped[list["WeeklyHours"]] = relationship(
        back_populates="office", order_by="WeeklyHours.weekday, WeeklyHours.start_time"
    )
    closures: Mapped[list["Closure"]] = relationship(back_populates="office")

    @property
    def tz(self):
        return ZoneInfo(self.timezone)

    @property
    def language_list(self):
        return [code for code in self.languages.split(",") if code]


class WeeklyHours(db.Model):
    """A recurring consultation hour: weekday, local start and end, slot length, seats."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        CheckConstraint("slot_minutes > 0", name="slot_minutes"),
        CheckConstraint("seats > 0", name="seats"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    weekday: Mapped[int]  # 0 = Monday, as date.weekday()
    start_time: Mapped[time]
    end_time: Mapped[time]
    slot_minutes: Mapped[int] = mapped_column(default=30)
    seats: Mapped[int] = mapped_column(default=1)
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    # Comma-separated codes of the languages spoken in this hour besides German.
    languages: Mapped[str] = mapped_column(String(200), default="")

    office: Mapped[Office] = relationship(back_populates="hours")

    @property
    def language_list(self):
        return [code for code in self.languages.split(",") if code]

    def applies_on(self, day):
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class Closure(db.Model):
    """Days an office is closed, from ``start_date`` to ``end_date`` inclusive."""

    __table_args__ = (CheckConstraint("start_date <= end_date", name="range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")

    office: Mapped[Office] = relationship(back_populates="closures")

    def covers(self, day):
        return self.start_date <= day <= self.end_date
