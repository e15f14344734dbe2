"""The resident pages in a real browser: Debian's Chromium, driven by Playwright, JavaScript off.

A phone-sized Chromium books, cancels and gets a form wrong against the application served by
a real HTTP server on a free port. SQLite only: the database is not what these tests are
about (the service tests cover both). One browser serves the module; every test gets fresh
contexts, so no cookie, cache or language choice leaks from one test into the next.

Screenshots of the Arabic pages land in test-artifacts/ (git-ignored) for a person to look at.
"""
import re
import threading
from datetime import date, time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from scheduler import jobs
from scheduler.config import ROOT
from scheduler.extensions import db
from scheduler.models import (
    Booking,
    BookingStatus,
    Message,
    Offer,
    OfferKind,
    OfferStatus,
    Office,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
    WeeklyHours,
)
from scheduler.services import booking as bookings
from scheduler.services import slots, waitlist

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
        office = factories.office()
        slots.materialise(clock.now)
        # Hours on Mondays and Tuesdays whose slots are not made yet: a resident may wait for
        # them (the office can meet that wish) without being offered a free Thursday at once.
        office.hours += [
            WeeklyHours(weekday=day, start_time=time(9), end_time=time(18), slot_minutes=30, seats=1)
            for day in (0, 1)
        ]
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


def laid_out(page):
    """Wait for the stylesheet before measuring: a tap's navigation is "done" for Playwright
    (and its URL matches) once the new page commits, before the CSS is in."""
    page.wait_for_load_state("load")


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
    laid_out(page)
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
    # The free times come first; the waitlist's "No time suits you?" follows them.
    expect(page.get_by_role("heading", level=2).first).to_have_text("Freie Termine")
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
    # A second step, on a page of its own, without JavaScript: "really?"
    expect(heading(page)).to_have_text("Möchten Sie den Termin wirklich absagen?")
    assert only_booking(app).status == BookingStatus.BOOKED
    page.get_by_role("button", name="Ja, Termin absagen").tap()

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
    expect(page.get_by_role("heading", level=2).first).to_have_text("المواعيد المتاحة")
    expect(first_day(page).locator("h3")).to_have_text("الخميس، 26 نوفمبر 2026")
    times = first_day(page).get_by_role("link")
    expect(times.first).to_have_text("8:30 ص")
    # Mirrored: the earliest time starts the grid at the right, the next one is to its left.
    laid_out(page)
    earliest, next_one = times.nth(0).bounding_box(), times.nth(1).bounding_box()
    assert earliest["x"] > next_one["x"]
    assert earliest["x"] + earliest["width"] > PHONE["viewport"]["width"] * 3 / 4
    page.screenshot(path=ARTIFACTS / "ar-office.png", full_page=True)
    times.first.tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop/book/\d+$"))
    expect(html).to_have_attribute("dir", "rtl")
    expect(heading(page)).to_have_text("معلوماتك")
    back = page.get_by_role("link", name="مواعيد أخرى")
    laid_out(page)
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
        laid_out(page)
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
    expect(switcher.get_by_role("link")).to_have_text(
        ["Deutsch", "English", "العربية", "فارسی", "Українська", "Русский", "Türkçe", "Română", "Български"])
    expect(switcher.get_by_role("link", name="Deutsch")).to_have_attribute("aria-current", "true")
    switcher.get_by_role("link", name="English").tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop\?lang=en$"))  # the same page, in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=2)).to_have_text(["Free times", "No time suits you?"])
    expect(first_day(page).locator("h3")).to_have_text("Thursday 26 November 2026")
    switcher = page.get_by_role("navigation", name="Language")
    expect(switcher.get_by_role("link", name="English")).to_have_attribute("aria-current", "true")
    expect(switcher.get_by_role("link", name="Deutsch")).not_to_have_attribute("aria-current", "true")
    first_day(page).get_by_role("link", name="08:30").tap()

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


# --- the waitlist and its offers --------------------------------------------------------------
# The office has only Thursdays, 08:30 to 11:30, two seats a time. Someone who waits for a
# Monday or a Tuesday is never offered anything; someone who waits for Thursday 26 November
# at 08:30 is offered the first seat that is cancelled there.

TOUCH = 44  # px: the smallest touch target (WCAG 2.5.5)


