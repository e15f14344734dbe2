"""The waitlist and offers: every freed seat goes to who waits, in order, once."""
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    Booking,
    BookingStatus,
    Message,
    Offer,
    OfferKind,
    OfferStatus,
    WaitlistStatus,
    WeeklyHours,
)
from scheduler.services import booking, offer_answers, waitlist
from scheduler.services.errors import AlreadyWaiting, InvalidInput, OfferGone, TooManyBookings

from . import factories


@pytest.fixture
def office(ctx):
    return factories.office()


@pytest.fixture
def full_slot(office, clock):
    """Thursday 26 November, 09:00, one seat, taken."""
    slot = factories.slot(office, clock.now + timedelta(days=3), seats=1)
    book(slot, clock)
    return slot


def book(slot, clock, **details):
    details = {"name": "Amina Khalil", "phone": factories.mobile(), "locale": "de", **details}
    return booking.book(slot.id, now=clock.now, **details)


def join(office, clock, **details):
    details = {"name": "Olena Koval", "phone": factories.mobile(), "locale": "uk" if False else "en", **details}
    return waitlist.join(office, now=clock.now, **details)


def only_booking(slot):
    return db.session.scalar(select(Booking).where(Booking.slot_id == slot.id, Booking.status == BookingStatus.BOOKED))


def offers_of(entry_or_booking):
    column = Offer.waitlist_entry_id if hasattr(entry_or_booking, "weekdays") else Offer.booking_id
    return list(db.session.scalars(select(Offer).where(column == entry_or_booking.id).order_by(Offer.id)))


def test_a_cancelled_seat_is_offered_to_the_first_in_the_queue_in_the_same_transaction(full_slot, office, clock):
    first = join(office, clock)
    clock.advance(minutes=1)
    second = join(office, clock)
    assert (waitlist.position(first), waitlist.position(second)) == (1, 2)

    booking.cancel(only_booking(full_slot), now=clock.now)

    [offer] = offers_of(first)
    assert offer.status == OfferStatus.PENDING and offer.slot_id == full_slot.id
    assert offers_of(second) == []
    assert full_slot.available == 0  # the offer holds the seat: it is not free on the page
    message = db.session.scalar(select(Message).where(Message.offer_id == offer.id))
    assert message.kind == "offer" and message.to == first.phone
    assert f"https://termine.example.org/a/{offer.token}" in message.body


def test_accepting_books_the_held_seat_and_ends_the_wait(full_slot, office, clock):
    entry = join(office, clock, topic="Jobcenter")
    booking.cancel(only_booking(full_slot), now=clock.now)
    [offer] = offers_of(entry)

    made = offer_answers.accept(offer, clock.now)

    assert made.slot_id == full_slot.id and made.phone == entry.phone and made.topic == "Jobcenter"
    assert made.requested_at == entry.requested_at  # the wait counts from the first request
    assert entry.status == WaitlistStatus.BOOKED and entry.booking == made
    assert full_slot.seats_taken == 1
    assert offer_answers.accept(offer, clock.now) == made  # twice is the same answer


def test_declining_passes_the_seat_on_at_once_and_keeps_the_place(full_slot, office, clock):
    first, second = join(office, clock), join(office, clock)
    booking.cancel(only_booking(full_slot), now=clock.now)
    [offer] = offers_of(first)

    offer_answers.decline(offer, clock.now)

    assert offer.status == OfferStatus.DECLINED
    [passed] = offers_of(second)
    assert passed.slot_id == full_slot.id and passed.status == OfferStatus.PENDING
    assert first.status == WaitlistStatus.WAITING
    with pytest.raises(OfferGone):
        offer_answers.accept(offer, clock.now)


def test_preferences_are_respected_and_fifo_within_them(office, clock):
    # Hours on Mondays and Thursday afternoons too, so that every wish below can be met.
    office.hours += [
        WeeklyHours(weekday=0, start_time=time(9), end_time=time(12), slot_minutes=30, seats=1),
        WeeklyHours(weekday=3, start_time=time(13), end_time=time(16), slot_minutes=30, seats=1),
    ]
    thursday = factories.slot(office, clock.now + timedelta(days=3), seats=1)  # Thu 09:00
    wants_monday = join(office, clock, weekdays=[0])
    clock.advance(minutes=1)
    wants_afternoon = join(office, clock, earliest="13:00")
    clock.advance(minutes=1)
    wants_early = join(office, clock, before=(clock.now + timedelta(days=1)).date().isoformat())
    clock.advance(minutes=1)
    fits = join(office, clock, weekdays=[3], earliest="08:30", latest="09:30")

    assert [offers_of(e) for e in (wants_monday, wants_afternoon, wants_early)] == [[], [], []]
    [offer] = offers_of(fits)
    assert offer.slot_id == thursday.id


