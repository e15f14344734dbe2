"""Booking, changing, cancelling and waiting in German, Arabic, Persian and Ukrainian, on a
390 and a 320 pixel wide phone, without JavaScript; axe-core checks every page on the way.

axe-core comes from node_modules/ (``npm ci``, run by scripts/test). The resident's phone has
JavaScript off, where axe cannot run (it waits on timers), so every page the resident reached
is copied, as shown, into a second page of the same size and origin that runs it. Screenshots
of every step land in test-artifacts/ (git-ignored).
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.config import ROOT
from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Office, WaitlistEntry

from .conftest import IN_CI
from .test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    PHONE,
    assert_fits_width,
    assert_tall_enough,
    browser,
    live_server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True),
]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RTL = {"ar", "fa"}


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm ci` (scripts/test does)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text()


def check_accessibility(page, axe_source):
    """No serious or critical axe-core violation on the page as it is shown."""
    page.wait_for_load_state("load")
    checker = page.context.checker
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    shown = page.content()
    # Served from the same origin, so that the stylesheet loads as it did for the resident.
    checker.route(f"{origin}/axe-check", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=shown))
    checker.goto(f"{origin}/axe-check")
    checker.unroute(f"{origin}/axe-check")
    checker.evaluate("source => { (0, eval)(source); }", axe_source)
    violations = checker.evaluate("""() => axe.run(document, {resultTypes: ["violations"]}).then(
        result => result.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).join(", ")}`))""")
    assert violations == [], page.url


@pytest.fixture
def phone_page(browser, live_server):
    contexts = []

    def new(width):
        options = {**PHONE, "viewport": {"width": width, "height": 800}}
        context = browser.new_context(base_url=live_server, java_script_enabled=False, **options)
        checking = browser.new_context(java_script_enabled=True, bypass_csp=True, **options)
        for each in (context, checking):
            each.set_default_timeout(10_000)
            contexts.append(each)
        context.checker = checking.new_page()
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


def step(page, axe_source, name):
    """What every page on the way must be: in the language, fitting, accessible; shot."""
    assert_fits_width(page)
    check_accessibility(page, axe_source)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize("width", [390, 320])
@pytest.mark.parametrize("lang", ["de", "ar", "fa", "uk"])
def test_book_change_cancel_and_wait_in_the_residents_language(phone_page, app, axe_source, lang, width):
    ARTIFACTS.mkdir(exist_ok=True)
    page = phone_page(width)
    html = page.locator("html")
    shot = f"{lang}-{width}"

    page.goto(f"/?lang={lang}")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", "rtl" if lang in RTL else "ltr")
    step(page, axe_source, f"{shot}-1-offices")
    page.locator("a.card").first.tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop$"))
    step(page, axe_source, f"{shot}-2-times")
    assert_tall_enough(page.locator("a.time"))
    page.locator("section.day a.time").first.tap()

    expect(page).to_have_url(re.compile(r"/o/lanstrop/book/\d+$"))
    page.locator("form button[type=submit]").tap()  # empty: the mistakes are shown
    expect(page.locator("[aria-invalid=true]")).to_have_count(2)
    step(page, axe_source, f"{shot}-3-mistakes")
    page.locator("input[name=name]").fill("Amina" + "x" * 40)  # a long name without spaces
    page.locator("input[name=phone]").fill("0151 23456789")
    page.locator("form button[type=submit]").tap()

    expect(page).to_have_url(re.compile(r"/b/[\w-]+/booked$"))
    expect(html).to_have_attribute("lang", lang)
    step(page, axe_source, f"{shot}-4-booked")
    page.locator("p.link a").tap()

    expect(page).to_have_url(re.compile(r"/b/[\w-]+$"))
    token = page.url.rsplit("/", 1)[-1]
    first_slot = booking_of(app, token).slot_id
    step(page, axe_source, f"{shot}-5-manage")
    page.locator(f"a[href='/b/{token}/change']").tap()

    expect(page).to_have_url(re.compile(rf"/b/{token}/change$"))
    assert_tall_enough(page.locator("label.time-choice"))
    step(page, axe_source, f"{shot}-6-change")
    page.locator("label.time-choice").nth(1).tap()
    page.locator("main form button[type=submit]").tap()

    expect(page).to_have_url(re.compile(rf"/b/{token}\?changed=1$"))
    expect(page.get_by_role("status")).to_be_visible()
    assert booking_of(app, token).slot_id != first_slot
    step(page, axe_source, f"{shot}-7-changed")
    page.locator("form.cancel button").tap()

    expect(page.locator("input[name=confirmed]")).to_have_count(1)  # "really?", on a page of its own
    assert booking_of(app, token).status == BookingStatus.BOOKED
    step(page, axe_source, f"{shot}-8-really")
    page.locator("form.cancel button").tap()

    expect(page).to_have_url(re.compile(rf"/b/{token}$"))
    expect(page.get_by_role("status")).to_be_visible()
    assert booking_of(app, token).status == BookingStatus.CANCELLED
    step(page, axe_source, f"{shot}-9-cancelled")

    page.goto("/o/lanstrop/waitlist")
    expect(html).to_have_attribute("lang", lang)  # the cookie keeps the choice
    expect(page.locator("section.free-now a.time").first).to_be_visible()  # free times first
    step(page, axe_source, f"{shot}-10-join")
    page.locator("input[name=name]").fill("Olena Koval")
    page.locator("input[name=phone]").fill("0151 87654321")
    page.locator(".checks input[value='3']").check()
    page.locator("main form button[type=submit]").tap()

    expect(page).to_have_url(re.compile(r"/w/[\w-]+$"))
    step(page, axe_source, f"{shot}-11-waiting")
    with app.app_context():
        entry = db.session.scalar(select(WaitlistEntry))
        assert (entry.locale, entry.status) == (lang, "waiting")


def booking_of(app, token):
    with app.app_context():
        found = db.session.scalar(select(Booking).where(Booking.token == token))
        db.session.expunge_all()
        return found


def test_the_office_list_says_which_languages_are_spoken(phone_page, app, axe_source):
    with app.app_context():
        thursday = next(rule for rule in db.session.scalar(select(Office)).hours if rule.weekday == 3)
        thursday.languages = "fa,uk"
        db.session.commit()
    page = phone_page(390)
    page.goto("/?lang=fa")
    expect(page.locator(".languages-spoken")).to_contain_text("اوکراینی")
    page.goto("/o/lanstrop")
    page.locator("a.filter").tap()
    expect(page).to_have_url(re.compile(r"/o/lanstrop\?language=fa$"))
    expect(page.locator("a.time").first).to_be_visible()
    check_accessibility(page, axe_source)
