"""Hostile input never gets a 5xx: each case of the fuzzing report, as a table.

Every case runs on SQLite and PostgreSQL (PostgreSQL refuses NUL bytes and integers past its
columns; SQLite stores what it is given). The JSON API answers JSON, the webhooks TwiML, the
pages a page.
"""
from datetime import timedelta

import pytest
from twilio.request_validator import RequestValidator

from scheduler.extensions import db

from . import factories

PUBLIC = "https://termine.example.org"
TOKEN = "secret"
JSON, HTML, XML = "application/json", "text/html", "text/xml"
NUL = "\x00"
PHONE = "0151 23456789"
BIG = 2**31
DEEP = "[" * 990 + "]" * 990


@pytest.fixture
def config_overrides():
    return {"TWILIO_AUTH_TOKEN": TOKEN, "WTF_CSRF_ENABLED": False, "MAX_CONTENT_LENGTH": 64 * 1024}


@pytest.fixture
def slot(app, clock):
    """Lanstrop with one free slot, named ``{slot}`` in the cases."""
    with app.app_context():
        slot = factories.slot(factories.office(), clock.now + timedelta(days=3))
        db.session.commit()
        return slot.id


@pytest.fixture
def admin(app, slot):
    """An administrator's API token (the staff pages log in as the same account)."""
    with app.app_context():
        token = factories.api_token(factories.staff("admin@example.org", admin=True))
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}


def booking(**fields):
    return {"slot_id": "{slot}", "name": "Amina Khalil", "phone": PHONE, **fields}


def waiting(**fields):
    return {"office": "lanstrop", "name": "Amina Khalil", "phone": PHONE, **fields}


# (method, path, body, expected status, expected content type). A dict body is sent as JSON,
# a str as a raw JSON body, ("form", dict) as a form.
API_CASES = [
    ("GET", "/api/v1/bookings/ab\x00cd", None, 404, JSON),
    ("GET", "/api/v1/waitlist/ab%00cd", None, 404, JSON),
    ("POST", "/api/v1/offers/ab%00cd/accept", {}, 404, JSON),
    ("POST", "/api/v1/bookings/ab%1Fcd/cancel", {}, 404, JSON),
    ("GET", "/api/v1/offices/lan%00strop/slots", None, 404, JSON),
    ("GET", "/api/v1/offices/lanstrop/slots?from=9999-12-31", None, 422, JSON),
    ("GET", "/api/v1/offices/lanstrop/slots?from=0001-01-01", None, 422, JSON),
    ("GET", "/api/v1/offices/lanstrop/slots?to=9999-12-31", None, 422, JSON),
    ("GET", "/api/v1/offices/lanstrop/slots?language=%00", None, 400, JSON),
    ("POST", "/api/v1/bookings", booking(slot_id=BIG), 404, JSON),
    ("POST", "/api/v1/bookings", booking(slot_id=10**30), 404, JSON),
    ("POST", "/api/v1/bookings", booking(slot_id=-BIG), 404, JSON),
    ("POST", "/api/v1/bookings", booking(name="Amina" + NUL), 422, JSON),
    ("POST", "/api/v1/bookings", booking(phone="0151" + NUL + "23456789"), 422, JSON),
    ("POST", "/api/v1/bookings", booking(email="amina@example.org" + NUL), 422, JSON),
    ("POST", "/api/v1/bookings", booking(topic="rent" + NUL), 422, JSON),
    ("POST", "/api/v1/bookings", booking(topic="rent\x1b[2J"), 422, JSON),
    ("POST", "/api/v1/bookings", booking(locale="de" + NUL), 422, JSON),
    ("POST", "/api/v1/bookings", '{"slot_id": {slot}, "name": "\\ud800", "phone": "0151 23456789"}', 422, JSON),
    ("POST", "/api/v1/bookings", DEEP, 400, JSON),
    ("POST", "/api/v1/bookings", '{"slot_id": ', 400, JSON),
    ("POST", "/api/v1/bookings", "[1, 2]", 400, JSON),
    ("POST", "/api/v1/bookings", '"text"', 400, JSON),
    ("POST", "/api/v1/bookings", "\udcff", 400, JSON),
    ("POST", "/api/v1/bookings", "1" * 5000, 400, JSON),
    ("POST", "/api/v1/bookings/ab%00cd/change", {"slot_id": 1}, 404, JSON),
    ("POST", "/api/v1/waitlist", waiting(office="lan" + NUL), 422, JSON),
    ("POST", "/api/v1/waitlist", waiting(before="9999-12-31"), 422, JSON),
    ("POST", "/api/v1/waitlist", waiting(before="0001-01-01"), 422, JSON),
    ("POST", "/api/v1/waitlist", waiting(weekdays=[10**30]), 422, JSON),
    ("POST", "/api/v1/waitlist", waiting(earliest=NUL), 422, JSON),
    ("POST", "/api/v1/waitlist", waiting(name="\ud800"), 422, JSON),
    ("POST", "/api/v1/waitlist", DEEP, 400, JSON),
    ("DELETE", "/api/v1/offices", None, 405, JSON),
    ("GET", "/api/v1/no-such-thing", None, 404, JSON),
    ("POST", "/api/v1/bookings", "[" + "0," * 40_000 + "0]", 413, JSON),
]

