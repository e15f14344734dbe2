"""The agenda of an office: a day and a week, the print view, the waitlist beside it, and the
same through the staff API; who may see it."""

import re
from datetime import timedelta

import pytest

from scheduler.config import ROOT
from scheduler.extensions import db
from scheduler.models import Office

from . import factories
from .staff_desk import THURSDAY, book, join, logged_in, make_desk


@pytest.fixture
def desk(app):
    return make_desk(app)


@pytest.fixture
def thursday(app, desk, clock):
    """Thursday 09:00 with two bookings (one cancelled), 09:30 with one, 10:00 free; a
    Monday-only wait (Olena, first) and an any-day wait (Karim), and one at Nordstadt."""
    with app.app_context():
        office = db.session.get(Office, desk.lanstrop)
        nine = factories.slot(office, THURSDAY)
        half_past = factories.slot(office, THURSDAY + timedelta(minutes=30))
        factories.slot(office, THURSDAY + timedelta(minutes=60))
        factories.slot(office, THURSDAY + timedelta(days=7))  # the week after
        book(half_past, clock.now, name="Zoran Petrov", locale="en", topic="Jobcenter letter")
        amina = book(nine, clock.now, name="Amina Khalil", locale="ar", topic="Kita place")
        gone = book(nine, clock.now, name="Gone Person", locale="de")
        from scheduler.services import booking

        booking.cancel(gone, now=clock.now)
        book(nine, clock.now, name="Nour Haddad", locale="ar")  # takes the freed seat
        clock.advance(days=-5)
        join(
            office,
            clock.now,
            name="Olena Koval",
            locale="en",
            weekdays=[0],
            earliest="09:00",
            latest="12:00",
        )
        clock.advance(days=3)
        join(office, clock.now, name="Karim Said", locale="ar")
        clock.advance(days=2)
        nordstadt = db.session.get(Office, desk.nordstadt)
        join(nordstadt, clock.now, name="Someone Elsewhere")
        db.session.commit()
        return {"amina": amina.id}


def order_of(page, *names):
    positions = [page.index(name) for name in names]
    return positions == sorted(positions)


def test_the_day_shows_each_booking_in_time_order_with_what_staff_need(app, thursday):
    client = logged_in(app)
    page = client.get("/staff/offices/lanstrop/agenda?date=2026-11-26").get_data(as_text=True)
    assert "Thursday, November 26, 2026" in page or "Thursday, 26 November 2026" in page
    assert order_of(page, "Amina Khalil", "Nour Haddad", "Gone Person", "Zoran Petrov")
    row = re.search(r"<tr class=\"booking\">.*?Amina Khalil.*?</tr>", page, re.S).group(0)
    assert "Arabic" in row and "Kita place" in row and "booked" in row and "online" in row
    assert "+49151" in row  # the phone, as stored
    cancelled = re.search(r"<tr class=\"booking cancelled\">.*?</tr>", page, re.S).group(0)
    assert (
        "Gone Person" in cancelled and "cancelled" in cancelled and "by the resident" in cancelled
    )
    assert "1 seat free" not in page.split("Zoran Petrov")[0]  # 09:00 is full
    assert "2 seats free" in page  # 10:00
    assert "Book" in page and "/staff/offices/lanstrop/walk-in?slot=" in page
    # Before the appointment: it can be cancelled, attendance not yet marked.
    assert "Cancel…" in page and "Came" not in page
    # The waitlist in order, with preferences and the days waited.
    waitlist = page.split('id="waitlist-heading"')[1]
    assert order_of(waitlist, "Olena Koval", "Karim Said") and "Someone Elsewhere" not in page
    assert "Mon" in waitlist and "from 09:00" in waitlist and "until 12:00" in waitlist
    assert "5 days" in waitlist and "2 days" in waitlist and "any time" in waitlist
    # Karim could use a free seat on Thursday: it is on offer to him, and held.
    assert "a time is on offer" in waitlist.split("Karim Said")[1]
    assert "1 held for an offer" in page


def test_a_day_and_a_week_move_back_and_forth(app, thursday):
    client = logged_in(app)
    page = client.get("/staff/offices/lanstrop/agenda?date=2026-11-26&view=week").get_data(
        as_text=True
    )
    # Monday 23 to Sunday 29 November: each day has its heading, empty ones say so.
    assert page.count('<section class="agenda-day"') == 7
    assert (
        "Monday, " in page and "Sunday, " in page and "No consultation hours on this day." in page
    )
    assert "Amina Khalil" in page and "December 3" not in page and "3 December" not in page
    assert "date=2026-11-19&amp;view=week" in page and "date=2026-12-03&amp;view=week" in page
    assert "date=2026-11-23&amp;view=week" in page  # today
    day = client.get("/staff/offices/lanstrop/agenda?date=2026-11-26").get_data(as_text=True)
    assert "date=2026-11-25&amp;view=day" in day and "date=2026-11-27&amp;view=day" in day
    # Without a date (or with nonsense): today, Monday, when Lanstrop has no hours.
    for query in (
        "",
        "?date=not-a-day&view=nonsense",
        "?date=0001-01-01",
        "?date=2000-01-01&view=week",
        "?date=9999-12-31&view=week",
    ):
        today = client.get(f"/staff/offices/lanstrop/agenda{query}")
        assert today.status_code == 200
        assert "No consultation hours on this day." in today.get_data(as_text=True)


