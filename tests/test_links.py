"""Every link on every page stays on this site, whatever path was asked for.

The language links were once built from the request path, so ``GET /%5Cevil.example``
linked to ``/\\evil.example?lang=de``, which browsers open as ``https://evil.example/``.
Each GET route of the URL map is rendered (resident pages, staff pages logged in, error
pages, odd paths) and every href, src and action resolved as a browser does.
"""
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from flask import url_for

from scheduler.extensions import db
from scheduler.services import booking, waitlist

from . import factories

SITE = "http://localhost"
ODD_PATHS = [
    "/%5Cevil.example", "//evil.example", "/%2F%2Fevil.example", "/%5C%5Cevil.example/x",
    "/o/%5Cevil.example", "/b/%5Cevil.example", "/o/lanstrop/book/%5Cevil", "/staff/%5Cevil.example",
    "/\\evil.example", "/%09/evil.example", "/o/lanstrop/waitlist/%5C", "//o/lanstrop", "///evil.example",
]


def get(client, path):
    """GET ``path`` as a server hands it on; the test client would read ``//host`` as a host."""
    route, _, query = path.partition("?")
    if route.startswith("//"):
        return client.get("/?" + query, environ_overrides={"PATH_INFO": route, "REQUEST_URI": path})
    return client.get(path)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("href", "src", "action") and value is not None]


def as_a_browser_resolves(page, link):
    """WHATWG URL parsing, the parts that matter here: tabs and newlines are dropped, and
    a backslash is a slash in http(s) URLs."""
    link = link.strip().replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urljoin(page, link)


def off_site_links(response, page):
    """The links of ``response`` (and its redirect) that lead away from ``SITE``."""
    links = [response.headers["Location"]] if "Location" in response.headers else []
    if response.mimetype == "text/html":
        parser = Links()
        parser.feed(response.get_data(as_text=True))
        links += parser.found
    host = urlsplit(SITE).netloc
    return [link for link in links if urlsplit(as_a_browser_resolves(page, link)).netloc != host]


@pytest.fixture
def records(app, clock):
    """One of everything a route can name."""
    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=3))
        held = booking.book(slot.id, name="Amina Khalil", phone=factories.mobile(), locale="ar", now=clock.now)
        entry = waitlist.join(office, name="Olena Koval", phone=factories.mobile(), locale="uk", now=clock.now)
        admin = factories.staff("admin@example.org", admin=True)
        db.session.commit()
        return {"slug": office.slug, "slot_id": slot.id, "booking_id": held.id, "entry_id": entry.id,
                "account_id": admin.id, "token": held.token, "filename": "style.css"}


def get_paths(app, records):
    """A path for each GET route of the application, its arguments filled from ``records``."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            with app.test_request_context():
                paths.append(url_for(rule.endpoint, **{name: records[name] for name in rule.arguments}))
    return paths


def test_every_page_links_only_to_this_site(app, records):
    browser = app.test_client()  # logged in as staff: the staff pages show, the residents' too
    factories.log_in(browser, "admin@example.org")
    paths = get_paths(app, records)
    assert len(paths) > 40 and "/staff/audit" in paths and "/o/lanstrop" in paths
    for path in paths + ODD_PATHS + [path + "?lang=ar" for path in ODD_PATHS]:
        with get(browser, path) as response:  # closes the static files it sends
            assert response.status_code < 500, path
            assert off_site_links(response, SITE + path) == [], path


@pytest.mark.parametrize("path", ["/%5Cevil.example", "/o/%5Cevil.example"])
def test_language_links_of_an_error_page_stay_on_the_site(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "\\evil" not in html and "//evil" not in html
    assert 'href="/?lang=de"' in html or 'href="/o/%5Cevil.example?lang=de"' in html


def test_the_check_itself_sees_a_backslash_link_as_another_site():
    assert urlsplit(as_a_browser_resolves(SITE + "/x", "/\\evil.example?lang=de")).netloc == "evil.example"
