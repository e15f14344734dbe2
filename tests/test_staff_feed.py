"""The office calendar feed: what a calendar app gets, and renewing its secret address."""

import re
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEntry, Booking, Offer, Office
from scheduler.services import booking, offer_answers, waitlist

from . import factories
from .conftest import BERLIN
from .staff_admin import post_form, world  # noqa: F401  (world is a fixture)

# Nine or more digits standing alone: not a run inside a UID's hexadecimal or a timestamp.
PHONE_DIGITS = re.compile(r"(?<![0-9A-Za-z-])\+?\d[\d ]{7,}\d(?![0-9A-Za-z-])")


@pytest.fixture
def booked(world, clock):
    """At Lanstrop: Amina (Arabic, with e-mail and a topic naming her number), Olena who
    cancelled, Jonas five weeks ago (out of the feed); at Nordstadt: Marek."""
    with world.app.app_context():
        lanstrop = db.session.get(Office, world.ids["lanstrop"])
        nordstadt = db.session.get(Office, world.ids["nordstadt"])
        thursday = factories.slot(lanstrop, datetime(2026, 11, 26, 8, 30), seats=2)
        amina_phone = factories.mobile()
        amina = booking.book(
            thursday.id,
            name="Amina Al-Sayed",
            phone=amina_phone,
            locale="ar",
            email="amina@example.org",
            now=clock.now,
            topic="Kindergeld; erreichbar unter 0151 99887766 oder amina.alsayed@example.net",
        )
        olena = booking.book(
            factories.slot(lanstrop, datetime(2026, 12, 3, 9, 0)).id,
            name="Olena Kovalenko",
            phone=factories.mobile(),
            locale="en",
            topic="Wohnung",
            now=clock.now,
        )
        booking.cancel(olena, now=clock.now)
        clock.advance(weeks=-6)
        old = booking.book(
            factories.slot(lanstrop, clock.now + timedelta(days=3)).id,
            name="Jonas",
            phone=factories.mobile(),
            locale="de",
            now=clock.now,
        )
        clock.advance(weeks=6)
        marek = booking.book(
            factories.slot(nordstadt, datetime(2026, 11, 27, 10, 0)).id,
            name="Marek",
            phone=factories.mobile(),
            locale="de",
            now=clock.now,
        )
        db.session.commit()
        return {
            "amina": (amina.uid, amina_phone),
            "olena": olena.uid,
            "old": old.uid,
            "marek": marek.uid,
        }


def feed_url(world, who="anna", slug="lanstrop"):
    answer = world.api(who, "GET", f"/api/v1/staff/offices/{slug}/feed")
    assert answer.status_code == 200
    return answer.json["url"]


def fetch(world, url):
    return world.app.test_client().get(url.removeprefix("https://termine.example.org"))


def events(response):
    calendar = Calendar.from_ical(response.get_data())
    return calendar, {str(event["UID"]).split("@")[0]: event for event in calendar.walk("VEVENT")}


def test_the_feed_page_and_the_api_give_one_secret_url_on_the_public_address(world):
    url = feed_url(world)
    assert re.fullmatch(r"https://termine\.example\.org/feed/[A-Za-z0-9_-]{32}\.ics", url)
    assert feed_url(world, "admin") == url  # made once, on first use
    page = world.page("anna").get("/staff/offices/lanstrop/feed").get_data(as_text=True)
    assert url in page and "Outlook" in page
    assert "Renew" not in page  # Anna is no administrator
    assert "/staff/offices/lanstrop/feed/renew" in world.page("admin").get(
        "/staff/offices/lanstrop/feed"
    ).get_data(as_text=True)
    assert feed_url(world, "ben", "nordstadt") != url


def test_the_feed_is_a_calendar_of_the_offices_bookings_without_numbers_or_addresses(world, booked):
    response = fetch(world, feed_url(world))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    calendar, found = events(response)
    assert str(calendar["X-WR-CALNAME"]) == "lokal willkommen Lanstrop"
    assert (
        calendar["METHOD"] == "PUBLISH"
        and "REFRESH-INTERVAL" in calendar
        and "X-PUBLISHED-TTL" in calendar
    )
    amina_uid, amina_phone = booked["amina"]
    assert set(found) == {amina_uid, booked["olena"]}  # not Nordstadt's, not from six weeks ago
    amina = found[amina_uid]
    assert str(amina["UID"]) == f"{amina_uid}@lokal-willkommen.dortmund.de"
    assert str(amina["SUMMARY"]) == "Amina"  # the first name only
    assert amina.start == datetime(2026, 11, 26, 8, 30, tzinfo=BERLIN)
    assert amina["DTSTART"].params["TZID"] == "Europe/Berlin" and calendar.walk("VTIMEZONE")
    description = str(amina["DESCRIPTION"])
    assert (
        "Sprache: Arabisch" in description and "Kindergeld" in description
    )  # the staff's language
    assert amina["STATUS"] == "CONFIRMED" and "URL" not in amina
    body = response.get_data(as_text=True)
    assert "@example" not in body and "Al-Sayed" not in body
    assert not PHONE_DIGITS.search(body.replace("\r\n ", "")), "a phone number in the feed"
    digits = amina_phone.replace(" ", "")
    assert digits[1:] not in body.replace(" ", "")
    with world.app.app_context():
        token = db.session.get(Office, world.ids["lanstrop"]).feed_token
    assert "/b/" not in body and token not in body  # no manage links, no feed secret