def assert_tall_enough(locator):
    """Every element ``locator`` matches is visible and at least a finger tall."""
    laid_out(locator.page)
    count = locator.count()
    assert count, f"nothing matches {locator}"
    for index in range(count):
        box = locator.nth(index).bounding_box()
        assert box is not None, f"{locator} #{index} is not shown"
        assert box["height"] >= TOUCH - 0.5, (
            f"{locator.nth(index).inner_text()!r} is {box['height']:.0f}px tall"
        )


def only_entry(app):
    with app.app_context():
        found = db.session.scalars(select(WaitlistEntry)).all()
        assert len(found) <= 1, found
        db.session.expunge_all()
        return found[0] if found else None


def offer_state(app):
    """What a look at a page must not change: offers, bookings, waits, seats and messages."""
    columns = [
        (Offer.id, Offer.status, Offer.answered_at), (Booking.id, Booking.status, Booking.slot_id),
        (WaitlistEntry.id, WaitlistEntry.status), (Slot.id, Slot.seats_taken),
        (Message.id, Message.status),
    ]
    with app.app_context():
        return [db.session.execute(select(*row).order_by(row[0])).all() for row in columns]


def join_directly(app, clock, locale, **preferences):
    """Join the waitlist through the service, as if done earlier; returns the entry's token."""
    with app.app_context():
        office = db.session.scalar(select(Office))
        token = waitlist.join(
            office, name="Olena Koval", phone=factories.mobile(), locale=locale, now=clock.now,
            **preferences,
        ).token
        db.session.commit()
    return token


def offer_after_a_cancellation(app, clock, locale, kind=OfferKind.WAITLIST):
    """Someone waits for the first time, which is full; one of its bookings is cancelled and
    the seat is offered, and the dispatcher sends the offer's SMS, which starts its hold.

    ``kind`` WAITLIST: a resident on the waitlist for Thursday 26 November, 08:30–09:00 gets
    it. MOVE_UP: the resident booked at 09:00 who asked for an earlier time gets it.
    Returns the offer's token and the token of the waitlist entry or of the booking it is for.
    """
    with app.app_context():
        first, second = db.session.scalars(select(Slot).order_by(Slot.starts_at).limit(2))
        taken = [
            bookings.book(first.id, name=name, phone=factories.mobile(), locale="de", now=clock.now)
            for name in ("Amina Khalil", "Jonas Becker")
        ]
        if kind == OfferKind.MOVE_UP:
            waiting = bookings.book(
                second.id, name="Olena Koval", phone=factories.mobile(), locale=locale,
                notify_earlier=True, now=clock.now,
            )
        else:
            waiting = waitlist.join(
                first.office, name="Olena Koval", phone=factories.mobile(), locale=locale,
                weekdays=[3], earliest="08:30", latest="09:00", before="2026-11-26", now=clock.now,
            )
        assert db.session.scalar(select(func.count()).select_from(Offer)) == 0, "nothing is free yet"
        bookings.cancel(taken[0], now=clock.now)
        offer = db.session.scalar(select(Offer))
        assert (offer.kind, offer.slot_id, offer.status) == (kind, first.id, OfferStatus.PENDING)
        db.session.commit()
        jobs.dispatch_outbox(now=clock.now)
        db.session.refresh(offer)
        assert offer.sent_at is not None and offer.expires_at is not None
        return offer.token, waiting.token


