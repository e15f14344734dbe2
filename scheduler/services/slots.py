"""Slots: materialised from weekly hours, closures and public holidays; listed for booking."""
from datetime import UTC, datetime, timedelta

import holidays
from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Office, Slot
from .errors import NotFound
from .locks import transaction_lock


def materialise(now, horizon_days=None, office_ids=None):
    """Create the slots of the next ``horizon_days`` that do not exist yet.

    Idempotent and safe from two processes at once: existing slots are never changed, and a
    slot another process inserted first is skipped by ``ON CONFLICT DO NOTHING``.
    Returns the number of slots created.
    """
    horizon_days = horizon_days or current_app.config["SLOT_HORIZON_DAYS"]
    query = select(Office).where(Office.active)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    created = 0
    for office in db.session.scalars(query).all():
        # Not while staff save a change of its hours or closures (services.schedule): the
        # rules are read after it, so no slot of a day just closed is made again.
        transaction_lock("schedule", office.id)
        today = now.astimezone(office.tz).date()
        days = [today + timedelta(days=n) for n in range(horizon_days + 1)]
        rows = [slot for slot in planned_slots(office, days) if slot["starts_at"] > now]
        existing = set(db.session.scalars(
            select(Slot.starts_at).where(Slot.office_id == office.id, Slot.starts_at > now)
        ))
        rows = [row for row in rows if row["starts_at"] not in existing]
        if rows:
            created += len(db.session.scalars(
                _insert()(Slot).values(rows)
                .on_conflict_do_nothing(index_elements=["office_id", "starts_at"])
                .returning(Slot.id)
            ).all())
    return created


def _insert():
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def planned_slots(office, days):
    """The slots the office's rules give for ``days``, as rows for ``Slot``.

    Local wall-clock times are turned into UTC day by day, so a Thursday 08:30 is 07:30 UTC
    in winter and 06:30 UTC in summer, also in the weeks the clocks change.
    """
    closed = closed_days(office, days)
    for day in days:
        if day in closed:
            continue
        for rule in office.hours:
            if not rule.applies_on(day):
                continue
            # Step in UTC: adding to an aware local time adds wall-clock time, which in the
            # night the clocks go back would make slots of 90 minutes.
            start = datetime.combine(day, rule.start_time, tzinfo=office.tz).astimezone(UTC)
            end_of_hours = datetime.combine(day, rule.end_time, tzinfo=office.tz).astimezone(UTC)
            step = timedelta(minutes=rule.slot_minutes)
            while start + step <= end_of_hours:
                yield {
                    "office_id": office.id,
                    "starts_at": start,
                    "ends_at": start + step,
                    "seats": rule.seats,
                    "seats_taken": 0,
                }
                start += step


def closed_days(office, days):
    closed = {day for day in days for closure in office.closures if closure.covers(day)}
    if office.closed_on_public_holidays and days:
        public = holidays.country_holidays(
            "DE", subdiv=office.holiday_subdivision, years={day.year for day in days}
        )
        closed |= {day for day in days if day in public}
    return closed


def office_by_slug(slug):
    office = db.session.scalar(select(Office).where(Office.slug == slug, Office.active))
    if office is None:
        raise NotFound()
    return office


def free_slots(office, now, end):
    """Slots of ``office`` with a free seat that start after ``now`` and before ``end``."""
    return list(db.session.scalars(
        select(Slot)
        .where(Slot.office_id == office.id, Slot.starts_at > now, Slot.starts_at < end,
               Slot.seats_taken < Slot.seats, Slot.removed_at.is_(None))
        .order_by(Slot.starts_at)
    ))


def slots_between(office, start, end):
    """Every slot of ``office`` starting in [start, end), full or not, in time order; not
    those taken away by a change of hours or a closure."""
    return list(db.session.scalars(
        select(Slot)
        .where(Slot.office_id == office.id, Slot.starts_at >= start, Slot.starts_at < end,
               Slot.removed_at.is_(None))
        .order_by(Slot.starts_at)
    ))


def active_offices():
    return list(db.session.scalars(select(Office).where(Office.active).order_by(Office.name)))


def slot_of(office, slot_id):
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.office_id != office.id:
        raise NotFound()
    return slot
