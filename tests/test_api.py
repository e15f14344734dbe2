"""The JSON API of design.md: every answer JSON, errors included."""
from datetime import timedelta

import pytest
from icalendar import Calendar

from scheduler.extensions import db

from . import factories


@pytest.fixture
def slot_id(app, clock):
    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=2)
        factories.slot(office, clock.now + timedelta(days=3, minutes=30), seats=2)
        db.session.commit()
        return slot.id


def booking_request(slot_id, **fields):
    return {"slot_id": slot_id, "name": "Olena Kovalenko", "phone": factories.mobile(),
            "locale": "en", **fields}


def test_offices_are_listed_with_slug_name_address_and_languages(client, slot_id):
    response = client.get("/api/v1/offices")
    assert response.status_code == 200
    assert response.json["offices"] == [{
        "slug": "lanstrop", "name": "Lanstrop", "address": "Nadlerweg 1, 44329 Dortmund",
        "languages": ["de", "en", "ar"], "timezone": "Europe/Berlin", "note": "",
    }]


def test_slots_carry_local_times_with_offset_and_free_seats(client, slot_id):
    response = client.get("/api/v1/offices/lanstrop/slots?from=2026-11-26&to=2026-11-26")
    assert response.status_code == 200
    first, second = response.json["slots"]
    assert first == {"id": slot_id, "start": "2026-11-26T09:00:00+01:00",
                     "end": "2026-11-26T09:30:00+01:00", "seats": 2, "available": 2,
                     "languages": ["de", "en", "ar"]}
    assert second["start"] == "2026-11-26T09:30:00+01:00"


def test_slots_default_to_the_next_two_weeks(client, slot_id):
    body = client.get("/api/v1/offices/lanstrop/slots").json
    assert (body["from"], body["to"]) == ("2026-11-23", "2026-12-07")
    assert len(body["slots"]) == 2


def test_a_full_slot_shows_no_available_seats(client, slot_id):
    for _ in range(2):
        assert client.post("/api/v1/bookings", json=booking_request(slot_id)).status_code == 201
    slots = client.get("/api/v1/offices/lanstrop/slots").json["slots"]
    assert [s["available"] for s in slots] == [0, 2]


@pytest.mark.parametrize("query", ["from=26.11.2026", "to=tomorrow", "from=2026-12-01&to=2026-11-01",
                                   "from=2026-01-01&to=2026-12-31"])
def test_bad_slot_ranges_answer_422_with_fields(client, slot_id, query):
    response = client.get(f"/api/v1/offices/lanstrop/slots?{query}")
    assert response.status_code == 422
    assert response.json["fields"]


def test_an_unknown_office_answers_404_json(client, slot_id):
    response = client.get("/api/v1/offices/nowhere/slots")
    assert response.status_code == 404
    assert response.is_json and response.json["code"] == "not_found"


def test_booking_answers_201_with_token_status_times_and_office(client, slot_id):
    response = client.post("/api/v1/bookings", json=booking_request(
        slot_id, phone="+49 151 11122233", email="olena@example.org", topic="Kita", notify_earlier=True))
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "booked" and len(body["token"]) >= 16
    assert (body["start"], body["end"]) == ("2026-11-26T09:00:00+01:00", "2026-11-26T09:30:00+01:00")
    assert body["office"]["slug"] == "lanstrop"
    assert (body["phone"], body["email"], body["topic"], body["notify_earlier"]) == (
        "+4915111122233", "olena@example.org", "Kita", True)
    assert client.get(f"/api/v1/bookings/{body['token']}").json == body


def test_booking_without_locale_takes_the_request_language(client, slot_id):
    request = booking_request(slot_id)
    del request["locale"]
    response = client.post("/api/v1/bookings", json=request, headers={"Accept-Language": "ar,en;q=0.5"})
    assert response.status_code == 201 and response.json["locale"] == "ar"


def test_the_last_seat_goes_once_then_409(client, slot_id):
    assert client.post("/api/v1/bookings", json=booking_request(slot_id)).status_code == 201
    assert client.post("/api/v1/bookings", json=booking_request(slot_id)).status_code == 201
    response = client.post("/api/v1/bookings", json=booking_request(slot_id))
    assert response.status_code == 409
    assert response.json["code"] == "slot_full" and response.json["error"]


