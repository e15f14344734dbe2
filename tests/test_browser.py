"""The resident pages in a real browser: Debian's Chromium, driven by Playwright, JavaScript off.

A phone-sized Chromium books, cancels and gets a form wrong against the application served by
a real HTTP server on a free port. SQLite only: the database is not what these tests are
about (the service tests cover both). One browser serves the module; every test gets fresh
contexts, so no cookie, cache or language choice leaks from one test into the next.

Screenshots of the Arabic pages land in test-artifacts/ (git-ignored) for a person to look at.
"""
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from scheduler.config import ROOT
from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Message, Slot
from scheduler.services import booking as bookings
from scheduler.services import slots

from . import factories
from .conftest import IN_CI

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True),
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# A phone in Dortmund: its Accept-Language is German, its clock is Berlin's.
PHONE = {
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
    "is_mobile": True, "has_touch": True, "locale": "de-DE", "timezone_id": "Europe/Berlin",
}
ARTIFACTS = ROOT / "test-artifacts"

# The Thursdays within the 42-day horizon from Monday 23 November 2026, as the office page
# heads them; none of them is a public holiday in North Rhine-Westphalia.
THURSDAYS_DE = [
    "Donnerstag, 26. November 2026", "Donnerstag, 3. Dezember 2026",
    "Donnerstag, 10. Dezember 2026", "Donnerstag, 17. Dezember 2026",
    "Donnerstag, 24. Dezember 2026", "Donnerstag, 31. Dezember 2026",
]
TIMES_DE = ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00"]


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app, clock):
    """The app with the Lanstrop office and its slots, served on a free port; yields its URL."""
    with app.app_context():
        factories.office()
        slots.materialise(clock.now)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    # A short poll interval: shutdown() waits for the next poll, 0.5 s per test by default.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    yield app.config["PUBLIC_BASE_URL"]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the live server did not stop"