PAGE_CASES = [
    ("GET", "/o/lanstrop/book/2147483648", None, 404, HTML),
    ("GET", "/o/lanstrop/book/" + "9" * 5000, None, 404, HTML),
    ("POST", "/o/lanstrop/book/2147483648", ("form", {"name": "A", "phone": PHONE}), 404, HTML),
    ("GET", "/o/lan%00strop", None, 404, HTML),
    ("GET", "/o/lanstrop/waitlist?x=%00", None, 400, HTML),
    ("GET", "/b/ab%00cd", None, 404, HTML),
    ("GET", "/w/ab%00cd", None, 404, HTML),
    ("GET", "/a/ab%00cd", None, 404, HTML),
    ("POST", "/a/ab%00cd/accept", ("form", {}), 404, HTML),
    ("POST", "/o/lanstrop/book/{slot}", ("form", {"name": "A" + NUL, "phone": PHONE}), 422, HTML),
    ("POST", "/o/lanstrop/book/{slot}", ("form", {"name": "A", "phone": PHONE + NUL}), 422, HTML),
    ("POST", "/o/lanstrop/book/{slot}", ("form", {"name": "A", "phone": PHONE, "email": NUL}), 422, HTML),
    ("POST", "/o/lanstrop/waitlist", ("form", {"name": "A", "phone": PHONE, "topic": NUL}), 422, HTML),
    ("POST", "/o/lanstrop/waitlist", ("form", {"name": "A", "phone": PHONE, "before": "9999-12-31"}), 422, HTML),
    ("GET", "/%5Cevil.example", None, 404, HTML),
]

STAFF_CASES = [
    ("GET", "/api/v1/staff/offices/lanstrop/agenda?from=9999-12-31", None, 422, JSON),
    ("GET", "/api/v1/staff/offices/lanstrop/agenda?from=0001-01-01", None, 422, JSON),
    ("GET", "/api/v1/staff/offices/lan%00strop/agenda", None, 404, JSON),
    ("POST", "/api/v1/staff/bookings/2147483648/cancel", {"reason": "x"}, 404, JSON),
    ("POST", "/api/v1/staff/offices/lanstrop/bookings", {"slot_id": BIG, "name": "A", "locale": "de"}, 404, JSON),
    ("POST", "/api/v1/staff/offices/lanstrop/bookings", {"slot_id": "{slot}", "name": "A" + NUL}, 422, JSON),
    ("POST", "/api/v1/staff/offices/lanstrop/closures", {"start_date": "2026-12-24", "reason": NUL}, 422, JSON),
    ("POST", "/api/v1/staff/offices/lanstrop/simulate", DEEP, 400, JSON),
    ("GET", "/api/v1/staff/audit?before_id=99999999999999999999", None, 422, JSON),
    ("GET", "/api/v1/staff/audit?limit=²", None, 422, JSON),
    ("GET", "/api/v1/staff/audit?from=9999-12-31", None, 422, JSON),
    ("GET", "/api/v1/staff/offices/lanstrop/figures?from=0001-01-01", None, 422, JSON),
    ("GET", "/api/v1/staff/figures?to=9999-12-31", None, 422, JSON),
    ("GET", "/api/v1/staff/residents?phone=0151%00", None, 400, JSON),
    ("GET", "/staff/offices/lanstrop/agenda?date=9999-12-31", None, 200, HTML),
    ("GET", "/staff/offices/lanstrop/walk-in?slot=99999999999999999999", None, 200, HTML),
    ("GET", "/staff/offices/lanstrop/waitlist?entry=2147483648", None, 200, HTML),
    ("GET", "/staff/offices/lanstrop/figures?from=0001-01-01&to=0001-01-02", None, 422, HTML),
    ("GET", "/staff/bookings/2147483648/cancel", None, 404, HTML),
    ("POST", "/staff/offices/lanstrop/closures", ("form", {"start_date": "2026-12-24", "reason": NUL}), 422, HTML),
    ("POST", "/staff/offices/lanstrop/settings", ("form", {"name": "Lanstrop" + NUL, "note": ""}), 422, HTML),
    ("POST", "/staff/accounts/new", ("form", {"email": "x@example.org" + NUL, "password": "p" * 20}), 422, HTML),
    ("GET", "/staff/audit?action=x&action=%00", None, 400, HTML),
    ("GET", "/staff/offices/lanstrop/simulate?more=99999999999999999999", None, 200, HTML),
    ("GET", "/staff/offices/lanstrop/simulate?more=" + "9" * 5000, None, 200, HTML),
    ("GET", "/api/v1/staff/audit?limit=" + "9" * 5000, None, 422, JSON),
]


