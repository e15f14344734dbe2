"""The booking rules, called as the views call them."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Message
from scheduler.services import booking
from scheduler.services.errors import (
    AlreadyBooked,
    InvalidInput,
    NotFound,
    SlotFull,
    SlotInPast,
    TooLateToCancel,
    TooManyBookings,
)

from . import factories
from .conftest import BERLIN


@pytest.fixture
def office(ctx):
    return factories.office()


@pytest.fixture
def slot(office, clock):
    return factories.slot(office, clock.now + timedelta(days=3), seats=2)


def book(slot, clock, **details):
    details = {"name": "Amina Khalil", "phone": factories.mobile(), "locale": "de", **details}
    return booking.book(slot.id, now=clock.now, **details)


def test_booking_takes_a_seat_and_queues_a_confirmation_in_the_residents_language(slot, clock):
    made = book(slot, clock, name="  Amina \t Khalil ", phone="0151 2345 6789", locale="ar",
                topic=" Wohnung ", notify_earlier=True)
    assert made.status == BookingStatus.BOOKED
    assert (made.name, made.phone, made.topic) == ("Amina Khalil", "+4915123456789", "Wohnung")
    assert made.notify_earlier and made.requested_at == clock.now
    assert slot.seats_taken == 1
    assert len(made.token) >= 16  # at least 96 bits, URL-safe base64
    message = db.session.scalar(select(Message).where(Message.booking_id == made.id))
    assert (message.kind, message.to, message.locale) == ("confirmation", "+4915123456789", "ar")
    assert f"https://termine.example.org/b/{made.token}" in message.body
    assert "Lanstrop" in message.body


@pytest.mark.parametrize("typed", ["+49 151 23456789", "0049 151 23456789", "015123456789", "+49-151-234-56789"])
def test_german_numbers_are_accepted_with_or_without_the_country_code(slot, clock, typed):
    assert book(slot, clock, phone=typed).phone == "+4915123456789"


def test_foreign_mobile_numbers_are_kept_with_their_country_code(slot, clock):
    assert book(slot, clock, phone="+380 67 123 4567").phone == "+380671234567"


@pytest.mark.parametrize(("details", "fields"), [
    ({"name": "   "}, {"name"}),
    ({"name": "x" * 101}, {"name"}),
    ({"phone": ""}, {"phone"}),
    ({"phone": "12345"}, {"phone"}),
    ({"phone": "0231 5020"}, {"phone"}),  # a landline: cannot receive the SMS
    ({"locale": "xx"}, {"locale"}),
    ({"email": "not-an-address"}, {"email"}),
    ({"topic": "y" * 501}, {"topic"}),
    ({"name": "", "phone": "nope"}, {"name", "phone"}),
])
def test_bad_details_are_refused_field_by_field(slot, clock, details, fields):
    with pytest.raises(InvalidInput) as refused:
        book(slot, clock, **details)
    assert set(refused.value.fields) == fields
    assert slot.seats_taken == 0


def test_a_full_slot_refuses_the_next_resident(slot, clock):
    book(slot, clock)
    book(slot, clock)
    with pytest.raises(SlotFull):
        book(slot, clock)
    assert slot.seats_taken == 2


def test_a_slot_in_the_past_cannot_be_booked(office, clock):
    past = factories.slot(office, clock.now - timedelta(minutes=1))
    with pytest.raises(SlotInPast):
        book(past, clock)


def test_an_unknown_slot_is_not_found(office, clock):
    with pytest.raises(NotFound):
        booking.book(999999, name="A", phone=factories.mobile(), locale="de", now=clock.now)


def test_one_phone_cannot_hold_two_seats_of_one_slot(slot, clock, app):
    app.config["MAX_UPCOMING_BOOKINGS_PER_OFFICE"] = 0
    phone = factories.mobile()
    book(slot, clock, phone=phone)
    with pytest.raises(AlreadyBooked):
        book(slot, clock, phone=phone)


def test_the_database_refuses_a_second_seat_for_one_phone_should_the_check_miss_it(
        slot, clock, app, monkeypatch):
    """The partial unique index is the last guard (on PostgreSQL it fails the statement that
    takes the seat and inserts the booking): the answer is AlreadyBooked, and nothing of the
    attempt stays."""
    app.config["MAX_UPCOMING_BOOKINGS_PER_OFFICE"] = 0
    phone = factories.mobile()
    book(slot, clock, phone=phone)
    db.session.commit()
    monkeypatch.setattr(booking, "held_at", lambda *args: booking.Held([], False))
    with pytest.raises(AlreadyBooked):
        book(slot, clock, phone=phone)
    db.session.rollback()
    assert slot.seats_taken == 1
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_one_phone_holds_one_upcoming_booking_per_office_by_default(office, slot, clock):
    phone = factories.mobile()
    book(slot, clock, phone=phone)
    later = factories.slot(office, clock.now + timedelta(days=10))
    with pytest.raises(TooManyBookings):
        book(later, clock, phone=phone)
    other_office = factories.office(slug="nordstadt", name="Nordstadt")
    elsewhere = factories.slot(other_office, clock.now + timedelta(days=4))
    assert book(elsewhere, clock, phone=phone).status == BookingStatus.BOOKED


def test_the_per_office_limit_is_configurable(office, slot, clock, app):
    app.config["MAX_UPCOMING_BOOKINGS_PER_OFFICE"] = 2
    phone = factories.mobile()
    book(slot, clock, phone=phone)
    book(factories.slot(office, clock.now + timedelta(days=10)), clock, phone=phone)
    with pytest.raises(TooManyBookings):
        book(factories.slot(office, clock.now + timedelta(days=17)), clock, phone=phone)


def test_past_appointments_do_not_count_against_the_limit(office, slot, clock):
    phone = factories.mobile()
    book(slot, clock, phone=phone)
    clock.advance(days=4)
    later = factories.slot(office, clock.now + timedelta(days=3))
    assert book(later, clock, phone=phone).status == BookingStatus.BOOKED


def test_cancelling_frees_the_seat_and_tells_the_resident(slot, clock):
    made = book(slot, clock, locale="en")
    assert booking.cancel(made, now=clock.now) is True
    assert made.status == BookingStatus.CANCELLED and made.cancelled_at == clock.now
    assert made.sequence == 1
    assert slot.seats_taken == 0
    kinds = db.session.scalars(select(Message.kind).where(Message.booking_id == made.id)).all()
    assert kinds == ["confirmation", "cancellation"]


def test_cancelling_twice_frees_one_seat_and_sends_one_message(slot, clock):
    first, second = book(slot, clock), book(slot, clock)
    assert booking.cancel(first, now=clock.now) is True
    assert booking.cancel(first, now=clock.now) is False
    assert slot.seats_taken == 1 and second.status == BookingStatus.BOOKED
    assert db.session.scalars(select(Message.kind).where(Message.booking_id == first.id)).all() == [
        "confirmation", "cancellation",
    ]


def test_the_same_phone_may_book_again_after_cancelling(slot, clock):
    phone = factories.mobile()
    booking.cancel(book(slot, clock, phone=phone), now=clock.now)
    assert book(slot, clock, phone=phone).status == BookingStatus.BOOKED


def test_an_appointment_that_has_begun_cannot_be_cancelled(slot, clock):
    made = book(slot, clock)
    clock.now = slot.starts_at
    with pytest.raises(TooLateToCancel):
        booking.cancel(made, now=clock.now)
    assert slot.seats_taken == 1


def test_an_unknown_token_is_not_found(ctx):
    with pytest.raises(NotFound):
        booking.by_token("no-such-token")


def test_requested_at_is_the_time_of_the_request(slot, clock):
    clock.set("2026-11-23 10:17")
    assert book(slot, clock).requested_at.astimezone(BERLIN).strftime("%H:%M") == "10:17"
    assert db.session.scalar(select(Booking.requested_at)).astimezone(BERLIN).strftime("%H:%M") == "10:17"