@pytest.fixture
def new_context(browser, live_server):
    """Open a fresh phone-sized context without JavaScript; options override ``PHONE``."""
    contexts = []

    def new(**options):
        context = browser.new_context(
            base_url=live_server, java_script_enabled=False, **{**PHONE, **options}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


# --- helpers ----------------------------------------------------------------------------------

def heading(page):
    return page.get_by_role("heading", level=1)


def first_day(page):
    return page.locator("section.day").first


def only_booking(app):
    """The one booking in the database, loaded with its slot, or None."""
    with app.app_context():
        found = db.session.scalars(select(Booking)).all()
        assert len(found) <= 1, found
        if not found:
            return None
        booking = found[0]
        booking.slot.seats_taken  # noqa: B018 (load it before the session closes)
        db.session.expunge_all()
        return booking


def seats_taken(app):
    with app.app_context():
        return db.session.scalar(select(func.sum(Slot.seats_taken)))


def book_directly(app, clock, locale):
    """Book the first time through the service, as if done earlier; returns the token."""
    with app.app_context():
        first = db.session.scalar(select(Slot).order_by(Slot.starts_at))
        token = bookings.book(
            first.id, name="Amina Khalil", phone="0151 23456789", locale=locale, now=clock.now
        ).token
        db.session.commit()
    return token


def text_box(locator, needle):
    """Where on the screen the text ``needle`` inside ``locator`` is drawn: {left, right}."""
    return locator.evaluate("""(element, needle) => {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node; (node = walker.nextNode());) {
            const at = node.data.indexOf(needle);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + needle.length);
            const box = range.getBoundingClientRect();
            return {left: box.left, right: box.right};
        }
        throw new Error(`no text ${needle} in ${element.outerHTML}`);
    }""", needle)


def assert_fits_width(page):
    """Nothing on the page reaches past the right edge of the screen (or the left, in RTL)."""
    page.wait_for_load_state("load")  # the stylesheet is in
    # java_script_enabled=False stops the page's own scripts; page.evaluate still runs over the
    # DevTools protocol (checked with Debian's Chromium 156), so the measurement needs no JS context.
    scroll_width, client_width, wide = page.evaluate("""() => {
        const root = document.documentElement, width = root.clientWidth;
        const wide = [...document.body.querySelectorAll("*")]
            .filter(e => { const r = e.getBoundingClientRect(); return r.right > width + 0.5 || r.left < -0.5; })
            .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${Math.round(e.getBoundingClientRect().width)}px`);
        return [root.scrollWidth, width, wide];
    }""")
    assert scroll_width <= client_width, f"{page.url} scrolls sideways: {wide}"


# --- tests ------------------------------------------------------------------------------------

def test_a_resident_books_a_time_in_german_and_cancels_it(page, app, live_server):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(heading(page)).to_have_text("Termin buchen")
    page.get_by_role("link", name=re.compile("Lanstrop")).tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop$"))
    expect(heading(page)).to_have_text("Lanstrop")
    expect(page.get_by_role("heading", level=2)).to_have_text("Freie Termine")
    expect(page.locator("section.day h3")).to_have_text(THURSDAYS_DE)
    expect(first_day(page).get_by_role("link")).to_have_text(TIMES_DE)
    first_day(page).get_by_role("link", name="08:30").tap()

    expect(heading(page)).to_have_text("Ihre Angaben")
    expect(page.locator("p.appointment")).to_contain_text("Donnerstag, 26. November 2026")
    expect(page.locator("p.appointment")).to_contain_text("08:30–09:00 Uhr")
    page.get_by_label("Ihr Name", exact=True).fill("Amina Khalil")
    page.get_by_label("Handynummer", exact=True).fill("0151 23456789")
    page.get_by_role("button", name="Diesen Termin buchen").tap()

    expect(page).to_have_url(re.compile(r"/b/[\w-]+/booked$"))
    token = page.url.split("/")[-2]
    expect(heading(page)).to_have_text("Ihr Termin ist gebucht")
    expect(page.locator("dl.appointment dt")).to_have_text(
        ["Büro", "Datum", "Uhrzeit", "Adresse", "Name"]
    )
    expect(page.locator("dl.appointment dd")).to_have_text([
        "Lanstrop", "Donnerstag, 26. November 2026", "08:30–09:00 Uhr",
        "Nadlerweg 1, 44329 Dortmund", "Amina Khalil",
    ])
    add_to_calendar = page.get_by_role("link", name="In den Kalender eintragen")
    expect(add_to_calendar).to_have_attribute("href", re.compile(r"/ics$"))
    ics = page.request.get(add_to_calendar.get_attribute("href"))
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    # Folded at 75 octets: unfold before looking for the manage link on PUBLIC_BASE_URL.
    assert f"{live_server}/b/{token}" in ics.text().replace("\r\n ", "")
    manage_link = page.locator("p.link").get_by_role("link")
    expect(manage_link).to_have_text(f"{live_server}/b/{token}")
    booked = only_booking(app)
    assert (booked.status, booked.locale, booked.phone) == ("booked", "de", "+4915123456789")
    assert booked.slot.seats_taken == 1

    manage_link.tap()
    expect(page).to_have_url(f"{live_server}/b/{token}")
    expect(heading(page)).to_have_text("Ihr Termin")
    page.get_by_role("button", name="Termin absagen").tap()

    expect(page).to_have_url(f"{live_server}/b/{token}")
    expect(page.get_by_role("status")).to_have_text("Dieser Termin ist abgesagt.")
    expect(page.get_by_role("button", name="Termin absagen")).to_have_count(0)
    expect(page.get_by_role("link", name="Neuen Termin buchen")).to_be_visible()
    cancelled = only_booking(app)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.slot.seats_taken == 0


def test_arabic_pages_read_right_to_left_and_the_choice_sticks(page, app):
    ARTIFACTS.mkdir(exist_ok=True)
    html = page.locator("html")
    page.goto("/?lang=ar")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(heading(page)).to_have_text("حجز موعد")
    assert {"name": "lang", "value": "ar"}.items() <= next(
        cookie for cookie in page.context.cookies() if cookie["name"] == "lang"
    ).items()

    page.get_by_role("link", name=re.compile("Lanstrop")).tap()
    expect(page).to_have_url(re.compile(r"/o/lanstrop$"))  # no ?lang: the cookie speaks
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=2)).to_have_text("المواعيد المتاحة")
    expect(first_day(page).locator("h3")).to_have_text("الخميس، 26 نوفمبر 2026")
    times = first_day(page).get_by_role("link")
    expect(times.first).to_have_text("8:30 ص")
    # Mirrored: the earliest time starts the grid at the right, the next one is to its left.
    earliest, next_one = times.nth(0).bounding_box(), times.nth(1).bounding_box()
    assert earliest["x"] > next_one["x"]
    assert earliest["x"] + earliest["width"] > PHONE["viewport"]["width"] * 3 / 4
    page.screenshot(path=ARTIFACTS / "ar-office.png", full_page=True)
    times.first.tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop/book/\d+$"))
    expect(html).to_have_attribute("dir", "rtl")
    expect(heading(page)).to_have_text("معلوماتك")
    back = page.get_by_role("link", name="مواعيد أخرى")
    box = back.bounding_box()
    assert box["x"] > PHONE["viewport"]["width"] / 2, "the link should start at the right"
    page.screenshot(path=ARTIFACTS / "ar-book.png", full_page=True)
    page.get_by_label("اسمك", exact=True).fill("أمينة خليل")
    page.get_by_label("رقم الموبايل", exact=True).fill("0151 23456789")
    page.get_by_role("button", name="حجز هذا الموعد").tap()

    expect(page).to_have_url(re.compile(r"/b/[\w-]+/booked$"))
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(heading(page)).to_have_text("تم حجز موعدك")
    expect(page.locator("dl.appointment dd")).to_have_text([
        "Lanstrop", "الخميس، 26 نوفمبر 2026", "8:30–9:00 ص",
        "Nadlerweg 1, 44329 Dortmund", "أمينة خليل",
    ])
    expect(page.get_by_role("link", name="إضافة إلى التقويم")).to_have_attribute(
        "href", re.compile(r"/ics$")
    )
    page.screenshot(path=ARTIFACTS / "ar-confirmation.png", full_page=True)
    booked = only_booking(app)
    assert (booked.status, booked.locale, booked.name) == ("booked", "ar", "أمينة خليل")