def send(client, method, path, body, slot, **kwargs):
    path = path.replace("{slot}", str(slot))
    if isinstance(body, dict):
        body = {key: slot if value == "{slot}" else value for key, value in body.items()}
        return client.open(path, method=method, json=body, **kwargs)
    if isinstance(body, tuple):
        return client.open(path, method=method, data=body[1], **kwargs)
    if isinstance(body, str):
        data = body.replace("{slot}", str(slot)).encode("utf-8", "surrogatepass")
        return client.open(path, method=method, data=data, content_type=JSON, **kwargs)
    return client.open(path, method=method, **kwargs)


def check(response, status, content_type):
    assert (response.status_code, response.mimetype) == (status, content_type), response.get_data(as_text=True)[:300]
    if content_type == JSON:
        assert set(response.json) >= {"error", "code", "fields"}
        if status == 422:
            assert response.json["fields"]


@pytest.mark.parametrize(("method", "path", "body", "status", "content_type"), API_CASES + PAGE_CASES)
def test_residents_hostile_input_is_refused_without_a_server_error(client, slot, method, path, body, status,
                                                                    content_type):
    check(send(client, method, path, body, slot), status, content_type)


@pytest.mark.parametrize(("method", "path", "body", "status", "content_type"), STAFF_CASES)
def test_staff_hostile_input_is_refused_without_a_server_error(app, slot, admin, method, path, body, status,
                                                               content_type):
    if path.startswith("/api/"):
        response = send(app.test_client(), method, path, body, slot, headers=admin)
    else:
        browser = app.test_client()  # CSRF is off in this module: log in without its token
        browser.post("/staff/login", data={"email": "admin@example.org", "password": factories.STAFF_PASSWORD})
        response = send(browser, method, path, body, slot)
    check(response, status, content_type)


def test_a_form_error_names_the_control_character_next_to_its_field(client, slot):
    response = client.post(f"/o/lanstrop/book/{slot}?lang=en", data={"name": "A" + NUL, "phone": PHONE})
    assert response.status_code == 422
    assert "This text contains characters that are not allowed." in response.get_data(as_text=True)


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, client, slot):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/api/v1/bookings", json=booking(slot_id=slot, topic="x" * 2000))
    assert (response.status_code, response.json["code"]) == (413, "request_entity_too_large")
    assert client.post("/api/v1/bookings", json=booking(slot_id=slot)).status_code == 201


def signed(client, path, params, token=TOKEN):
    signature = RequestValidator(token).compute_signature(PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def inbound(**fields):
    return {"MessageSid": "SM" + "1" * 32, "From": "+4915123456789", "To": "+4923150000000",
            "Body": "STOP", **fields}


def report(**fields):
    return {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", **fields}


# (path, form, token, expected status): signed with ``token``; every answer is TwiML.
WEBHOOK_CASES = [
    ("/sms/inbound", inbound(From="whatsapp:+4915123456789"), TOKEN, 200),
    ("/sms/inbound", inbound(MessageSid="SM" + "3" * 70), TOKEN, 200),
    ("/sms/inbound", inbound(From="+49151" + NUL), TOKEN, 200),
    ("/sms/inbound", inbound(MessageSid="SM" + NUL), TOKEN, 200),
    ("/sms/inbound", inbound(Body="STOP" + NUL), TOKEN, 200),
    ("/sms/inbound", inbound(), "forged", 403),
    ("/sms/status?message=2147483648", report(), TOKEN, 200),
    ("/sms/status?message=" + "9" * 40, report(), TOKEN, 200),
    ("/sms/status?message=%00", report(), TOKEN, 400),
    ("/sms/status", report(MessageSid="SM" + "4" * 300), TOKEN, 200),
    ("/sms/status", report(MessageSid="SM" + NUL), TOKEN, 200),
    ("/sms/status", report(MessageStatus="delivered" + NUL, ErrorCode=NUL), TOKEN, 200),
    ("/sms/status", report(), "forged", 403),
    ("/sms/nothing", report(), TOKEN, 404),
]


@pytest.mark.parametrize(("path", "params", "token", "status"), WEBHOOK_CASES)
def test_webhooks_answer_twiml_whatever_they_are_sent(client, path, params, token, status):
    response = signed(client, path, params, token)
    assert (response.status_code, response.mimetype) == (status, XML)
    assert "<Response" in response.get_data(as_text=True)


def test_a_webhook_answers_twiml_to_a_get_too(client):
    response = client.get("/sms/inbound")
    assert (response.status_code, response.mimetype) == (405, XML)