def test_a_resident_joins_the_waitlist_with_preferences_from_the_office_page(page, app, live_server):
    """With the real form and JavaScript off (as in every context here), from the office page."""
    page.goto("/o/lanstrop?lang=en")
    cta = page.locator("section.waitlist-cta")
    expect(cta.get_by_role("heading", level=2)).to_have_text("No time suits you?")
    cta.get_by_role("link", name="Join the waitlist").tap()

    expect(page).to_have_url(f"{live_server}/o/lanstrop/waitlist")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading(page)).to_have_text("Join the waitlist")
    expect(page.get_by_role("link", name="Free times")).to_have_attribute("href", "/o/lanstrop")
    form = page.locator("main form")
    expect(form).to_have_attribute("method", "post")
    csrf = form.locator("input[type=hidden][name=csrf_token]")
    expect(csrf).to_have_attribute("value", re.compile(r".{20,}"))
    days = page.get_by_role("group", name="Which days suit you? (none ticked: any day)")
    expect(days.get_by_role("checkbox")).to_have_count(7)
    page.get_by_label("Your name", exact=True).fill("Amina Khalil")
    page.get_by_label("Mobile number", exact=True).fill("0151 23456789")
    days.get_by_label("Monday").check()
    days.get_by_label("Tuesday").check()
    page.get_by_label("Not before (optional)", exact=True).fill("14:00")
    page.get_by_label("Finished by (optional)", exact=True).fill("17:00")
    page.get_by_label("Last day that suits you (optional)", exact=True).fill("2026-12-31")
    page.get_by_label("What is it about? (optional)", exact=True).fill("Anmeldung der Wohnung")
    page.get_by_role("button", name="Join the waitlist").tap()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/w/[\w-]+$"))
    token = page.url.rsplit("/", 1)[-1]
    expect(heading(page)).to_have_text("Your place on the waitlist")
    expect(page.locator("p.position")).to_have_text("You are number 1 on the waitlist.")
    expect(page.get_by_role("button", name="Leave the waitlist")).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)  # nothing fits: no offer
    entry = only_entry(app)
    assert (entry.token, entry.status, entry.locale, entry.phone, entry.name, entry.topic) == (
        token, WaitlistStatus.WAITING, "en", "+4915123456789", "Amina Khalil", "Anmeldung der Wohnung"
    )
    assert (entry.weekdays, entry.earliest_minute, entry.latest_minute, entry.last_day) == (
        0b0000011, 14 * 60, 17 * 60, date(2026, 12, 31)
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Offer)) == 0
        assert db.session.scalars(select(Message.kind)).all() == ["waitlist"]
    # The form's token is checked: a post without it joins nobody.
    forged = page.request.post("/o/lanstrop/waitlist", form={
        "name": "Jonas Becker", "phone": "0151 98765432",
    })
    assert forged.status == 400
    assert only_entry(app).token == token


def test_waitlist_mistakes_are_shown_at_their_fields_and_nobody_joins(page, app):
    page.goto("/o/lanstrop/waitlist?lang=en")
    expect(heading(page)).to_have_text("Join the waitlist")
    name = page.get_by_label("Your name", exact=True)
    phone = page.get_by_label("Mobile number", exact=True)
    earliest = page.get_by_label("Not before (optional)", exact=True)
    latest = page.get_by_label("Finished by (optional)", exact=True)
    thursday = page.get_by_label("Thursday")
    name.fill("Amina Khalil")
    phone.fill("0151 23456789")
    thursday.check()
    earliest.fill("12:00")
    latest.fill("09:00")
    page.get_by_role("button", name="Join the waitlist").tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop/waitlist\?lang=en$"))  # the same page
    expect(page.get_by_role("alert")).to_have_text("Please check your input.")
    expect(heading(page)).to_have_text("Join the waitlist")
    expect(page.locator(".error")).to_have_count(1)
    message = "Must be later than the earliest time."
    expect(latest).to_have_attribute("aria-invalid", "true")
    expect(latest).to_have_accessible_description(message)
    error = page.locator(".field", has=latest).locator(".error")
    expect(error).to_have_text(message)
    laid_out(page)
    below, above = error.bounding_box(), latest.bounding_box()
    assert 0 <= below["y"] - (above["y"] + above["height"]) < 16, "the message is right under its field"
    for fine in (name, phone, earliest):
        expect(fine).not_to_have_attribute("aria-invalid", "true")
    # Everything typed is still there, to correct the one mistake.
    expect(name).to_have_value("Amina Khalil")
    expect(phone).to_have_value("0151 23456789")
    expect(thursday).to_be_checked()
    expect(page.get_by_label("Monday")).not_to_be_checked()
    expect(earliest).to_have_value("12:00")
    expect(latest).to_have_value("09:00")
    assert only_entry(app) is None

    name.fill("")
    earliest.fill("08:30")  # within the hours: only the name is wrong now
    latest.fill("11:30")
    page.get_by_role("button", name="Join the waitlist").tap()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Please enter your name.")
    expect(latest).not_to_have_attribute("aria-invalid", "true")
    assert only_entry(app) is None

    # A day the form does not offer (a stale or tampered form): the group carries the message.
    name.fill("Amina Khalil")
    page.locator(".checks input:checked").evaluate("box => { box.value = '7'; }")
    page.get_by_role("button", name="Join the waitlist").tap()
    days = page.get_by_role("group", name="Which days suit you? (none ticked: any day)")
    expect(days.locator(".error")).to_have_count(1)
    expect(days).to_have_accessible_description(re.compile(r"\S"))
    expect(days).to_have_accessible_description(days.locator(".error").inner_text())
    assert only_entry(app) is None