def test_mistakes_are_shown_at_their_fields_and_nothing_is_booked(page, app):
    page.goto("/o/lanstrop")
    first_day(page).get_by_role("link", name="08:30").tap()
    expect(heading(page)).to_have_text("Ihre Angaben")
    name = page.get_by_label("Ihr Name", exact=True)
    phone = page.get_by_label("Handynummer", exact=True)
    email = page.get_by_label("E-Mail (freiwillig)", exact=True)
    topic = page.get_by_label("Worum geht es? (freiwillig)", exact=True)
    notify = page.get_by_label("Schicken Sie mir eine SMS, wenn ein früherer Termin frei wird")
    name.fill("")
    phone.fill("12345")
    email.fill("amina@example.org")
    topic.fill("Anmeldung der Wohnung")
    notify.check()
    page.get_by_role("button", name="Diesen Termin buchen").tap()

    expect(page.get_by_role("alert")).to_have_text("Bitte prüfen Sie Ihre Angaben.")
    expect(heading(page)).to_have_text("Ihre Angaben")
    expect(page.locator(".error")).to_have_count(2)
    for field, message in [
        (name, "Bitte geben Sie Ihren Namen ein."),
        (phone, "Das ist keine gültige Telefonnummer."),
    ]:
        expect(field).to_have_attribute("aria-invalid", "true")
        # A screen reader reads the hint, if the field has one, then the error.
        expect(field).to_have_accessible_description(re.compile(re.escape(message) + "$"))
        error = page.locator(".field", has=field).locator(".error")
        expect(error).to_have_text(message)
        below, above = error.bounding_box(), field.bounding_box()
        assert 0 <= below["y"] - (above["y"] + above["height"]) < 16, "the message is right under its field"
    expect(name).to_have_value("")
    expect(phone).to_have_value("12345")
    expect(email).to_have_value("amina@example.org")
    expect(topic).to_have_value("Anmeldung der Wohnung")
    expect(notify).to_be_checked()
    assert only_booking(app) is None
    assert seats_taken(app) == 0


