"""The .ics file, parsed back as a calendar application reads it."""
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from scheduler.services import booking, calendar

from . import factories
from .conftest import BERLIN


@pytest.fixture
def made(ctx, clock):
    office = factories.office()
    slot = factories.slot(office, datetime(2026, 11, 26, 8, 30), seats=2)
    return booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="ar",
                        topic="Kindergeld", now=clock.now)


def parse(made, clock):
    return Calendar.from_ical(calendar.booking_calendar(made, now=clock.now))


def test_the_event_is_in_local_time_with_a_vtimezone_for_berlin(made, clock):
    parsed = parse(made, clock)
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert {c.name for c in parsed.walk("VTIMEZONE")[0].subcomponents} == {"STANDARD", "DAYLIGHT"}
    event = parsed.walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.start == datetime(2026, 11, 26, 8, 30, tzinfo=BERLIN)
    assert event.end.astimezone(UTC) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]


def test_the_event_has_a_stable_uid_location_status_and_alarm(made, clock):
    first = parse(made, clock).walk("VEVENT")[0]
    clock.advance(hours=5)
    again = parse(made, clock).walk("VEVENT")[0]
    assert first["UID"] == again["UID"] == f"{made.uid}@lokal-willkommen.dortmund.de"
    assert made.token not in first["UID"]
    assert str(first["LOCATION"]) == "Nadlerweg 1, 44329 Dortmund"
    assert first["STATUS"] == "CONFIRMED" and first["SEQUENCE"] == 0
    alarm = first.walk("VALARM")[0]
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].dt == -timedelta(minutes=120)
    assert str(first["URL"]) == f"https://termine.example.org/b/{made.token}"


def test_summary_and_description_are_in_the_bookings_language(made, clock):
    event = parse(made, clock).walk("VEVENT")[0]
    assert "Lanstrop" in str(event["SUMMARY"])
    assert str(event["SUMMARY"]) != "Appointment at lokal willkommen Lanstrop"  # Arabic, not English
    assert "Kindergeld" not in str(event["DESCRIPTION"])  # the topic stays out
    assert f"/b/{made.token}" in str(event["DESCRIPTION"])


def test_a_cancelled_booking_gives_a_cancelled_event_with_a_higher_sequence(made, clock):
    booking.cancel(made, now=clock.now)
    event = parse(made, clock).walk("VEVENT")[0]
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1


def test_a_summer_appointment_carries_summer_time(ctx, clock):
    office = factories.office()
    slot = factories.slot(office, datetime(2027, 7, 1, 8, 30))
    made = booking.book(slot.id, name="A", phone=factories.mobile(), locale="en", now=clock.now)
    event = parse(made, clock).walk("VEVENT")[0]
    assert event.start.utcoffset() == timedelta(hours=2)
    assert str(event["SUMMARY"]) == "Appointment at lokal willkommen Lanstrop"


@pytest.fixture
def invited(ctx, clock):
    office = factories.office()
    slot = factories.slot(office, datetime(2026, 11, 26, 8, 30))
    return booking.book(slot.id, name="Olena Kovalenko", phone=factories.mobile(), locale="en",
                        email="olena@example.org", now=clock.now)


def itip(made, clock, method):
    parsed = Calendar.from_ical(calendar.booking_calendar(made, now=clock.now, method=method))
    assert parsed["METHOD"] == method
    return parsed.walk("VEVENT")[0]


def test_the_download_names_nobody(invited, clock):
    event = parse(invited, clock).walk("VEVENT")[0]
    assert "ORGANIZER" not in event and "ATTENDEE" not in event


def test_an_invitation_names_the_office_as_organizer_and_the_resident_as_attendee(invited, clock):
    event = itip(invited, clock, "REQUEST")
    assert event["ORGANIZER"] == "mailto:termine@lokal-willkommen.dortmund.de"
    assert event["ORGANIZER"].params["CN"] == "lokal willkommen Lanstrop"
    assert event["ATTENDEE"] == "mailto:olena@example.org"
    assert event["ATTENDEE"].params["CN"] == "Olena Kovalenko"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 0 and event.walk("VALARM")


def test_a_cancellation_is_the_same_event_cancelled_without_an_alarm(invited, clock):
    uid = itip(invited, clock, "REQUEST")["UID"]
    booking.cancel(invited, now=clock.now)
    event = itip(invited, clock, "CANCEL")
    assert event["UID"] == uid and event["SEQUENCE"] == 1 and event["STATUS"] == "CANCELLED"
    assert event["ORGANIZER"] and event["ATTENDEE"] == "mailto:olena@example.org"
    assert not event.walk("VALARM")


def test_the_residents_file_leaves_the_topic_out(made, clock):
    """The topic can be sensitive, and calendar files end up in cloud calendars."""
    assert b"Kindergeld" not in calendar.booking_calendar(made, now=clock.now)
