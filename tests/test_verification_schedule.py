"""Phone verification meets a change of hours: a held booking is not yet an appointment, so
it loses its seat before anyone who has one, and never survives in a time that is gone."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Slot
from scheduler.services import booking, schedule, verification

from . import factories

THURSDAY = date(2026, 11, 26)


@pytest.fixture
def config_overrides():
    return {"BOOKING_VERIFICATION": "sms"}


def status_of(phone):
    return db.session.scalar(select(Booking.status).where(Booking.phone == phone))


def book(slot, now, confirm):
    phone = factories.mobile()
    booking.book(slot.id, name="Amina Khalil", phone=phone, locale="de", now=now)
    held = db.session.scalar(select(Booking).where(Booking.slot_id == slot.id).order_by(Booking.id.desc()))
    if confirm:
        assert verification.confirm(held, now)
    return held.phone


def test_a_closure_ends_the_holds_in_its_times_and_moves_the_appointments(ctx, clock):
    office = factories.office()
    slot = factories.slot(office, clock.now.replace(year=2026, month=11, day=26, hour=9, minute=0), seats=2)
    held, booked = book(slot, clock.now, confirm=False), book(slot, clock.now, confirm=True)
    change = schedule.add_closure(office, THURSDAY, None, "Team day", now=clock.now, actor=None)
    assert change.applied
    assert (status_of(held), status_of(booked)) == (BookingStatus.EXPIRED, BookingStatus.CANCELLED)
    assert db.session.get(Slot, slot.id).seats_taken == 0
    late = db.session.scalar(select(Booking).where(Booking.phone == held))
    assert verification.confirm(late, clock.now + timedelta(minutes=1)) is False


def test_fewer_seats_take_the_hold_before_anyone_with_an_appointment(ctx, clock):
    office = factories.office(hours=((3, "08:30", "11:30", 30, 2),))
    thursday = clock.now.replace(year=2026, month=11, day=26, hour=8, minute=30)
    slot = factories.slot(office, thursday, seats=2)
    held = book(slot, clock.now, confirm=False)
    # The latest booking, which would move first if the hold did not go before it.
    booked = book(slot, clock.now + timedelta(minutes=1), confirm=True)
    rules = [{"weekday": 3, "start": "08:30", "end": "11:30", "slot_minutes": 30, "seats": 1}]
    change = schedule.replace_hours(office, rules, now=clock.now + timedelta(minutes=2), actor=None)
    assert change.applied and change.moved == []
    assert (status_of(held), status_of(booked)) == (BookingStatus.EXPIRED, BookingStatus.BOOKED)
    assert db.session.get(Slot, slot.id).seats_taken == 1