def test_opening_the_manage_link_cancels_nothing(page, app, clock, live_server):
    """Messengers fetch links for previews and mail scanners open them: that must be harmless."""
    token = book_directly(app, clock, locale="de")

    for _ in range(2):
        page.goto(f"/b/{token}")
        expect(heading(page)).to_have_text("Ihr Termin")
        expect(page.get_by_role("button", name="Termin absagen")).to_be_visible()
        expect(page.get_by_role("status")).to_have_count(0)
    assert page.request.head(f"/b/{token}").ok
    # A crawler guessing the cancel address gets a refusal, not a cancellation.
    refused = page.goto(f"/b/{token}/cancel")
    assert refused.status == 405
    expect(page.get_by_role("alert")).to_have_text("Das ist hier nicht möglich.")

    booked = only_booking(app)
    assert booked.status == BookingStatus.BOOKED
    assert booked.slot.seats_taken == 1
    with app.app_context():
        assert db.session.scalars(select(Message.kind)).all() == ["confirmation"]


def test_the_language_switcher_in_the_header_turns_the_pages_english(page):
    page.goto("/o/lanstrop")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    switcher = page.get_by_role("navigation", name="Sprache")
    expect(switcher.get_by_role("link")).to_have_text(["Deutsch", "English", "العربية"])
    expect(switcher.get_by_role("link", name="Deutsch")).to_have_attribute("aria-current", "true")
    switcher.get_by_role("link", name="English").tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop\?lang=en$"))  # the same page, in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=2)).to_have_text("Free times")
    expect(first_day(page).locator("h3")).to_have_text("Thursday, November 26, 2026")
    switcher = page.get_by_role("navigation", name="Language")
    expect(switcher.get_by_role("link", name="English")).to_have_attribute("aria-current", "true")
    expect(switcher.get_by_role("link", name="Deutsch")).not_to_have_attribute("aria-current", "true")
    first_day(page).get_by_role("link", name="8:30 AM").tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop/book/\d+$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading(page)).to_have_text("Your details")
    expect(page.get_by_label("Your name", exact=True)).to_be_visible()
    expect(page.get_by_label("Mobile number", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Book this appointment")).to_be_visible()


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_the_booking_pages_fit_a_320_pixel_screen_without_sideways_scrolling(new_context, lang):
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto(f"/o/lanstrop?lang={lang}")
    assert_fits_width(page)
    first_day(page).get_by_role("link").first.tap()
    expect(page).to_have_url(re.compile(r"/o/lanstrop/book/\d+$"))
    assert_fits_width(page)

    submit = page.locator("form button[type=submit]")
    submit.tap()  # empty: the form comes back with its messages, which are longer
    expect(page.locator(".error")).to_have_count(2)
    assert_fits_width(page)

    page.locator("input[name=name]").fill("Amina Khalil")
    page.locator("input[name=phone]").fill("0151 23456789")
    submit.tap()
    expect(page).to_have_url(re.compile(r"/b/[\w-]+/booked$"))  # with the long manage link
    assert_fits_width(page)


def test_the_arabic_time_range_reads_from_start_to_end(page, app, clock):
    token = book_directly(app, clock, locale="ar")
    page.goto(f"/b/{token}?lang=ar")
    values = page.locator("dl.appointment dd")
    date, times = values.nth(1), values.nth(2)
    expect(times).to_have_text("8:30–9:00 ص")
    start, dash, end = (text_box(times, text) for text in ("8:30", "–", "9:00"))
    # Read from the right: first the start, then the dash, then the end of the appointment.
    assert start["left"] >= dash["right"] and dash["left"] >= end["right"]
    # And it starts at the right edge of its column, as the date above it does.
    assert abs(start["right"] - text_box(date, "الخميس")["right"]) < 2