def test_every_waitlist_mistake_is_shown_at_once(page):
    page.goto("/o/lanstrop/waitlist?lang=en")
    page.get_by_label("Mobile number", exact=True).fill("12345")
    page.get_by_label("Not before (optional)", exact=True).fill("12:00")
    page.get_by_label("Finished by (optional)", exact=True).fill("09:00")
    page.get_by_role("button", name="Join the waitlist").tap()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("[aria-invalid=true]")).to_have_count(3, timeout=1_000)  # name, phone, latest


def test_opening_an_offer_changes_nothing_and_booking_it_leads_to_the_appointment(
    page, app, clock, live_server
):
    offer_token, entry_token = offer_after_a_cancellation(app, clock, locale="en")
    before = offer_state(app)

    for _ in range(2):  # a link preview, then the resident
        page.goto(f"/a/{offer_token}")
        expect(page.locator("html")).to_have_attribute("lang", "en")  # the language it was asked in
        expect(heading(page)).to_have_text("A time is free for you")
        appointment = page.locator("p.appointment")
        expect(appointment).to_contain_text("Lanstrop")
        expect(appointment).to_contain_text("Thursday 26 November 2026")
        expect(appointment).to_contain_text(re.compile(r"08:30\W+09:00"))
        expect(appointment).to_contain_text("Nadlerweg 1, 44329 Dortmund")
        expect(page.get_by_text(re.compile(r"^We hold this time for you until "))).to_be_visible()
        expect(page.locator("main").get_by_role("button")).to_have_text(
            ["Book this time", "No, thank you"]
        )
    assert page.request.head(f"/a/{offer_token}").ok
    assert page.request.get(f"/a/{offer_token}/accept").status == 405
    assert page.request.get(f"/a/{offer_token}/decline").status == 405
    assert offer_state(app) == before

    page.goto(f"/w/{entry_token}")  # the waitlist page points to the offer too
    expect(page.get_by_role("status")).to_contain_text("A time is free for you.")
    page.get_by_role("link", name="See the offer").tap()
    expect(page).to_have_url(f"{live_server}/a/{offer_token}")
    page.get_by_role("button", name="Book this time").tap()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/b/[\w-]+/booked$"))
    expect(heading(page)).to_have_text("Your appointment is booked")  # said plainly
    expect(page.locator("dl.appointment dd").nth(1)).to_have_text("Thursday 26 November 2026")
    expect(page.locator("dl.appointment dd").nth(2)).to_have_text(re.compile(r"^08:30\W+09:00$"))
    expect(page.locator("dl.appointment")).to_contain_text("Olena Koval")
    with app.app_context():
        offer = db.session.scalar(select(Offer))
        assert offer.status == OfferStatus.ACCEPTED
        assert page.url == f"{live_server}/b/{offer.booking.token}/booked"
        assert (offer.booking.status, offer.booking.slot_id) == (BookingStatus.BOOKED, offer.slot_id)
        assert offer.entry.status == WaitlistStatus.BOOKED
        assert offer.slot.seats_taken == 2

    page.goto(f"/a/{offer_token}")  # the SMS link, opened again later
    expect(page.get_by_role("status")).to_contain_text("You have taken this time.")
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("status").get_by_role("link", name="Your appointment")).to_have_attribute(
        "href", re.compile(r"^/b/[\w-]+$")
    )


