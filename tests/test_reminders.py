"""Reminders before appointments, and deleting personal data past its retention."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import InboundMessage, Message, MessageStatus, WaitlistStatus
from scheduler.services import booking, waitlist

from . import factories


@pytest.fixture
def office(ctx):
    return factories.office()


def reminders():
    return list(db.session.scalars(select(Message).where(Message.kind == "reminder").order_by(Message.id)))


def test_a_reminder_goes_out_24_hours_before_once_in_the_residents_language(office, clock):
    slot = factories.slot(office, clock.now + timedelta(days=3))  # Thursday 09:00
    made = booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="ar", now=clock.now)
    db.session.commit()

    clock.set("2026-11-25T08:59")
    assert jobs.send_reminders(clock.now) == 0
    clock.set("2026-11-25T09:00")
    assert jobs.send_reminders(clock.now) == 1
    assert jobs.send_reminders(clock.now) == 0  # safe to run twice
    clock.advance(hours=1)
    assert jobs.send_reminders(clock.now) == 0

    [reminder] = reminders()
    assert (reminder.to, reminder.locale, reminder.booking_id) == (made.phone, "ar", made.id)
    assert f"https://termine.example.org/b/{made.token}" in reminder.body
    assert reminder.valid_until == slot.starts_at  # never delivered after the appointment


def test_lead_times_are_configurable_and_late_bookings_skip_a_passed_reminder(app, office, clock):
    app.config["REMINDER_LEAD_HOURS"] = [48, 2]
    slot = factories.slot(office, clock.now + timedelta(days=3))
    early = booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="de", now=clock.now)
    clock.set("2026-11-24T12:00")  # 45 hours before: the 48-hour reminder time has passed
    late = booking.book(slot.id, name="Olena", phone=factories.mobile(), locale="de", now=clock.now)
    db.session.commit()

    jobs.send_reminders(clock.now)
    assert [m.booking_id for m in reminders()] == [early.id]
    clock.set("2026-11-26T07:00")
    jobs.send_reminders(clock.now)
    assert sorted(m.booking_id for m in reminders()) == sorted([early.id, early.id, late.id])


def test_no_reminder_for_cancelled_bookings_and_none_in_quiet_hours(app, office, clock):
    app.config["REMINDER_LEAD_HOURS"] = [12]
    slot = factories.slot(office, clock.now + timedelta(days=3))  # Thursday 09:00
    kept = booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="de", now=clock.now)
    gone = booking.book(slot.id, name="Olena", phone=factories.mobile(), locale="de", now=clock.now)
    booking.cancel(gone, now=clock.now)
    db.session.commit()
    jobs.dispatch_outbox(clock.now)

    clock.set("2026-11-25T21:00")  # 12 hours before is 21:00, in quiet hours
    jobs.send_reminders(clock.now)
    [reminder] = reminders()
    assert reminder.booking_id == kept.id
    assert reminder.due_at == clock.now.replace(day=26, hour=8, minute=0)
    assert jobs.dispatch_outbox(clock.now) == 0 and reminder.status == MessageStatus.QUEUED
    clock.set("2026-11-26T08:00")
    assert jobs.dispatch_outbox(clock.now) == 1 and reminder.status == MessageStatus.SENT


def test_personal_data_is_deleted_90_days_after_the_appointment_or_the_wait(office, clock):
    slot = factories.slot(office, clock.now + timedelta(days=3), seats=1)
    made = booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="de",
                        email="amina@example.org", topic="Wohnung", now=clock.now)
    entry = waitlist.join(office, name="Olena", phone=factories.mobile(), locale="en", now=clock.now)
    db.session.add(InboundMessage(sid="SM1", phone=entry.phone, body="2", received_at=clock.now))
    waitlist.leave(entry, clock.now)
    db.session.commit()

    clock.advance(days=90)
    jobs.purge_personal_data(clock.now)
    assert made.name == "Amina" and entry.name == "Olena"  # not yet: 90 days after the end

    clock.advance(days=4)
    jobs.purge_personal_data(clock.now)
    db.session.expire_all()
    assert (made.name, made.phone, made.email, made.topic) == ("", None, None, "")
    assert (entry.name, entry.phone) == ("", None)
    assert made.status == "booked" and entry.status == WaitlistStatus.LEFT  # the figures stay
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert jobs.purge_personal_data(clock.now) == 0  # safe to run twice