def test_a_slot_in_the_past_answers_409(client, slot_id, clock):
    clock.advance(days=4)
    response = client.post("/api/v1/bookings", json=booking_request(slot_id))
    assert (response.status_code, response.json["code"]) == (409, "slot_past")


def test_an_unknown_slot_answers_404(client, slot_id):
    response = client.post("/api/v1/bookings", json=booking_request(slot_id + 1000))
    assert (response.status_code, response.json["code"]) == (404, "not_found")


def test_a_second_booking_at_the_office_answers_409(client, slot_id):
    phone = factories.mobile()
    assert client.post("/api/v1/bookings", json=booking_request(slot_id, phone=phone)).status_code == 201
    response = client.post("/api/v1/bookings", json=booking_request(slot_id + 1, phone=phone))
    assert (response.status_code, response.json["code"]) == (409, "too_many_bookings")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"", b"\"text\"", b"\xff\xfe"])
def test_malformed_json_answers_400(client, slot_id, body):
    response = client.post("/api/v1/bookings", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == "bad_json"


@pytest.mark.parametrize(("fields", "wrong"), [
    ({"slot_id": "1"}, {"slot_id"}),
    ({"slot_id": True}, {"slot_id"}),
    ({"slot_id": 1.5}, {"slot_id"}),
    ({"name": 42}, {"name"}),
    ({"phone": ["0151"]}, {"phone"}),
    ({"notify_earlier": "yes"}, {"notify_earlier"}),
    ({"email": {}}, {"email"}),
    ({"slot_id": None, "name": None}, {"slot_id", "name"}),
])
def test_wrong_types_answer_422_with_fields(client, slot_id, fields, wrong):
    response = client.post("/api/v1/bookings", json={**booking_request(slot_id), **fields})
    assert response.status_code == 422
    assert set(response.json["fields"]) == wrong


def test_invalid_values_answer_422_in_the_requested_language(client, slot_id):
    response = client.post("/api/v1/bookings", json=booking_request(slot_id, phone="123", name=" "),
                           headers={"Accept-Language": "de"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"phone", "name"}
    assert response.json["fields"]["name"] == "Bitte geben Sie Ihren Namen ein."


def test_cancel_is_idempotent_and_frees_the_seat(client, slot_id):
    token = client.post("/api/v1/bookings", json=booking_request(slot_id)).json["token"]
    for _ in range(2):
        response = client.post(f"/api/v1/bookings/{token}/cancel")
        assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert client.get("/api/v1/offices/lanstrop/slots").json["slots"][0]["available"] == 2


def test_cancelling_after_the_start_answers_409(client, slot_id, clock):
    token = client.post("/api/v1/bookings", json=booking_request(slot_id)).json["token"]
    clock.advance(days=4)
    response = client.post(f"/api/v1/bookings/{token}/cancel")
    assert (response.status_code, response.json["code"]) == (409, "too_late")


def test_the_calendar_file_is_text_calendar(client, slot_id):
    token = client.post("/api/v1/bookings", json=booking_request(slot_id)).json["token"]
    response = client.get(f"/api/v1/bookings/{token}/ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Nadlerweg 1, 44329 Dortmund"


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/bookings/unknown-token"),
    ("post", "/api/v1/bookings/unknown-token/cancel"),
    ("get", "/api/v1/bookings/unknown-token/ics"),
    ("get", "/api/v1/no-such-endpoint"),
    ("delete", "/api/v1/offices"),
    ("get", "/api/v1/bookings"),
])
def test_errors_are_json_never_html(client, slot_id, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in (404, 405)
    assert response.is_json and response.json["error"]
    assert set(response.json) == {"error", "code", "fields"}


def test_an_unexpected_failure_answers_json_500_not_html(app, client, slot_id, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("scheduler.services.slots.active_offices", explode)
    response = client.get("/api/v1/offices")
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "disk on fire" not in response.get_data(as_text=True)


def test_the_api_needs_no_csrf_token(client, slot_id):
    assert client.post("/api/v1/bookings", json=booking_request(slot_id)).status_code == 201


def test_healthz_reports_the_database(client, slot_id):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "scheduler": {"status": "never_run"},
                             "sms": {"new_numbers_this_hour": 0, "budget": 60, "waiting": 0}}