def test_declining_an_offer_says_so_and_keeps_the_place_on_the_waitlist(page, app, clock, live_server):
    offer_token, entry_token = offer_after_a_cancellation(app, clock, locale="en")
    page.goto(f"/a/{offer_token}")
    page.get_by_role("button", name="No, thank you").tap()

    expect(page).to_have_url(f"{live_server}/a/{offer_token}")
    expect(page.get_by_role("status")).to_have_text(
        "You have declined this time. It goes to the next person."
    )
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    page.get_by_role("link", name="Your place on the waitlist").tap()
    expect(page).to_have_url(f"{live_server}/w/{entry_token}")
    expect(page.locator("p.position")).to_have_text("You are number 1 on the waitlist.")
    with app.app_context():
        offer = db.session.scalar(select(Offer))
        assert offer.status == OfferStatus.DECLINED and offer.booking is None
        assert offer.entry.status == WaitlistStatus.WAITING
        assert offer.slot.seats_taken == 1  # nobody else waits: the seat is free again


def test_a_move_up_offer_shows_on_the_manage_page_and_moves_the_appointment(
    page, app, clock, live_server
):
    offer_token, booking_token = offer_after_a_cancellation(app, clock, "en", OfferKind.MOVE_UP)
    page.goto(f"/b/{booking_token}")
    expect(heading(page)).to_have_text("Your appointment")
    expect(page.locator("dl.appointment dd").nth(2)).to_have_text(re.compile(r"^09:00\W+09:30$"))
    notice = page.get_by_role("status")
    expect(notice).to_have_text(re.compile(r"^An earlier time is free for you\.\s+See the offer$"))
    notice.get_by_role("link", name="See the offer").tap()

    expect(page).to_have_url(f"{live_server}/a/{offer_token}")
    expect(page.locator("p.appointment")).to_contain_text(re.compile(r"08:30\W+09:00"))
    expect(page.get_by_text("This is earlier than your appointment.", exact=False)).to_be_visible()
    page.get_by_role("button", name="Move my appointment to this time").tap()

    expect(page).to_have_url(f"{live_server}/b/{booking_token}/booked")  # the same booking, moved
    expect(page.locator("dl.appointment dd").nth(2)).to_have_text(re.compile(r"^08:30\W+09:00$"))
    expect(page.get_by_role("status")).to_have_count(0)
    with app.app_context():
        moved = db.session.scalar(select(Booking).where(Booking.token == booking_token))
        assert moved.slot_id == db.session.scalar(select(Offer.slot_id))
        assert moved.status == BookingStatus.BOOKED


def test_leaving_the_waitlist_takes_the_button_not_the_link(page, app, clock, live_server):
    token = join_directly(app, clock, "en", weekdays=[0])
    for _ in range(2):  # a link preview, then the resident
        page.goto(f"/w/{token}")
        expect(page.locator("p.position")).to_have_text("You are number 1 on the waitlist.")
    assert page.request.get(f"/w/{token}/leave").status == 405
    assert only_entry(app).status == WaitlistStatus.WAITING

    page.get_by_role("button", name="Leave the waitlist").tap()
    expect(page).to_have_url(f"{live_server}/w/{token}")
    expect(page.get_by_role("status")).to_have_text("You are no longer on the waitlist.")
    expect(page.get_by_role("button", name="Leave the waitlist")).to_have_count(0)
    expect(page.locator("p.position")).to_have_count(0)
    again = page.locator("main").get_by_role("link", name="Free times")
    expect(again).to_have_attribute("href", "/o/lanstrop")
    left = only_entry(app)
    assert left.status == WaitlistStatus.LEFT and left.ended_at is not None


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_the_waitlist_pages_fit_a_320_pixel_screen_with_finger_sized_targets(new_context, lang, app):
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    html = page.locator("html")
    direction = "rtl" if lang == "ar" else "ltr"
    page.goto(f"/o/lanstrop?lang={lang}")
    page.locator("section.waitlist-cta a[href='/o/lanstrop/waitlist']").tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop/waitlist$"))
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", direction)
    assert_fits_width(page)
    assert_tall_enough(page.locator(".checks label"))
    assert_tall_enough(page.locator("main input:not([type=hidden]):not([type=checkbox])"))
    assert_tall_enough(page.locator("main button, main a.back"))
    if lang == "ar":  # the back link starts at the right, like the text (laid out above)
        assert page.locator("a.back").bounding_box()["x"] > 320 / 2
        label = page.locator(".checks label").first.bounding_box()
        box = page.locator(".checks input").first.bounding_box()
        assert box["x"] > label["x"] + label["width"] / 2, "the tick box stands at the start: the right"
    page.screenshot(path=ARTIFACTS / f"{lang}-waitlist-join.png", full_page=True)

    submit = page.locator("main form button[type=submit]")
    latest = page.locator("input[name=latest]")
    page.locator("input[name=earliest]").fill("12:00")
    latest.fill("09:00")
    submit.tap()  # empty name and phone, and the times the wrong way round
    expect(page.locator("input[name=name]")).to_have_attribute("aria-invalid", "true")
    expect(html).to_have_attribute("dir", direction)
    assert_fits_width(page)

    page.locator("input[name=name]").fill("أمينة خليل" if lang == "ar" else "Amina Khalil")
    page.locator("input[name=phone]").fill("0151 23456789")
    page.locator(".checks input[value='1']").check()
    submit.tap()  # the times still the wrong way round
    expect(latest).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=name]")).not_to_have_attribute("aria-invalid", "true")
    assert_fits_width(page)
    page.screenshot(path=ARTIFACTS / f"{lang}-waitlist-errors.png", full_page=True)

    latest.fill("")
    submit.tap()
    expect(page).to_have_url(re.compile(r"/w/[\w-]+$"))
    expect(html).to_have_attribute("dir", direction)
    assert_fits_width(page)
    assert_tall_enough(page.locator("main button"))
    page.screenshot(path=ARTIFACTS / f"{lang}-waitlist-entry.png", full_page=True)
    assert only_entry(app).locale == lang

    page.locator("form.cancel button").tap()
    expect(page.locator(".notice[role=status]")).to_be_visible()
    expect(page.locator("form.cancel")).to_have_count(0)
    assert_fits_width(page)
    assert_tall_enough(page.locator("main a.button"))
    assert only_entry(app).status == WaitlistStatus.LEFT


