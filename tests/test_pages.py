"""The resident pages, as a phone without JavaScript uses them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Message, Slot

from . import factories
from .outbox import deliver


@pytest.fixture
def slot_id(app, clock):
    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=1)
        db.session.commit()
        return slot.id


def book_through_the_form(client, slot_id, **fields):
    form_page = client.get(f"/o/lanstrop/book/{slot_id}")
    assert form_page.status_code == 200
    data = {
        "csrf_token": factories.csrf_token(form_page.get_data(as_text=True)),
        "name": "Amina Khalil",
        "phone": "0151 23456789",
        **fields,
    }
    return client.post(f"/o/lanstrop/book/{slot_id}", data=data)


def test_the_start_page_lists_the_offices(client, slot_id):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/o/lanstrop"' in page and "Nadlerweg 1" in page


def test_the_office_page_shows_free_times_by_day_in_local_time(client, slot_id):
    page = client.get("/o/lanstrop?lang=en").get_data(as_text=True)
    assert "Thursday 26 November 2026" in page
    assert f'href="/o/lanstrop/book/{slot_id}"' in page and "09:00" in page


def test_a_full_slot_is_not_offered(app, client, slot_id):
    book_through_the_form(client, slot_id)
    page = client.get("/o/lanstrop?lang=en").get_data(as_text=True)
    assert f"/book/{slot_id}" not in page
    assert "There are no free times at the moment" in page


def test_booking_lands_on_a_confirmation_with_manage_and_calendar_links(app, client, slot_id):
    response = book_through_the_form(client, slot_id)
    assert response.status_code == 303
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        token = booking.token
        assert (booking.locale, booking.phone) == ("de", "+4915123456789")
    assert response.location == f"/b/{token}/booked"
    page = client.get(response.location).get_data(as_text=True)
    assert "Donnerstag, 26. November 2026" in page and "09:00" in page
    assert f'href="/b/{token}"' in page and f'href="/b/{token}/ics"' in page


def test_the_confirmation_sms_is_in_the_language_of_the_page(app, client, slot_id):
    client.get("/?lang=ar")
    assert book_through_the_form(client, slot_id).status_code == 303
    deliver(app)
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.locale == "ar" and message.status == "sent"
        assert "https://termine.example.org/b/" in message.body


def test_the_manage_page_only_shows_and_cancelling_takes_a_post(app, client, slot_id):
    book_through_the_form(client, slot_id)
    with app.app_context():
        token = db.session.scalar(select(Booking.token))
    for _ in range(3):  # a link preview, a mail scanner, the resident
        page = client.get(f"/b/{token}")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert client.get(f"/b/{token}/cancel").status_code == 405
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == BookingStatus.BOOKED
    csrf = factories.csrf_token(page.get_data(as_text=True))
    asked = client.post(f"/b/{token}/cancel", data={"csrf_token": csrf})  # the first step asks
    assert asked.status_code == 200 and 'name="confirmed" value="1"' in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == BookingStatus.BOOKED
    response = client.post(f"/b/{token}/cancel", data={"csrf_token": csrf, "confirmed": "1"})
    assert (response.status_code, response.location) == (303, f"/b/{token}")
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == BookingStatus.CANCELLED
        assert db.session.scalar(select(Slot.seats_taken)) == 0
    assert "This appointment is cancelled." in client.get(f"/b/{token}?lang=en").get_data(
        as_text=True
    )


def test_a_post_without_csrf_token_changes_nothing(app, client, slot_id):
    book_through_the_form(client, slot_id)
    with app.app_context():
        token = db.session.scalar(select(Booking.token))
    assert client.post(f"/b/{token}/cancel").status_code == 400
    response = client.post(
        f"/o/lanstrop/book/{slot_id}", data={"name": "X", "phone": "0151 11111111"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == BookingStatus.BOOKED
        assert len(db.session.scalars(select(Booking)).all()) == 1


def test_bad_input_is_shown_next_to_the_fields_and_kept(app, client, slot_id):
    client.get("/?lang=en")
    response = book_through_the_form(client, slot_id, name="   ", phone="12", email="x@")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please enter your name." in page
    assert "This is not a valid phone number." in page
    assert "This is not a valid e-mail address." in page
    assert 'value="12"' in page
    with app.app_context():
        assert db.session.scalar(select(Booking)) is None


def test_a_seat_taken_while_the_form_was_open_is_explained(app, client, slot_id):
    other = app.test_client()
    other.get("/?lang=en")
    form_page = other.get(f"/o/lanstrop/book/{slot_id}").get_data(as_text=True)
    book_through_the_form(client, slot_id)  # someone else is quicker
    response = other.post(
        f"/o/lanstrop/book/{slot_id}",
        data={
            "csrf_token": factories.csrf_token(form_page),
            "name": "Late",
            "phone": "0151 99999999",
        },
    )
    assert response.status_code == 409
    assert "This time has just been booked by someone else" in response.get_data(as_text=True)


def test_an_unknown_manage_link_answers_a_friendly_404_page(client, slot_id):
    response = client.get("/b/not-a-real-token?lang=en")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "This appointment does not exist" in response.get_data(as_text=True)


def test_a_slot_of_another_office_is_not_found(app, client, slot_id):
    with app.app_context():
        factories.office(slug="nordstadt", name="Nordstadt")
        db.session.commit()
    assert client.get(f"/o/nordstadt/book/{slot_id}").status_code == 404


def test_language_comes_from_the_choice_then_the_browser(client, slot_id):
    assert 'lang="ar" dir="rtl"' in client.get("/", headers={"Accept-Language": "ar"}).get_data(
        as_text=True
    )
    assert 'lang="en" dir="ltr"' in client.get(
        "/", headers={"Accept-Language": "en-GB,en;q=0.8"}
    ).get_data(as_text=True)
    assert 'lang="de" dir="ltr"' in client.get("/", headers={"Accept-Language": "sw"}).get_data(
        as_text=True
    )
    client.get("/?lang=en", headers={"Accept-Language": "ar"})
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    client.get("/?lang=xx")  # not offered: ignored, the earlier choice stays
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_pages_carry_security_headers(client, slot_id):
    headers = client.get("/").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_a_full_or_past_slot_says_so_before_anyone_types(app, client, slot_id, clock):
    book_through_the_form(client, slot_id)
    client.get("/?lang=en")
    full = client.get(f"/o/lanstrop/book/{slot_id}")
    assert full.status_code == 409
    page = full.get_data(as_text=True)
    assert "This time has just been booked by someone else" in page
    assert "<form" not in page.split("</header>")[1] and 'href="/o/lanstrop"' in page
    clock.advance(days=4)
    past = client.get(f"/o/lanstrop/book/{slot_id}")
    assert past.status_code == 409 and "This time has already passed" in past.get_data(as_text=True)


def test_manage_pages_speak_the_bookings_language_unless_this_browser_chose_one(
    app, client, slot_id
):
    client.get("/?lang=ar")
    book_through_the_form(client, slot_id)
    with app.app_context():
        token = db.session.scalar(select(Booking.token))
    fresh = app.test_client()  # the SMS link opened on another phone, German by its browser
    page = fresh.get(f"/b/{token}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page
    fresh.get("/?lang=en")
    assert 'lang="en"' in fresh.get(f"/b/{token}").get_data(as_text=True)


def test_the_confirmation_shows_the_public_address_of_the_manage_link(app, client, slot_id):
    location = book_through_the_form(client, slot_id).location
    page = client.get(location, base_url="http://10.0.0.5:8000").get_data(as_text=True)
    token = location.split("/")[2]
    assert f"https://termine.example.org/b/{token}" in page and "10.0.0.5" not in page