def test_joining_refuses_bad_preferences_with_every_field_named(office, clock):
    with pytest.raises(InvalidInput) as refused:
        join(office, clock, weekdays=[7], earliest="25:00", before="2020-01-01")
    assert set(refused.value.fields) == {"weekdays", "earliest", "before"}
    with pytest.raises(InvalidInput) as refused:
        join(office, clock, earliest="12:00", latest="09:00")
    assert set(refused.value.fields) == {"latest"}


def test_one_wait_per_phone_and_none_with_an_upcoming_booking(office, full_slot, clock):
    phone = factories.mobile()
    join(office, clock, phone=phone)
    with pytest.raises(AlreadyWaiting):
        join(office, clock, phone=phone)
    booked = only_booking(full_slot)
    with pytest.raises(TooManyBookings):
        join(office, clock, phone=booked.phone)


def test_leaving_withdraws_the_offer_and_passes_the_seat_on(full_slot, office, clock):
    first, second = join(office, clock), join(office, clock)
    booking.cancel(only_booking(full_slot), now=clock.now)
    [offer] = offers_of(first)

    waitlist.leave(first, clock.now)

    assert first.status == WaitlistStatus.LEFT and offer.status == OfferStatus.WITHDRAWN
    assert [o.slot_id for o in offers_of(second)] == [full_slot.id]
    assert waitlist.leave(first, clock.now) is False


def test_booking_directly_ends_the_wait(office, clock):
    slot = factories.slot(office, clock.now + timedelta(days=10), seats=1)
    entry = join(office, clock)
    # joining offered the free seat at once; booking another time ends the wait instead
    [offer] = offers_of(entry)
    other = factories.slot(office, clock.now + timedelta(days=11), seats=1)
    clock.advance(hours=1)
    made = book(other, clock, phone=entry.phone)
    assert entry.status == WaitlistStatus.BOOKED and entry.booking == made
    assert offer.status == OfferStatus.WITHDRAWN
    assert slot.available == 1
    assert made.requested_at == entry.requested_at
    db.session.flush()  # written too, not only in the session (PostgreSQL inserts it by hand)
    assert db.session.scalar(select(Booking.requested_at).where(Booking.id == made.id)) == entry.requested_at


def test_the_move_up_chain_runs_until_nobody_can_use_the_seat(office, clock):
    """Three booked residents asked for earlier times; one cancellation moves all three."""
    first = factories.slot(office, clock.now + timedelta(days=3), seats=1)
    second = factories.slot(office, clock.now + timedelta(days=10), seats=1)
    third = factories.slot(office, clock.now + timedelta(days=17), seats=1)
    fourth = factories.slot(office, clock.now + timedelta(days=24), seats=1)
    leaving = book(first, clock)
    a = book(second, clock, notify_earlier=True)
    b = book(third, clock, notify_earlier=True)
    c = book(fourth, clock, notify_earlier=True)

    booking.cancel(leaving, now=clock.now)
    for resident, earlier in ((a, first), (b, second), (c, third)):
        [offer] = [o for o in offers_of(resident) if o.status == OfferStatus.PENDING]
        assert offer.kind == OfferKind.MOVE_UP and offer.slot_id == earlier.id
        offer_answers.accept(offer, clock.now)
        assert resident.slot_id == earlier.id and resident.sequence == 1

    assert [s.seats_taken for s in (first, second, third, fourth)] == [1, 1, 1, 0]
    assert fourth.available == 1  # nobody waits for the last one: it is free for anyone


def test_waitlisted_residents_come_before_move_ups(full_slot, office, clock):
    later = factories.slot(office, clock.now + timedelta(days=10), seats=1)
    mover = book(later, clock, notify_earlier=True)
    waiting = join(office, clock)
    booking.cancel(only_booking(full_slot), now=clock.now)
    assert [o.slot_id for o in offers_of(waiting)] == [full_slot.id]
    assert offers_of(mover) == []


def test_an_unanswered_offer_expires_and_the_seat_goes_on(full_slot, office, clock, app):
    from scheduler import jobs

    first, second = join(office, clock), join(office, clock)
    booking.cancel(only_booking(full_slot), now=clock.now)
    jobs.dispatch_outbox(clock.now)
    [offer] = offers_of(first)
    assert offer.sent_at == clock.now
    # Thursday 09:00 is 72 hours ahead: held for 8 hours by the default policy
    assert offer.expires_at == clock.now + timedelta(hours=8)

    clock.advance(hours=8)
    jobs.expire_offers(clock.now)

    assert offer.status == OfferStatus.EXPIRED
    assert [o.status for o in offers_of(second)] == [OfferStatus.PENDING]
    with pytest.raises(OfferGone):
        offer_answers.accept(offer, clock.now)
