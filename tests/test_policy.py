"""Quiet hours and the hold policy: when residents are texted, how long a seat waits."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Message, Offer, OfferStatus
from scheduler.services import booking, policy, waitlist

from . import factories
from .conftest import BERLIN


def berlin(text):
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture
def office(ctx):
    return factories.office()


@pytest.mark.parametrize(("now", "sent"), [
    ("2026-11-23 09:00", "2026-11-23 09:00"),
    ("2026-11-23 19:59", "2026-11-23 19:59"),
    ("2026-11-23 20:00", "2026-11-24 08:00"),
    ("2026-11-23 23:30", "2026-11-24 08:00"),
    ("2026-11-24 03:00", "2026-11-24 08:00"),
    ("2026-11-24 08:00", "2026-11-24 08:00"),
    # the night the clocks go back: 08:00 is still 08:00 local
    ("2026-10-24 22:00", "2026-10-25 08:00"),
])
def test_quiet_hours_move_a_message_to_the_morning(office, now, sent):
    assert policy.sending_time(berlin(now), office) == berlin(sent)


def test_quiet_hours_are_configurable_and_can_be_switched_off(app, office):
    app.config["QUIET_HOURS"] = "22:00-07:00"
    assert policy.sending_time(berlin("2026-11-23 21:00"), office) == berlin("2026-11-23 21:00")
    assert policy.sending_time(berlin("2026-11-23 22:30"), office) == berlin("2026-11-24 07:00")
    app.config["QUIET_HOURS"] = "00:00-00:00"
    assert policy.sending_time(berlin("2026-11-23 23:30"), office) == berlin("2026-11-23 23:30")


@pytest.mark.parametrize(("ahead", "held"), [
    (timedelta(days=30), timedelta(hours=8)),
    (timedelta(hours=72), timedelta(hours=8)),
    (timedelta(hours=71), timedelta(hours=3)),
    (timedelta(hours=24), timedelta(hours=3)),
    (timedelta(hours=20), timedelta(minutes=90)),
    (timedelta(hours=12), timedelta(minutes=90)),
    (timedelta(hours=6), timedelta(minutes=30)),
    (timedelta(hours=4), timedelta(minutes=30)),
    (timedelta(hours=3, minutes=59), None),  # too close: left for walk-ins
])
def test_the_hold_shrinks_as_the_slot_comes_closer(ctx, ahead, held):
    start = berlin("2026-12-24 09:00")
    assert policy.hold_time(start, start - ahead) == held


def test_the_hold_policy_is_configurable(app, ctx):
    app.config["OFFER_HOLD_POLICY"] = [[48, 600], [2, 15]]
    start = berlin("2026-12-24 09:00")
    assert policy.hold_time(start, start - timedelta(hours=50)) == timedelta(hours=10)
    assert policy.hold_time(start, start - timedelta(hours=3)) == timedelta(minutes=15)
    assert policy.hold_time(start, start - timedelta(hours=1)) is None


def full_slot(office, starts_at, clock):
    slot = factories.slot(office, starts_at, seats=1)
    booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="de", now=clock.now)
    return slot


def the_booking(slot):
    from scheduler.models import Booking

    return db.session.scalar(select(Booking).where(Booking.slot_id == slot.id))


def test_an_offer_made_at_night_goes_out_in_the_morning_and_its_hold_starts_then(office, clock):
    slot = full_slot(office, berlin("2026-11-26 09:00"), clock)
    entry = waitlist.join(office, name="Olena", phone=factories.mobile(), locale="en", now=clock.now)
    clock.set("2026-11-23T22:15")

    booking.cancel(the_booking(slot), now=clock.now)
    assert jobs.dispatch_outbox(clock.now) == 3  # confirmation, waitlist, cancellation
    offer = db.session.scalar(select(Offer).where(Offer.waitlist_entry_id == entry.id))
    message = db.session.scalar(select(Message).where(Message.offer_id == offer.id))
    assert offer.status == OfferStatus.PENDING and slot.available == 0  # held all night
    assert message.due_at == berlin("2026-11-24 08:00")

    assert jobs.dispatch_outbox(clock.now) == 0  # nothing is sent at night
    assert offer.sent_at is None and offer.expires_at is None

    clock.set("2026-11-24T08:00")
    assert jobs.dispatch_outbox(clock.now) == 1
    assert offer.sent_at == clock.now
    # 49 hours ahead when sent: held 3 hours from the morning, not from the night
    assert offer.expires_at == berlin("2026-11-24 11:00")


def test_a_seat_freed_too_close_to_offer_is_left_for_walk_ins(office, clock):
    slot = full_slot(office, clock.now + timedelta(hours=3), clock)
    waitlist.join(office, name="Olena", phone=factories.mobile(), locale="en", now=clock.now)
    booking.cancel(the_booking(slot), now=clock.now)
    assert db.session.scalar(select(Offer)) is None
    assert slot.available == 1


def test_a_night_offer_whose_slot_comes_too_close_by_morning_is_withdrawn(office, clock):
    """Cancelled at 21:00 for 09:00 next day: at 08:00 one hour is too short to answer."""
    clock.set("2026-11-25T21:00")
    slot = full_slot(office, berlin("2026-11-26 09:00"), clock)
    waitlist.join(office, name="Olena", phone=factories.mobile(), locale="en", now=clock.now)
    booking.cancel(the_booking(slot), now=clock.now)
    # a seat the morning could not fill in time is not even held overnight
    assert db.session.scalar(select(Offer)) is None
    assert slot.available == 1


def test_an_offer_held_over_night_is_withdrawn_if_the_morning_is_too_late(office, clock, app):
    clock.set("2026-11-25T19:00")
    slot = full_slot(office, berlin("2026-11-26 11:30"), clock)
    waitlist.join(office, name="Olena", phone=factories.mobile(), locale="en", now=clock.now)
    app.config["OFFER_HOLD_POLICY"] = [[16, 60], [2, 30]]  # offered in the evening ...
    booking.cancel(the_booking(slot), now=clock.now)
    offer = db.session.scalar(select(Offer))
    assert offer is not None
    app.config["OFFER_HOLD_POLICY"] = [[4, 30]]  # ... but the policy changed overnight
    clock.set("2026-11-26T08:00")
    jobs.dispatch_outbox(clock.now)
    assert offer.status == OfferStatus.WITHDRAWN and offer.sent_at is None
    message = db.session.scalar(select(Message).where(Message.offer_id == offer.id))
    assert message.status == "skipped"
    assert slot.available == 1
