"""A staff day in a real browser: Debian's Chromium on an office PC screen, JavaScript off.

Anna runs Lanstrop's consultation hours: she logs in, adds a Wednesday hour after seeing its
preview, closes Christmas Eve, books a walk-in, marks who came, prints the day's agenda; the
administrator renews the office's calendar feed. Screenshots of every step (and the printed
agenda as PDF) land in test-artifacts/staff/ for a person to look at.
"""
from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Booking, BookingSource, BookingStatus, Closure, Office, Slot, WeeklyHours
from scheduler.services import booking as bookings

from . import factories
from .conftest import BERLIN
from .test_browser import ARTIFACTS, browser, live_server  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True),
]

OFFICE_PC = {"viewport": {"width": 1280, "height": 900}, "locale": "de-DE", "timezone_id": "Europe/Berlin"}
SHOTS = ARTIFACTS / "staff"


@pytest.fixture
def staff_world(app, live_server, clock):
    """Anna works for Lanstrop; Amina booked Thursday 26 November, 09:00."""
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.slug == "lanstrop"))
        factories.staff("anna@example.org", offices=[office])
        factories.staff("admin@example.org", admin=True)
        nine = db.session.scalar(select(Slot.id).where(
            Slot.starts_at == datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)))
        amina = bookings.book(nine, name="Amina Khalil", phone=factories.mobile(), locale="ar",
                              topic="Kita-Platz", now=clock.now)
        db.session.commit()
        return {"amina": amina.id}


def log_in(context, email):
    page = context.new_page()
    page.goto("/staff/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(factories.STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_staff_day_from_login_to_the_printed_agenda(browser, app, clock, staff_world):
    context = browser.new_context(base_url=app.config["PUBLIC_BASE_URL"], java_script_enabled=False, **OFFICE_PC)
    context.set_default_timeout(10_000)
    page = log_in(context, "anna@example.org")
    expect(page.get_by_role("heading", name="Ihre Büros")).to_be_visible()
    expect(page.get_by_text("Lanstrop").first).to_be_visible()
    shot(page, "01-offices")

    # Weekly hours: a Wednesday afternoon, previewed, then saved.
    page.goto("/staff/offices/lanstrop/hours")
    rows = page.locator(".hours-table tbody tr").count()
    blank = rows - 2  # two empty rows follow the office's hours
    page.locator(f"#hours-{blank}-weekday").select_option("2")
    page.locator(f"#hours-{blank}-start").fill("13:00")
    page.locator(f"#hours-{blank}-end").fill("15:00")
    page.locator(f"#hours-{blank}-slot_minutes").fill("30")
    page.locator(f"#hours-{blank}-seats").fill("1")
    page.locator("button[name=action][value=preview]").click()
    expect(page.locator("button[name=action][value=save]")).to_be_visible()
    shot(page, "02-hours-preview")
    with app.app_context():  # the preview saved nothing
        assert db.session.scalar(select(WeeklyHours.id).where(WeeklyHours.weekday == 2)) is None
    page.locator("button[name=action][value=save]").click()
    expect(page.locator(".notice")).to_be_visible()
    shot(page, "03-hours-saved")
    with app.app_context():
        assert db.session.scalar(select(Slot.id).where(
            Slot.starts_at == datetime(2026, 12, 2, 13, 0, tzinfo=BERLIN))) is not None

    # Christmas Eve is closed.
    page.goto("/staff/offices/lanstrop/closures")
    page.locator("#start_date").fill("2026-12-24")
    page.locator("#end_date").fill("2026-12-24")
    page.locator("#reason").fill("Heiligabend")
    page.locator("button[name=action][value=preview]").click()
    shot(page, "04-closure-preview")
    page.locator("button[name=action][value=save]").click()
    expect(page.locator(".notice")).to_be_visible()
    with app.app_context():
        assert [c.reason for c in db.session.scalars(select(Closure))] == ["Heiligabend"]
        assert db.session.scalar(select(Slot.id).where(
            Slot.starts_at == datetime(2026, 12, 24, 9, 0, tzinfo=BERLIN), Slot.removed_at.is_(None))) is None

    # Thursday morning: a walk-in without a phone, then who came.
    clock.set("2026-11-26T09:10")
    page.goto("/staff/offices/lanstrop/walk-in")
    page.locator("#slot_id").select_option(index=0)
    page.locator("#name").fill("Walk-in Yusuf")
    page.locator("#locale").select_option("tr")
    shot(page, "05-walk-in")
    page.get_by_role("button", name="Buchen").click()
    expect(page.locator(".notice")).to_be_visible()
    with app.app_context():
        walk_in = db.session.scalar(select(Booking).where(Booking.name == "Walk-in Yusuf"))
        assert walk_in.source == BookingSource.WALK_IN and walk_in.phone is None

    page.goto("/staff/offices/lanstrop/agenda?date=2026-11-26")
    row = page.locator("tr", has_text="Amina Khalil")
    row.locator("button[name=status][value=attended]").click()
    expect(page.locator(".notice")).to_be_visible()
    shot(page, "06-agenda-attendance")
    with app.app_context():
        assert db.session.get(Booking, staff_world["amina"]).status == BookingStatus.ATTENDED

    # The day's agenda on paper: one A4 page, black and white.
    page.goto("/staff/offices/lanstrop/agenda?date=2026-11-26")
    page.get_by_role("link", name="Druckansicht").click()
    expect(page.get_by_text("Amina Khalil")).to_be_visible()
    page.emulate_media(media="print")
    shot(page, "07-agenda-print")
    page.pdf(path=str(SHOTS / "07-agenda-print.pdf"), format="A4")
    assert (SHOTS / "07-agenda-print.pdf").stat().st_size > 1000
    context.close()


def test_the_administrator_renews_the_calendar_feed(browser, app, staff_world):
    context = browser.new_context(base_url=app.config["PUBLIC_BASE_URL"], java_script_enabled=False, **OFFICE_PC)
    context.set_default_timeout(10_000)
    page = log_in(context, "admin@example.org")
    page.goto("/staff/offices/lanstrop/feed")
    old_url = page.locator("#feed-url").input_value()
    assert context.request.get(old_url).status == 200
    page.get_by_role("link", name="Erneuern…").click()
    shot(page, "08-feed-renew")
    page.get_by_role("button", name="Adresse erneuern").click()
    expect(page.locator(".notice")).to_be_visible()
    new_url = page.locator("#feed-url").input_value()
    shot(page, "09-feed-renewed")
    assert new_url != old_url
    assert context.request.get(old_url).status == 404
    assert "BEGIN:VCALENDAR" in context.request.get(new_url).text()
    context.close()