def test_a_cancelled_booking_stays_marked_as_cancelled(world, booked):
    _, found = events(fetch(world, feed_url(world)))
    olena = found[booked["olena"]]
    assert olena["STATUS"] == "CANCELLED" and olena["TRANSP"] == "TRANSPARENT"
    # "Cancelled: Olena" in the staff's language (German once the lead's catalogue has it).
    assert str(olena["SUMMARY"]).endswith(": Olena") and str(olena["SUMMARY"]) != "Olena"
    assert olena["SEQUENCE"] == 1


def test_uids_stay_the_same_across_renders_and_a_move_keeps_the_event(world, booked, clock):
    url = feed_url(world)
    _, first = events(fetch(world, url))
    clock.advance(hours=3)
    with world.app.app_context():  # Amina moves to an earlier time that was offered to her
        lanstrop = db.session.get(Office, world.ids["lanstrop"])
        earlier = factories.slot(lanstrop, datetime(2026, 11, 25, 14, 0), seats=1)
        amina = db.session.scalar(select(Booking).where(Booking.uid == booked["amina"][0]))
        booking.want_earlier(amina, True, clock.now)  # offers her the earlier time at once
        offer_answers.accept(
            db.session.scalar(select(Offer).where(Offer.slot_id == earlier.id)), clock.now
        )
        db.session.commit()
    _, second = events(fetch(world, url))
    assert set(second) == set(first)
    moved = second[booked["amina"][0]]
    assert moved.start == datetime(2026, 11, 25, 14, 0, tzinfo=BERLIN) and moved["SEQUENCE"] == 1


def test_renewing_on_the_page_ends_the_old_url(world, booked):
    old = feed_url(world)
    admin = world.page("admin")
    confirm = admin.get("/staff/offices/lanstrop/feed/renew")
    assert confirm.status_code == 200 and "stops working" in confirm.get_data(as_text=True)
    assert fetch(world, old).status_code == 200  # asking is not renewing
    answer = post_form(
        admin, "/staff/offices/lanstrop/feed/renew", {}, page="/staff/offices/lanstrop/feed/renew"
    )
    assert (
        answer.status_code == 303 and answer.headers["Location"] == "/staff/offices/lanstrop/feed"
    )
    new = feed_url(world)
    assert new != old and new in admin.get("/staff/offices/lanstrop/feed").get_data(as_text=True)
    assert fetch(world, old).status_code == 404
    assert fetch(world, new).status_code == 200
    with world.app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "feed.renew")
        ).one()
        assert entry.office_id == world.ids["lanstrop"] and entry.staff_id == world.ids["admin"]
        secret = new.rsplit("/", 1)[1].removesuffix(".ics")
        assert secret not in str(entry.before) + str(entry.after)


def test_renewing_through_the_api_is_for_administrators(world, booked):
    old = feed_url(world)
    assert world.api("anna", "POST", "/api/v1/staff/offices/lanstrop/feed/renew").status_code == 403
    assert fetch(world, old).status_code == 200
    renewed = world.api("admin", "POST", "/api/v1/staff/offices/lanstrop/feed/renew")
    assert renewed.status_code == 200 and renewed.json["url"] == feed_url(world) != old
    assert fetch(world, old).status_code == 404
    assert world.api("admin", "GET", "/api/v1/staff/offices/nowhere/feed").status_code == 404


def test_an_unknown_token_is_not_found(world, clock):
    client = world.app.test_client()
    for path in ("/feed/nope.ics", "/feed/.ics", f"/feed/{'a' * 32}.ics"):
        assert client.get(path).status_code == 404
    with world.app.app_context():
        entry = waitlist.join(
            db.session.get(Office, world.ids["lanstrop"]),
            name="Nobody",
            phone=factories.mobile(),
            locale="de",
            now=clock.now,
        )
        db.session.commit()
        assert (
            client.get(f"/feed/{entry.token}.ics").status_code == 404
        )  # other tokens open nothing here
