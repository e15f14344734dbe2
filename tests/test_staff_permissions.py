"""Who may use which staff route, checked on every route there is.

The routes are read from the application, so a route added later is checked too: anonymous
visitors are turned away (login form or 401), staff of office A get 403 for office B's
records and for administrators' actions, administrators get through. No route answers 5xx
to any of them, whatever the (empty) body.
"""
from datetime import timedelta

import pytest

from scheduler.extensions import db
from scheduler.models import Booking, WaitlistEntry

from . import factories

# Routes every logged-in account may use, whatever its offices.
OPEN_TO_STAFF = {"staff.index", "staff.logout", "staff_api.offices",
                 "staff.figures_all", "staff_api.figures_all"}  # each shows the offices of the account
NOT_CHECKED = {"staff.login"}  # the way in
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def world(app, clock):
    """Office A with Anna, office B with a booking, a wait, a closure; an administrator."""
    from scheduler.services import booking as bookings
    from scheduler.services import waitlist

    with app.app_context():
        office_a = factories.office()
        office_b = factories.office(slug="nordstadt", name="Nordstadt", address="Dortmund-Nordstadt")
        slot = factories.slot(office_b, clock.now + timedelta(days=3))
        booking = bookings.book(slot.id, name="Amina", phone=factories.mobile(), locale="ar", now=clock.now)
        entry = waitlist.join(office_b, name="Karim", phone=factories.mobile(), locale="fa"
                              if "fa" in app.config["LANGUAGES"] else "ar", now=clock.now)
        closure = factories.closure(office_b, (clock.now + timedelta(days=20)).date())
        anna = factories.staff("anna@example.org", offices=[office_a])
        admin = factories.staff("admin@example.org", admin=True)
        tokens = {"anna": factories.api_token(anna), "admin": factories.api_token(admin)}
        db.session.commit()
        ids = {"slug": office_b.slug, "booking": booking.id, "waitlist": entry.id,
               "closures": closure.id, "accounts": admin.id, "slot": slot.id}
    return ids, tokens


def staff_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("staff.", "staff_api.")) or rule.endpoint in NOT_CHECKED:
            continue
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield rule, method


def url_for_rule(rule, ids):
    """The rule's URL with office B's records: the segment before an id names its kind."""
    parts = []
    for segment in rule.rule.split("/"):
        if segment.startswith("<"):
            name = segment.strip("<>").split(":")[-1]
            if name == "slug":
                parts.append(ids["slug"])
                continue
            kind = parts[-1].rstrip("s") if parts else ""
            kind = {"booking": "booking", "closure": "closures", "account": "accounts",
                    "waitlist": "waitlist", "slot": "slot"}.get(kind, kind)
            parts.append(str(ids.get(kind, 1)))
        else:
            parts.append(segment)
    return "/".join(parts)


def call(client, method, url, api_token=None, csrf=None):
    if api_token is not None or url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        return client.open(url, method=method, json={} if method != "GET" else None, headers=headers)
    data = {"csrf_token": csrf} if csrf and method != "GET" else None
    return client.open(url, method=method, data=data)


def test_every_staff_route_turns_anonymous_visitors_away(app, world):
    ids, _tokens = world
    client = app.test_client()
    checked = 0
    for rule, method in staff_routes(app):
        response = call(client, method, url_for_rule(rule, ids))
        if rule.endpoint.startswith("staff_api."):
            assert response.status_code == 401, (method, rule.rule)
            assert response.is_json
        else:  # a form without the session's CSRF token is refused before anything else
            assert response.status_code in (303, 400), (method, rule.rule, response.status_code)
            if response.status_code == 303:
                assert response.headers["Location"].startswith("/staff/login")
        checked += 1
    assert checked >= 3


def test_staff_of_another_office_and_non_administrators_get_403(app, world):
    ids, tokens = world
    page_client = app.test_client()
    factories.log_in(page_client, "anna@example.org")
    csrf = factories.csrf_token(page_client.get("/staff/").get_data(as_text=True))
    api_client = app.test_client()
    for rule, method in staff_routes(app):
        if rule.endpoint in OPEN_TO_STAFF:
            continue
        url = url_for_rule(rule, ids)
        if rule.endpoint.startswith("staff_api."):
            response = call(api_client, method, url, api_token=tokens["anna"])
            assert response.is_json, (method, rule.rule)
        else:
            response = call(page_client, method, url, csrf=csrf)
        assert response.status_code == 403, (method, rule.rule, response.status_code)


def test_administrators_get_through_every_route_and_nothing_answers_5xx(app, world):
    ids, tokens = world
    page_client = app.test_client()
    factories.log_in(page_client, "admin@example.org")
    csrf = factories.csrf_token(page_client.get("/staff/").get_data(as_text=True))
    api_client = app.test_client()
    for rule, method in staff_routes(app):
        if rule.endpoint in {"staff.logout"}:
            continue
        url = url_for_rule(rule, ids)
        if rule.endpoint.startswith("staff_api."):
            response = call(api_client, method, url, api_token=tokens["admin"])
        else:
            response = call(page_client, method, url, csrf=csrf)
        assert response.status_code not in (401, 403), (method, rule.rule, response.status_code)
        assert response.status_code < 500, (method, rule.rule, response.status_code)
    with app.app_context():  # the administrator's empty requests changed no resident's record
        assert db.session.get(Booking, ids["booking"]).status == "booked"
        assert db.session.get(WaitlistEntry, ids["waitlist"]).status == "waiting"