def test_the_print_view_has_one_page_per_day_in_black_and_white(app, desk, thursday):
    client = logged_in(app)
    page = client.get("/staff/offices/lanstrop/agenda/print?date=2026-11-26&view=week").get_data(
        as_text=True
    )
    # The week has one day of consultation hours, so one page; the days without hours print nothing.
    assert page.count('<section class="print-day"') == 1
    assert "Amina Khalil" in page and "☐ yes ☐ no" in page
    assert 'class="print-table"' in page
    with app.app_context():
        office = db.session.get(Office, desk.lanstrop)
        factories.slot(
            office, THURSDAY + timedelta(days=1)
        )  # a Friday, say, after a change of hours
        db.session.commit()
    page = client.get("/staff/offices/lanstrop/agenda/print?date=2026-11-26&view=week").get_data(
        as_text=True
    )
    assert page.count('<section class="print-day"') == 2
    css = (ROOT / "static" / "staff.css").read_text()
    printing = css[css.index("/* --- Agenda, desk and waitlist") :]
    assert re.search(r"@media print \{.*\.print-day \{ break-after: page;", printing, re.S)
    assert re.search(r"\.print-table th, \.print-table td \{ border: 1px solid #000;", printing)
    assert "size: A4" in css


def test_the_api_lists_bookings_and_the_waitlist(app, thursday, desk):
    client = app.test_client()
    response = client.get(
        "/api/v1/staff/offices/lanstrop/agenda?from=2026-11-26&to=2026-11-26",
        headers=desk.headers("anna"),
    )
    assert response.status_code == 200, response.json
    bookings = response.json["bookings"]
    assert [b["name"] for b in bookings] == [
        "Amina Khalil",
        "Nour Haddad",
        "Gone Person",
        "Zoran Petrov",
    ]
    amina = bookings[0]
    assert amina["id"] == thursday["amina"]
    assert (
        amina["start"] == "2026-11-26T09:00:00+01:00"
        and amina["end"] == "2026-11-26T09:30:00+01:00"
    )
    assert (amina["locale"], amina["topic"], amina["status"], amina["source"]) == (
        "ar",
        "Kita place",
        "booked",
        "online",
    )
    assert amina["phone"].startswith("+49151")
    assert bookings[2]["status"] == "cancelled" and bookings[2]["cancelled_by"] == "resident"
    olena, karim = response.json["waitlist"]
    assert (olena["name"], olena["position"], karim["position"]) == ("Olena Koval", 1, 2)
    assert olena["weekdays"] == [0] and (olena["earliest"], olena["latest"], olena["before"]) == (
        "09:00",
        "12:00",
        None,
    )
    assert karim["weekdays"] == list(range(7)) and karim["earliest"] is None
    assert olena["requested_at"] == "2026-11-18T09:00:00+01:00" and olena["days_waited"] == 5
    assert (
        olena["phone"].startswith("+49151") and olena["locale"] == "en" and olena["offer"] is None
    )
    # Without dates: today (a Monday without hours), and the week through "to".
    assert (
        client.get("/api/v1/staff/offices/lanstrop/agenda", headers=desk.headers("anna")).json[
            "bookings"
        ]
        == []
    )
    week = client.get(
        "/api/v1/staff/offices/lanstrop/agenda?to=2026-12-06", headers=desk.headers("anna")
    ).json
    assert len(week["bookings"]) == 4 and (week["from"], week["to"]) == ("2026-11-23", "2026-12-06")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=26.11.2026", "from"),
        ("from=2026-11-26&to=2026-11-25", "to"),
        ("from=2026-01-01&to=2026-06-01", "to"),
        ("from=0001-01-01", "from"),
        ("from=9999-12-31", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-02-30", "from"),
    ],
)
def test_the_api_refuses_bad_ranges_with_422(app, desk, query, field):
    response = app.test_client().get(
        f"/api/v1/staff/offices/lanstrop/agenda?{query}", headers=desk.headers("anna")
    )
    assert response.status_code == 422 and response.is_json
    assert field in response.json["fields"]


@pytest.mark.parametrize(
    "path", ["/staff/offices/lanstrop/agenda", "/staff/offices/lanstrop/agenda/print"]
)
def test_only_the_office_s_staff_and_administrators_see_the_agenda_pages(app, desk, path):
    assert app.test_client().get(path).status_code == 303  # to the login form
    assert logged_in(app, "ben@example.org").get(path).status_code == 403
    assert logged_in(app, "anna@example.org").get(path).status_code == 200
    assert logged_in(app, "admin@example.org").get(path).status_code == 200
    assert (
        logged_in(app, "anna@example.org").get(path.replace("lanstrop", "nowhere")).status_code
        == 404
    )


def test_only_the_office_s_staff_and_administrators_read_the_agenda_api(app, desk):
    client = app.test_client()
    path = "/api/v1/staff/offices/lanstrop/agenda"
    assert client.get(path).status_code == 401
    response = client.get(path, headers=desk.headers("ben"))
    assert response.status_code == 403 and response.json["code"] == "forbidden"
    assert client.get(path, headers=desk.headers("anna")).status_code == 200
    assert client.get(path, headers=desk.headers("admin")).status_code == 200
    assert (
        client.get(path.replace("lanstrop", "nowhere"), headers=desk.headers("admin")).status_code
        == 404
    )


def test_the_office_navigation_links_the_agenda(app, desk):
    page = logged_in(app).get("/staff/").get_data(as_text=True)
    assert "/staff/offices/lanstrop/agenda" in page and "/staff/offices/lanstrop/walk-in" in page
    assert "/staff/offices/lanstrop/waitlist" in page