@pytest.mark.parametrize("kind", [OfferKind.WAITLIST, OfferKind.MOVE_UP])
@pytest.mark.parametrize("lang", ["de", "ar"])
def test_the_offer_pages_fit_a_320_pixel_screen_with_finger_sized_buttons(
    new_context, app, clock, lang, kind
):
    ARTIFACTS.mkdir(exist_ok=True)
    offer_token, token = offer_after_a_cancellation(app, clock, lang, kind)
    # The resident's own language, from the offer: no ?lang, no cookie.
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    html = page.locator("html")
    direction = "rtl" if lang == "ar" else "ltr"
    if kind == OfferKind.MOVE_UP:
        page.goto(f"/b/{token}")
        expect(html).to_have_attribute("lang", lang)
        expect(html).to_have_attribute("dir", direction)
        notice = page.locator(".notice[role=status]")
        expect(notice.locator("a")).to_have_attribute("href", f"/a/{offer_token}")
        assert_fits_width(page)
        assert_tall_enough(notice.locator("a"))
        page.screenshot(path=ARTIFACTS / f"{lang}-manage-move-up.png", full_page=True)
        notice.locator("a").tap()
    else:
        page.goto(f"/w/{token}")
        expect(html).to_have_attribute("dir", direction)
        assert_fits_width(page)
        assert_tall_enough(page.locator(".notice[role=status] a"))
        page.screenshot(path=ARTIFACTS / f"{lang}-waitlist-offered.png", full_page=True)
        page.locator(".notice[role=status] a").tap()

    expect(page).to_have_url(re.compile(rf"/a/{offer_token}$"))
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", direction)
    buttons = page.locator("main form button[type=submit]")
    expect(buttons).to_have_count(2)
    assert_fits_width(page)
    assert_tall_enough(buttons)
    laid_out(page)
    take, decline = buttons.nth(0).bounding_box(), buttons.nth(1).bounding_box()
    assert take["y"] + take["height"] <= decline["y"], "one button above the other, not overlapping"
    page.screenshot(path=ARTIFACTS / f"{lang}-offer-{kind}.png", full_page=True)
    buttons.first.tap()

    expect(page).to_have_url(re.compile(r"/b/[\w-]+/booked$"))
    expect(html).to_have_attribute("dir", direction)
    assert_fits_width(page)
    with app.app_context():
        assert db.session.scalar(select(Offer.status)) == OfferStatus.ACCEPTED
