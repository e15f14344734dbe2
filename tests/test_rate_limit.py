"""Booking is rate-limited per client, and the limit answers in the API's own JSON."""
from datetime import timedelta

import pytest

from scheduler.extensions import db

from . import factories


@pytest.fixture
def config_overrides():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_BOOKING": "2 per minute"}


def test_the_third_booking_in_a_minute_answers_429_json(app, client, clock):
    with app.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, hours=n), seats=5).id for n in range(3)]
        db.session.commit()
    codes = [client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "A", "phone": factories.mobile(),
                                                   "locale": "de"}).status_code for slot_id in ids]
    assert codes == [201, 201, 429]
    response = client.post("/api/v1/bookings", json={})
    assert response.status_code == 429 and response.json["code"] == "too_many_requests"
    assert client.get("/api/v1/offices").status_code == 200  # reading is not limited


@pytest.fixture
def behind_proxy(database_uri, clock):
    from scheduler import create_app

    from .conftest import base_config

    app = create_app(config=base_config(database_uri, CLOCK=clock, TRUSTED_PROXIES=1,
                                        RATELIMIT_ENABLED=True, RATELIMIT_BOOKING="1 per minute"))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_behind_a_proxy_each_resident_has_a_limit_of_their_own(behind_proxy, clock):
    with behind_proxy.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, hours=n), seats=5).id for n in range(3)]
        db.session.commit()
    client = behind_proxy.test_client()

    def book(slot_id, address):
        return client.post("/api/v1/bookings", headers={"X-Forwarded-For": address}, json={
            "slot_id": slot_id, "name": "A", "phone": factories.mobile(), "locale": "de"}).status_code

    assert [book(ids[0], "203.0.113.7"), book(ids[1], "198.51.100.9"), book(ids[2], "203.0.113.7")] == [201, 201, 429]
